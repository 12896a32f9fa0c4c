package io.memwarden.loops;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.cgroup.MemoryUsage;
import io.memwarden.model.CgroupVersion;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The standalone eviction honours the kubelet's pod grace period (kubelet-semantics §4): SIGTERM through pidfds,
 * then SIGKILL to what is left when it ends; below 2 s, SIGKILL at once. Real processes of ours, listed in a fixture
 * cgroup's cgroup.procs: one dies of the SIGTERM (exit 143), one that ignores SIGTERM dies of the SIGKILL (137).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class StandaloneEvictionGraceTest {
    @TempDir
    Path dir;
    final List<Process> procs = new ArrayList<>();

    @AfterEach
    void tearDown() {
        procs.forEach(Process::destroyForcibly);
    }

    /** Starts {@code sh -c script}, which prints "ready" when set up, and waits for that line. */
    Process start(String script) throws IOException {
        Process p = new ProcessBuilder("sh", "-c", script).start();
        procs.add(p);
        assertThat(new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream())).readLine())
                .isEqualTo("ready");
        return p;
    }

    ContainerStatus container(long... pids) throws IOException {
        Path cg = Files.createDirectories(dir.resolve("c" + procs.size()));
        Files.writeString(cg.resolve("memory.usage_in_bytes"), "1048576\n");
        Files.writeString(cg.resolve("memory.limit_in_bytes"), (1L << 40) + "\n");
        Files.writeString(cg.resolve("memory.memsw.usage_in_bytes"), "1048576\n");
        Files.writeString(cg.resolve("memory.memsw.limit_in_bytes"), (1L << 40) + "\n");
        Files.writeString(cg.resolve("memory.failcnt"), "0\n");
        Files.writeString(cg.resolve("memory.oom_control"), "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
        Files.writeString(cg.resolve("memory.stat"), "total_inactive_file 0\n");
        StringBuilder b = new StringBuilder();
        for (long pid : pids) {
            b.append(pid).append('\n');
        }
        Files.writeString(cg.resolve("cgroup.procs"), b.toString());
        return new ContainerStatus("ns/p", "c", false, "NoSwap", cg, Map.of(), 0, null,
                MemoryUsage.read(cg, CgroupVersion.V1), null);
    }

    @Test
    void aGracePeriodIsSigtermThenSigkillForWhatIsLeft() throws Exception {
        Process polite = start("echo ready; exec sleep 600");
        Process stubborn = start("trap '' TERM; echo ready; exec sleep 600"); // sleep inherits the ignored SIGTERM
        String r = Actuator.terminateWithPidfd("ns/p", "m", 2, List.of(container(polite.pid(), stubborn.pid())));
        assertThat(r).startsWith("sent SIGTERM to 2 process(es) via pidfd").contains("pod grace period of 2 s");
        assertThat(polite.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(polite.exitValue()).as("SIGTERM").isEqualTo(143);
        assertThat(stubborn.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(stubborn.exitValue()).as("SIGKILL after the grace period").isEqualTo(137);
    }

    @Test
    void belowTwoSecondsItIsSigkillAtOnce() throws Exception {
        Process polite = start("echo ready; exec sleep 600");
        String r = Actuator.terminateWithPidfd("ns/p", "m", 1, List.of(container(polite.pid())));
        assertThat(r).startsWith("killed 1 process(es) with SIGKILL");
        assertThat(polite.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(polite.exitValue()).isEqualTo(137);
    }
}
