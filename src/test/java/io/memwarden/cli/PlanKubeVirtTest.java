package io.memwarden.cli;

import static io.memwarden.cli.PlanCommandTest.golden;
import static io.memwarden.cli.PlanCommandTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.cli.PlanCommandTest.Run;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.dataformat.yaml.YAMLMapper;

/** {@code memwarden plan} with KubeVirt VMs (docs/vm-nodes.md): golden output, errors, architecture. */
class PlanKubeVirtTest {
    static final String[] VMS = {"plan", "--node", "examples/node.yaml", "--kubelet-config",
            "examples/kubelet-config.yaml", "-f", "examples/vms.yaml", "--kubevirt-config", "examples/kubevirt.yaml"};

    static final JsonMapper JSON = JsonMapper.builder().build();

    @ParameterizedTest
    @CsvSource({"json, vms-v2.json", "table, vms-v2.txt"})
    void bundledVmExample(String format, String file) throws IOException {
        Run r = run(PlanCommandTest.with(VMS, "-o", format));
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).isEmpty();
        golden(file, r.out());
    }

    @Test
    void jsonContract() {
        JsonNode plan = JSON.readTree(run(PlanCommandTest.with(VMS, "-o", "json")).out());
        JsonNode web = plan.get("virtualMachines").get(0);
        assertThat(web.get("name").asString()).isEqualTo("web-vm");
        assertThat(web.get("architecture").asString()).isEqualTo("amd64");
        assertThat(web.get("guestMemoryBytes").asLong()).isEqualTo(2147483648L);
        assertThat(web.get("computeContainer").has("limitBytes")).isTrue();
        assertThat(web.get("computeContainer").get("limitBytes").isNull()).isTrue();
        long sum = 0;
        for (JsonNode v : web.get("overhead").values()) {
            sum += v.asLong();
        }
        assertThat(sum).isEqualTo(web.get("overheadBytes").asLong());
        assertThat(web.get("computeContainer").get("requestBytes").asLong())
                .isEqualTo(2147483648L + web.get("overheadBytes").asLong());
        // the launcher pods are planned like any pod
        assertThat(plan.get("pods").findValuesAsString("name")).contains("virt-launcher-web-vm", "virt-launcher-db-vm",
                "sidecar-tools");
        // the same data in YAML
        JsonNode yaml = YAMLMapper.builder().build().readTree(run(PlanCommandTest.with(VMS, "-o", "yaml")).out());
        assertThat(yaml).isEqualTo(plan);
    }

    @Test
    void noVmsNoVirtualMachinesField() {
        Run r = run(PlanCommandTest.with(PlanCommandTest.EXAMPLE, "-o", "json"));
        assertThat(JSON.readTree(r.out()).has("virtualMachines")).isFalse();
    }

    @Test
    void invalidVmsFailAloneNamingDocumentAndField() {
        Run r = run("plan", "--node", "examples/node.yaml", "-f", "src/test/resources/plan/bad-vms.yaml", "-o", "json");
        assertThat(r.code()).isEqualTo(ExitCodes.FAILURE);
        JsonNode plan = JSON.readTree(r.out());
        assertThat(plan.get("virtualMachines")).hasSize(1);
        assertThat(plan.get("virtualMachines").get(0).get("name").asString()).isEqualTo("good");
        assertThat(r.err()).contains("vms/no-memory: src/test/resources/plan/bad-vms.yaml document 1:"
                + " VirtualMachineInstance spec.domain.resources.requests.memory: no memory requested");
        assertThat(r.err()).contains("vms/guest-above-limit: src/test/resources/plan/bad-vms.yaml document 2:"
                + " VirtualMachineInstance spec.domain.memory.guest: 4294967296 must be less than or equal to the"
                + " memory limit 2147483648");
        assertThat(r.err()).contains("vms/bad-quantity: src/test/resources/plan/bad-vms.yaml document 3:"
                + " VirtualMachine spec.template.spec.domain.resources.requests.memory:");
    }

    @Test
    void arm64NodeAddsPflashUnlessTheVmiSaysOtherwise(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("vm.yaml");
        Files.writeString(f, """
                apiVersion: kubevirt.io/v1
                kind: VirtualMachineInstance
                metadata: {name: a}
                spec: {domain: {resources: {requests: {memory: 1Gi}}}}
                ---
                apiVersion: kubevirt.io/v1
                kind: VirtualMachineInstance
                metadata: {name: b}
                spec: {architecture: amd64, domain: {resources: {requests: {memory: 1Gi}}}}
                """);
        Run r = run("plan", "--node", "src/test/resources/plan/node-arm64.yaml", "-f", f.toString(), "-o", "json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode vms = JSON.readTree(r.out()).get("virtualMachines");
        assertThat(vms.get(0).get("architecture").asString()).isEqualTo("arm64");
        assertThat(vms.get(0).get("overhead").get("arm64Pflash").asLong()).isEqualTo(128L << 20);
        assertThat(vms.get(1).get("architecture").asString()).isEqualTo("amd64");
        assertThat(vms.get(1).get("overhead").has("arm64Pflash")).isFalse();
    }

    @Test
    void invalidKubeVirtConfigIsAUsageError(@TempDir Path dir) throws IOException {
        Path kv = dir.resolve("kv.yaml");
        Files.writeString(kv, """
                apiVersion: kubevirt.io/v1
                kind: KubeVirt
                spec: {configuration: {additionalGuestMemoryOverheadRatio: "0.5"}}
                """);
        Run r = run("plan", "--node", "examples/node.yaml", "-f", "examples/vms.yaml", "--kubevirt-config",
                kv.toString());
        assertThat(r.code()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains("field spec.configuration.additionalGuestMemoryOverheadRatio:").contains("\"0.5\"");
        Files.writeString(kv, """
                apiVersion: kubevirt.io/v1
                kind: KubeVirt
                spec: {configuration: {developerConfiguration: {memoryOvercommit: 5}}}
                """);
        r = run("plan", "--node", "examples/node.yaml", "-f", "examples/vms.yaml", "--kubevirt-config", kv.toString());
        assertThat(r.code()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains("field spec.configuration.developerConfiguration.memoryOvercommit: must be at"
                + " least 10");
    }

    @Test
    void invalidNodeArchitectureIsAUsageError(@TempDir Path dir) throws IOException {
        Path n = dir.resolve("node.yaml");
        Files.writeString(n, "memoryCapacity: 1Gi\ncgroupVersion: 2\narchitecture: sparc\n");
        Run r = run("plan", "--node", n.toString(), "-f", "examples/vms.yaml");
        assertThat(r.code()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains("field architecture: must be one of amd64, arm64, s390x, got \"sparc\"");
    }

    @Test
    void realLauncherPublishedOverheadDriftAndGuaranteedVmWithoutSwap() {
        Run r = run("plan", "--node", "examples/node.yaml", "--kubelet-config",
                "src/test/resources/plan/kubelet-swap.yaml", "--config", "src/test/resources/plan/unlimited-swap.yaml",
                "-f", "src/test/resources/plan/vm-launchers.yaml", "-o", "json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode plan = JSON.readTree(r.out());
        JsonNode web = plan.get("virtualMachines").get(0);
        assertThat(web.get("overheadBytes").asLong()).isEqualTo(285212672L);
        assertThat(web.get("computeContainer").get("requestBytes").asLong()).isEqualTo(2147483648L + 285212672L);
        assertThat(web.get("reasons").toString()).contains("warning: version drift: KubeVirt published overhead"
                + " 285212672 bytes, memwarden computes 306184192 bytes (difference -20971520)");
        // the real pod is planned, not a second rendering of it
        assertThat(plan.get("pods")).hasSize(2);
        assertThat(plan.get("pods").get(0).get("name").asString()).isEqualTo("virt-launcher-web-x7k2q");
        assertThat(plan.get("pods").get(1).get("name").asString()).isEqualTo("virt-launcher-db");
        // the Guaranteed VM gets no swap though the config gives every pod UnlimitedSwap, and the node warns
        for (JsonNode c : plan.get("pods").get(1).get("containers")) {
            assertThat(c.get("swapBehavior").asString()).isEqualTo("NoSwap");
            assertThat(c.get("cgroup").get("memory.swap.max").asString()).isEqualTo("0");
        }
        assertThat(plan.get("pods").get(0).get("containers").get(1).get("cgroup").get("memory.swap.max").asString())
                .isEqualTo("max");
        assertThat(plan.get("node").get("warnings").toString()).contains("VM vms/db (pod vms/virt-launcher-db"
                + " container compute, Guaranteed) would get swap UnlimitedSwap");
    }
}
