package io.memwarden.loops;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.cgroup.HostFacts;
import io.memwarden.control.PressureGuard;
import io.memwarden.kernel.Balloon;
import io.memwarden.model.CgroupVersion;
import io.memwarden.policy.WardenConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The loops' node swap cap step over a cgroup v1 file tree: written once on kubepods, left alone while in place, a cap
 * that cannot be enforced reported once. (nodeCap 0: the cap does not depend on the machine's swap total.)
 */
class SwapCapStepTest {
    static final long GI = 1L << 30;
    static final String V1_UNLIMITED_READ = "9223372036854771712";
    @TempDir
    Path dir;
    long now;
    final List<String> logs = new ArrayList<>();
    final ManagedWorkload none = new ManagedWorkload() {
        @Override
        public List<ContainerStatus> snapshot() {
            return List.of();
        }

        @Override
        public List<ManagedPod> pods() {
            return List.of();
        }
    };
    HostFacts host;
    Path node;
    Path root;
    Path kubepods;

    @BeforeEach
    void tree() throws IOException {
        host = new HostFacts(CgroupVersion.V1, false, dir.resolve("memory"), dir, null, true, false, 4 * GI, 0,
                List.of(), List.of(), null, "test", 4096);
        Path proc = Files.createDirectories(dir.resolve("fake/proc"));
        Files.writeString(proc.resolve("meminfo"), "MemTotal: " + 4 * GI / 1024 + " kB\nMemFree: 1 kB\n");
        node = Files.createDirectories(dir.resolve("node"));
        Files.writeString(node.resolve("memory.usage_in_bytes"), "0\n");
        Files.writeString(node.resolve("memory.limit_in_bytes"), GI + "\n");
        Files.writeString(node.resolve("memory.failcnt"), "0\n");
        Files.writeString(node.resolve("memory.oom_control"), "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
        Files.writeString(node.resolve("memory.stat"), "total_inactive_file 0\n");
        Files.writeString(node.resolve("cgroup.procs"), "");
        root = Files.createDirectories(dir.resolve("root"));
        kubepods = root.resolve("kubepods");
    }

    ControlLoops loops(boolean dryRun) {
        return new ControlLoops(host, none, new LoopOptions(false, false, false, dryRun,
                PressureGuard.Config.defaults(GI), Set.of(), node), () -> now, logs::add)
                .balloonPaths(Balloon.Paths.under(dir.resolve("fake")))
                .nodeSwapCap(root, new WardenConfig.SwapConfig(null, null, null,
                        new WardenConfig.SwapCap(0L, null, "0"), null));
    }

    void kubepods(String limit) throws IOException {
        Files.createDirectories(kubepods);
        Files.writeString(kubepods.resolve("memory.limit_in_bytes"), limit + "\n");
        Files.writeString(kubepods.resolve("memory.memsw.limit_in_bytes"), V1_UNLIMITED_READ + "\n");
    }

    @Test
    void writtenOnceThenInPlace() throws IOException {
        kubepods(Long.toString(GI));
        ControlLoops loops = loops(false);
        loops.tick();
        assertThat(Files.readString(kubepods.resolve("memory.memsw.limit_in_bytes")).strip())
                .isEqualTo(Long.toString(GI));
        assertThat(loops.history()).singleElement().satisfies(a -> {
            assertThat(a.loop()).isEqualTo("swap-cap");
            assertThat(a.pod()).isEmpty();
            assertThat(a.action()).endsWith("memory.memsw.limit_in_bytes=" + GI);
            assertThat(a.trigger()).contains("memory.limit_in_bytes " + GI + " + cap 0")
                    .contains("(was memory.memsw.limit_in_bytes=" + V1_UNLIMITED_READ + ")");
            assertThat(a.result()).isEqualTo("ok");
        });
        loops.tick();
        assertThat(loops.history()).hasSize(1);
        assertThat(loops.nodeSwapCapState().result()).isEqualTo("in place");
        // someone put it back: written again
        Files.writeString(kubepods.resolve("memory.memsw.limit_in_bytes"), V1_UNLIMITED_READ + "\n");
        loops.tick();
        assertThat(loops.history()).hasSize(2);
    }

    @Test
    void dryRunWritesNothing() throws IOException {
        kubepods(Long.toString(GI));
        ControlLoops loops = loops(true);
        loops.tick();
        assertThat(Files.readString(kubepods.resolve("memory.memsw.limit_in_bytes")).strip())
                .isEqualTo(V1_UNLIMITED_READ);
        assertThat(loops.history()).singleElement().satisfies(a -> assertThat(a.result()).isEqualTo("dry-run"));
    }

    @Test
    void notEnforceableIsReportedOnceAndNothingIsWritten() throws IOException {
        ControlLoops loops = loops(false);
        loops.tick();
        loops.tick();
        assertThat(loops.history()).singleElement().satisfies(a ->
                assertThat(a.result()).startsWith("not written: no kubepods cgroup under " + root));
        kubepods(V1_UNLIMITED_READ);
        loops.tick();
        loops.tick();
        assertThat(loops.history()).hasSize(2);
        assertThat(loops.history().getLast().result())
                .startsWith("not written: not enforceable on cgroup v1 without a kubepods memory limit");
        assertThat(Files.readString(kubepods.resolve("memory.memsw.limit_in_bytes")).strip())
                .isEqualTo(V1_UNLIMITED_READ);
        assertThat(loops.nodeSwapCapState().decision().capBytes()).isZero();
    }

    @Test
    void offByDefault() throws IOException {
        kubepods(Long.toString(GI));
        ControlLoops loops = new ControlLoops(host, none, new LoopOptions(false, false, false, false,
                PressureGuard.Config.defaults(GI), Set.of(), node), () -> now, logs::add)
                .balloonPaths(Balloon.Paths.under(dir.resolve("fake")));
        loops.tick();
        assertThat(loops.history()).isEmpty();
        assertThat(loops.nodeSwapCapState()).isNull();
    }
}
