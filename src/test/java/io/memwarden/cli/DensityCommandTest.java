package io.memwarden.cli;

import static io.memwarden.cli.PlanCommandTest.golden;
import static io.memwarden.cli.PlanCommandTest.run;
import static io.memwarden.cli.PlanCommandTest.with;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code memwarden density} on the bundled example cluster (examples/density-*.yaml) against golden files, and its
 * errors. Regenerate the golden files with {@code -Dmemwarden.golden.update=true} and review the diff.
 */
class DensityCommandTest {
    static final String[] EXAMPLE = {"density", "--nodes", "examples/density-nodes.yaml", "-f",
            "examples/density-workloads.yaml", "--usage", "examples/density-usage.yaml", "--kubelet-config",
            "examples/kubelet-config.yaml"};

    @ParameterizedTest
    @CsvSource({"json, density-example.json", "table, density-example.txt", "yaml, density-example.yaml"})
    void bundledExample(String format, String file) throws IOException {
        PlanCommandTest.Run r = run(with(EXAMPLE, "-o", format));
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).isEmpty();
        golden(file, r.out());
    }

    @Test
    void theExampleShowsWhatTheDocsSay() {
        String out = run(with(EXAMPLE, "-o", "json")).out();
        assertThat(out).contains("\"name\": \"requested\"", "\"name\": \"right-sized\"", "\"name\": \"vm-overcommit\"")
                .contains("node(s) had untolerated taint {nvidia.com/gpu: true}", "node(s) were unschedulable",
                        "Insufficient memory", "node(s) didn't match Pod's node affinity/selector")
                // the bound coredns pod stays on node-a; the DaemonSet runs on the cordoned node-d too
                .contains("\"headroomBytes\"");
    }

    @Test
    void badObjectsAreTheirOwnErrorsAndTheRestIsPlanned(@TempDir Path dir) throws IOException {
        Path w = dir.resolve("w.yaml");
        Files.writeString(w, """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: bad, namespace: x}
                spec:
                  replicas: 2
                  template:
                    spec:
                      containers:
                      - name: c
                        resources: {requests: {memory: lots}}
                ---
                apiVersion: v1
                kind: Pod
                metadata: {name: good, namespace: x}
                spec:
                  tolerations: [{key: k, operator: Sometimes}]
                  containers: [{name: c}]
                ---
                apiVersion: v1
                kind: Pod
                metadata: {name: fine, namespace: x}
                spec:
                  containers: [{name: c, resources: {requests: {memory: 1Gi}}}]
                """);
        PlanCommandTest.Run r = run("density", "--nodes", "examples/density-nodes.yaml", "-f", w.toString(), "-o",
                "json");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.out()).contains("\"placed\": 1"); // x/fine, the one readable workload
        assertThat(r.err()).contains(w + " document 1 (Deployment spec.template): x/bad container c:"
                + " spec.containers[0].resources.requests.memory")
                .contains(w + " document 2: x/good spec.tolerations[0].operator: must be Equal or Exists, got"
                        + " \"Sometimes\"")
                .doesNotContain("Exception", "java.");
    }

    @Test
    void unreadableInputIsAUsageError(@TempDir Path dir) throws IOException {
        Path n = dir.resolve("n.yaml");
        Files.writeString(n, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n");
        PlanCommandTest.Run r = run("density", "--nodes", n.toString(), "-f", "examples/density-workloads.yaml");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).startsWith("memwarden density: " + n + " document 1: kind \"ConfigMap\" is not supported");
        PlanCommandTest.Run m = run(with(EXAMPLE, "--margin", "-5"));
        assertThat(m.code()).isEqualTo(2);
        assertThat(m.err()).contains("--margin: must be from 0 to 1000, got -5");
    }

    @Test
    void aNodeWithoutMemoryIsNamed(@TempDir Path dir) throws IOException {
        Path n = dir.resolve("n.yaml");
        Files.writeString(n, """
                apiVersion: v1
                kind: Node
                metadata: {name: empty}
                status: {capacity: {cpu: "4"}}
                ---
                apiVersion: v1
                kind: Node
                metadata: {name: ok}
                status: {capacity: {cpu: "4", memory: 8Gi}}
                """);
        PlanCommandTest.Run r = run("density", "--nodes", n.toString(), "-f", "examples/density-workloads.yaml",
                "-o", "json");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains(n + " document 1: node empty: status.allocatable.memory or"
                + " status.capacity.memory is required");
        assertThat(r.out()).contains("\"name\": \"ok\"").doesNotContain("\"name\": \"empty\"");
    }
}
