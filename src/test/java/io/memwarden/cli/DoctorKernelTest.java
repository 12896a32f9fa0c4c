package io.memwarden.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code memwarden doctor -o json} on this machine's kernel: what it reports agrees with facts read here
 * independently (cgroup version from /proc/self/cgroup, swap from /proc/swaps, the kernel release, PSI, KSM, whether
 * /dev/kmsg opens), and the
 * pass changed nothing that lasts (mounts outside /tmp, swaps, KSM, the top memory cgroups but memwarden-* test ones,
 * which concurrent test runs create). Doctor never runs TmpfsNoswap's test mount: it reports tmpfs noswap by kernel
 * release.
 */
@Tag("kernel")
class DoctorKernelTest {

    @Test
    void reportsThisHostAndChangesNothing() throws Exception {
        assumeTrue(Files.isReadable(Path.of("/proc/self/cgroup")), "needs Linux /proc");
        Map<String, String> before = state();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), "doctor", "-o", "json");
        assertThat(code).as(err.toString()).isIn(0, 3, 4);
        JsonNode doc = JsonMapper.builder().build().readTree(out.toString());
        JsonNode node = doc.get("node");

        // cgroup version: a v1 "N:...memory...:/path" line in /proc/self/cgroup means the memory controller is v1
        List<String> cgroup = Files.readAllLines(Path.of("/proc/self/cgroup"));
        boolean v1Memory = cgroup.stream().map(l -> l.split(":", 3)).anyMatch(f -> f.length == 3
                && List.of(f[1].split(",")).contains("memory"));
        if (v1Memory) {
            assertThat(node.get("cgroupVersion").asInt()).isEqualTo(1);
        } else if (Files.exists(Path.of("/sys/fs/cgroup/cgroup.controllers"))
                && Files.readString(Path.of("/sys/fs/cgroup/cgroup.controllers")).contains("memory")) {
            assertThat(node.get("cgroupVersion").asInt()).isEqualTo(2);
        }
        // swap: the areas of /proc/swaps
        List<String> swaps = Files.readAllLines(Path.of("/proc/swaps")).stream().skip(1)
                .filter(l -> !l.isBlank()).map(l -> l.strip().split("\\s+")[0]).toList();
        assertThat(node.get("swapDevices").valueStream().map(JsonNode::asString).toList())
                .containsExactlyInAnyOrderElementsOf(swaps);
        String swapStatus = status(doc, "swap");
        if (swaps.isEmpty()) {
            assertThat(node.get("swapTotalBytes").asLong()).isZero();
            assertThat(swapStatus).isEqualTo("unavailable");
        } else {
            assertThat(swapStatus).isIn("ready", "degraded");
        }
        assertThat(node.get("kernel").asString())
                .isEqualTo(Files.readString(Path.of("/proc/sys/kernel/osrelease")).strip());
        assertThat(node.get("psi").asBoolean()).isEqualTo(Files.isReadable(Path.of("/proc/pressure/memory")));
        assertThat(node.get("ksmRun").isNull()).isEqualTo(!Files.exists(Path.of("/sys/kernel/mm/ksm/run")));
        boolean opens;
        try (var in = Files.newByteChannel(Path.of("/dev/kmsg"))) {
            opens = true; // opened for reading and closed: nothing read
        } catch (IOException | SecurityException e) {
            opens = false;
        }
        assertThat(node.get("kmsgReadable").asBoolean()).as("/dev/kmsg opens for reading").isEqualTo(opens);
        assertThat(doc.get("overall").asString()).isEqualTo(code == 0 ? "ready" : code == 3 ? "degraded" : "unusable");

        assertThat(state()).as("doctor changed the node").isEqualTo(before);
    }

    private static String status(JsonNode doc, String name) {
        for (JsonNode c : doc.get("capabilities")) {
            if (c.get("name").asString().equals(name)) {
                return c.get("status").asString();
            }
        }
        throw new AssertionError("no capability " + name);
    }

    /** What a doctor that wrote, mounted or swapped would change. */
    private static Map<String, String> state() throws IOException {
        Map<String, String> s = new TreeMap<>();
        s.put("mounts", Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                .map(l -> l.split(" ", 6)[4]).filter(m -> !m.startsWith("/tmp/")).sorted().toList().toString());
        s.put("swaps", Files.readString(Path.of("/proc/swaps")));
        Path ksm = Path.of("/sys/kernel/mm/ksm/run");
        s.put("ksm", Files.exists(ksm) ? Files.readString(ksm) : "-");
        for (Path p : List.of(Path.of("/sys/fs/cgroup/memory"), Path.of("/sys/fs/cgroup"))) {
            if (Files.isDirectory(p)) {
                try (Stream<Path> l = Files.list(p)) {
                    s.put("cgroup " + p, l.filter(Files::isDirectory).map(x -> x.getFileName().toString())
                            .filter(n -> !n.startsWith("memwarden-")).sorted().toList().toString());
                }
            }
        }
        return s;
    }
}
