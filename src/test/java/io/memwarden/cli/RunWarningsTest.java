package io.memwarden.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.memwarden.cgroup.HostFacts;
import io.memwarden.input.InputException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code memwarden run} says its warnings before surprises (issue #18 item 2) on stderr, one line each, before any
 * container starts: the issue's own command on a node without swap. The run is stopped by a later usage check
 * ({@code --loops bogus}), so nothing is created.
 */
class RunWarningsTest {

    @Test
    void theDemoOnANodeWithoutSwapWarnsBeforeAnythingStarts(@TempDir Path dir) throws Exception {
        HostFacts host;
        try {
            host = NodeSource.host();
        } catch (InputException e) {
            assumeTrue(false, "no cgroup memory controller here: " + e.getMessage());
            return;
        }
        Path node = dir.resolve("node.yaml");
        Files.writeString(node, "memoryCapacity: 16Gi\nswapCapacity: 0\ncgroupVersion: "
                + host.memoryController().number() + "\nswapControllerAvailable: true\npageSize: 4096\n");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), "run",
                "-f", "examples/demo/pod.yaml", "--config", "examples/demo/memwarden.yaml",
                "--kubelet-config", "examples/demo/kubelet-config.yaml", "--node", node.toString(),
                "--logs", dir.resolve("logs").toString(), "--loops", "bogus");
        assertThat(code).isNotEqualTo(ExitCodes.OK);
        List<String> lines = err.toString().lines().toList();
        assertThat(lines).filteredOn(l -> l.startsWith("memwarden run: warning: "))
                .singleElement().asString()
                .contains("2 container(s) may swap but the node has no swap on: demo/swap-demo/c0-lowprio (unlimited),"
                        + " demo/swap-demo/c1-normal (unlimited)")
                .contains("memwarden swap file create --size=");
        assertThat(out.toString()).isEmpty();
    }
}
