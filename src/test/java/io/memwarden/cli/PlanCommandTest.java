package io.memwarden.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * Golden-file tests of {@code memwarden plan}: the whole output for fixed inputs is compared with a reviewed file
 * under src/test/resources/golden. Regenerate after an intended change with {@code -Dmemwarden.golden.update=true}
 * and review the diff.
 */
class PlanCommandTest {
    static final Path GOLDEN = Path.of("src/test/resources/golden");
    static final boolean UPDATE = Boolean.getBoolean("memwarden.golden.update");

    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Run(code, out.toString(), err.toString());
    }

    static void golden(String name, String actual) throws IOException {
        Path f = GOLDEN.resolve(name);
        if (UPDATE) {
            Files.createDirectories(GOLDEN);
            Files.writeString(f, actual);
        }
        assertThat(f).as("golden file %s (regenerate with -Dmemwarden.golden.update=true)", f).exists();
        assertThat(actual).isEqualTo(Files.readString(f));
    }

    static final String[] EXAMPLE = {"plan", "--node", "examples/node.yaml", "--kubelet-config",
            "examples/kubelet-config.yaml", "--config", "examples/memwarden.yaml", "-f", "examples/pods.yaml",
            "--usage", "examples/usage.yaml"};

    static String[] with(String[] base, String... more) {
        String[] a = new String[base.length + more.length];
        System.arraycopy(base, 0, a, 0, base.length);
        System.arraycopy(more, 0, a, base.length, more.length);
        return a;
    }

    @ParameterizedTest
    @CsvSource({"json, examples-v2.json", "table, examples-v2.txt", "yaml, examples-v2.yaml"})
    void bundledExamples(String format, String golden) throws IOException {
        Run r = run(with(EXAMPLE, "-o", format));
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).isEmpty();
        golden(golden, r.out());
    }

    @Test
    void yamlAndJsonCarryTheSameData() {
        JsonNode json = JsonMapper.builder().build().readTree(run(with(EXAMPLE, "-o", "json")).out());
        JsonNode yaml = YAMLMapper.builder().build().readTree(run(with(EXAMPLE, "-o", "yaml")).out());
        assertThat(yaml).isEqualTo(json);
    }

    @Test
    void demoPodOnACgroupV1Node() throws IOException {
        Run r = run("plan", "--node", "src/test/resources/plan/node-v1.yaml", "--kubelet-config",
                "src/test/resources/plan/kubelet-swap.yaml", "--config", "src/test/resources/plan/memory-qos.yaml",
                "-f", "src/test/resources/plan/demo-pod.yaml", "-o", "json");
        assertThat(r.code()).as(r.err()).isZero();
        golden("demo-v1.json", r.out());
    }

    @Test
    void badPodsFailAloneWithExit1() throws IOException {
        Run r = run("plan", "--node", "examples/node.yaml", "--config", "src/test/resources/plan/memory-qos.yaml",
                "-f", "src/test/resources/plan/bad-pods.yaml", "-o", "json");
        assertThat(r.code()).isEqualTo(1);
        golden("bad-pods.json", r.out());
        assertThat(r.err()).contains("default/typo-quantity container app: spec.containers[0].resources.limits.memory:"
                + " \"1GB\" is not a Kubernetes quantity");
        assertThat(r.err()).contains("kubelet would refuse to start"); // swap on, failSwapOn default true
    }

    @Test
    void invalidNodeFileIsAUsageErrorNamingFileFieldAndValue() {
        Run r = run("plan", "--node", "src/test/resources/plan/bad-node.yaml", "-f", "examples/pods.yaml");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).isEqualTo("memwarden plan: src/test/resources/plan/bad-node.yaml: field memoryCapacity:"
                + " \"16 GB\" is not a Kubernetes quantity (expected a number with an optional suffix such as Ki, Mi,"
                + " Gi, k, M, G, m or e3)\n");
    }

    @Test
    void usageErrorsExit2() {
        assertThat(run("plan", "-f", "examples/pods.yaml").code()).isEqualTo(2);
        assertThat(run("plan", "--node", "examples/node.yaml", "-f", "examples/pods.yaml", "-o", "xml").code()).isEqualTo(2);
        assertThat(run("plan", "--node", "examples/node.yaml", "-f", "does/not/exist.yaml").code()).isEqualTo(2);
        assertThat(run("nosuchcommand").code()).isEqualTo(2);
    }

    @Test
    void usageForAnUnknownPodIsAnInputError() throws IOException {
        Path usage = Files.createTempFile("usage", ".yaml");
        Files.writeString(usage, "pods: [{namespace: x, name: y, workingSet: 1Gi}]\n");
        Run r = run("plan", "--node", "examples/node.yaml", "-f", "examples/pods.yaml", "--usage", usage.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("x/y");
        Files.delete(usage);
    }

    @Test
    void helpAndVersion() {
        Run help = run("--help");
        assertThat(help.code()).isZero();
        assertThat(help.out()).contains("plan").contains("Usage: memwarden");
        Run v = run("--version");
        assertThat(v.code()).isZero();
        assertThat(v.out()).startsWith("memwarden ");
    }
}
