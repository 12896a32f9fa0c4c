package io.memwarden.loops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.memwarden.bench.PageMap;
import io.memwarden.cgroup.HostFacts;
import io.memwarden.cgroup.HostProbe;
import io.memwarden.cgroup.KernelAssumptions;
import io.memwarden.cgroup.PsiMirror;
import io.memwarden.model.Clock;
import io.memwarden.control.PressureGuard;
import io.memwarden.input.KubeletConfigReader;
import io.memwarden.input.PodManifestReader;
import io.memwarden.input.WardenConfigReader;
import io.memwarden.input.YamlDocs;
import io.memwarden.model.CgroupVersion;
import io.memwarden.policy.Plan;
import io.memwarden.policy.Planner;
import io.memwarden.runner.StandaloneRunner;
import io.memwarden.runner.TemporarySwap;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The control loops' cgroup v1 paths on the real kernel, each with its own swap file: the cold-range offload
 * (clear_refs sampling + process_madvise) and throttle relief at the projected ceiling. Correctness with generous
 * margins and time limits, never timing.
 */
@Tag("kernel")
@ExtendWith(TemporarySwap.class)
class ControlLoopsV1KernelTest {
    static final long MI = 1L << 20;
    HostFacts host;
    Path logs;

    @BeforeEach
    void setUp() throws Exception {
        KernelAssumptions.requireMemoryCgroup();
        host = HostProbe.probe();
        assumeTrue(host.memoryController() == CgroupVersion.V1, "cgroup v1 paths");
        assumeTrue(host.swapAccounting(), "needs memsw");
        assumeTrue(host.swapTotal() > 0, "needs swap on");
        logs = Files.createTempDirectory("memwarden-test-logs-");
    }

    @AfterEach
    void noLeftovers() throws Exception {
        KernelAssumptions.noRunnerLeftovers(logs, host);
        if (host != null) {
            String me = Long.toString(ProcessHandle.current().pid());
            if (host.unifiedMount() != null) {
                Path own = unifiedGroup();
                try (var s = Files.list(own)) {
                    assertThat(s.map(p -> p.getFileName().toString()))
                            .noneMatch(n -> n.startsWith("memwarden-psi-" + me + "-"));
                }
            }
        }
    }

    private Path unifiedGroup() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/cgroup"))) {
            if (line.startsWith("0::")) {
                return host.unifiedMount().resolve(line.substring(3).replaceFirst("^/", ""));
            }
        }
        return host.unifiedMount();
    }

    static Plan plan(HostFacts host, PodManifestReader.Result r, String config) throws Exception {
        assertThat(r.errors()).isEmpty();
        Plan plan = new Planner(host.toNodeFacts(), KubeletConfigReader.parse("k", YamlDocs.readAll("k",
                "kind: KubeletConfiguration\nfailSwapOn: false\n").getFirst()),
                WardenConfigReader.parse("c", YamlDocs.readAll("c", config).getFirst())).plan(r.pods(), null, List.of());
        assertThat(plan.errors()).isEmpty();
        return plan;
    }

    /**
     * The cold set (64 MiB, written once) and the hot set (16 MiB, rewritten every 100 ms) sit in different mappings
     * (loading a module between the two allocations keeps the kernel from merging them).
     */
    static final String OFFLOAD_POD = """
            apiVersion: v1
            kind: Pod
            metadata: {name: sets, namespace: kt}
            spec:
              containers:
                - name: app
                  command: [perl, -e, '$| = 1; $cold = "\\x02" x (64 * 1024 * 1024); require POSIX; $hot = "\\x01" x (16 * 1024 * 1024); printf "sets %d %d %d %d\\n", unpack("Q", pack("p", $hot)), length($hot), unpack("Q", pack("p", $cold)), length($cold); while (1) { for ($i = 0; $i < length($hot); $i += 4096) { vec($hot, $i, 8) = 1 } select(undef, undef, undef, 0.1) }']
                  resources: {requests: {memory: 64Mi}, limits: {memory: 1Gi}}
            """;

    @Test
    void coldRangesArePagedOutWhileTheHotSetStaysResident() throws Exception {
        var r = PodManifestReader.parse("pods", YamlDocs.readAll("pods", OFFLOAD_POD));
        Plan plan = plan(host, r, "swap: {behavior: UnlimitedSwap}\n");
        List<String> log = Collections.synchronizedList(new ArrayList<>());
        try (StandaloneRunner runner = new StandaloneRunner(host, plan, r.pods(), logs)) {
            runner.start();
            long[] sets = null;
            long wait = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (sets == null && System.nanoTime() < wait) {
                for (String line : Files.readAllLines(runner.logOf("kt/sets", "app"))) {
                    if (line.startsWith("sets ")) {
                        String[] f = line.split(" ");
                        sets = new long[] {Long.parseLong(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3]),
                                Long.parseLong(f[4])};
                    }
                }
                Thread.sleep(100);
            }
            assertThat(sets).as("the workload reports its sets").isNotNull();
            long pid = runner.snapshot().getFirst().pid();
            long coldOut = 0;
            PageMap.Residency hot;
            try (ControlLoops loops = new ControlLoops(host, runner.workload(), new LoopOptions(false,
                    false, true, false, PressureGuard.Config.defaults(host.memTotal()), Set.of(), null,
                    LoopOptions.V1Offload.MADVISE), Clock.SYSTEM, log::add)) {
                long end = System.nanoTime() + Duration.ofSeconds(120).toNanos();
                while (System.nanoTime() < end) {
                    loops.tick();
                    coldOut = PageMap.read(pid, sets[2], sets[3], host.pageSize()).swappedBytes();
                    if (coldOut >= sets[3] * 9 / 10) {
                        break;
                    }
                    Thread.sleep(250);
                }
                // a few more rounds once the cold set is out: the hot set must stay where it is
                for (int i = 0; i < 16; i++) {
                    loops.tick();
                    Thread.sleep(250);
                }
                coldOut = PageMap.read(pid, sets[2], sets[3], host.pageSize()).swappedBytes();
                hot = PageMap.read(pid, sets[0], sets[1], host.pageSize());
                assertThat(loops.history()).as(String.join("\n", log))
                        .anySatisfy(a -> {
                            assertThat(a.loop()).isEqualTo("offload");
                            assertThat(a.action()).startsWith("page out");
                            assertThat(a.result()).startsWith("process_madvise(MADV_PAGEOUT) processed");
                        });
            }
            assertThat(runner.snapshot().getFirst().running()).isTrue();
            assertThat(coldOut).as("cold bytes swapped out (log:\n%s)", String.join("\n", log))
                    .isGreaterThanOrEqualTo(sets[3] * 8 / 10);
            assertThat(hot.presentBytes()).as("hot bytes still resident").isGreaterThanOrEqualTo(sets[1] * 9 / 10);
            assertThat(runner.snapshot().getFirst().process().swapBytes()).isGreaterThanOrEqualTo(sets[3] * 8 / 10);
        }
    }

    /**
     * memory.high 64M projected onto the v1 hard limit, a 512Mi declared limit, a 256Mi swap allowance (memsw = 320M):
     * the workload grows past the ceiling at ~20 MiB/s to 192 MiB.
     */
    static final String THROTTLE_POD = """
            apiVersion: v1
            kind: Pod
            metadata:
              name: stall
              namespace: kt
              annotations: {memory.high.memory-qos.nri.io: "67108864", swap-max.memwarden.io: 256Mi}
            spec:
              containers:
                - name: alloc
                  command: [perl, -e, '$| = 1; @a = (); for $k (1 .. 48) { $x = "\\x01" x (4 * 1024 * 1024); push @a, \\$x; undef *x; print "allocated ", $k * 4, "\\n"; select(undef, undef, undef, 0.2) } print "done\\n"; sleep 3600']
                  resources: {requests: {memory: 32Mi}, limits: {memory: 512Mi}}
            """;

    @Test
    void aContainerAtItsProjectedCeilingGetsRoomUpToItsDeclaredLimitKeepingItsSwapAllowance() throws Exception {
        var r = PodManifestReader.parse("pods", YamlDocs.readAll("pods", THROTTLE_POD));
        Plan plan = plan(host, r, """
                memoryQos: {unifiedannotations: [memory.high]}
                swap: {behavior: UnlimitedSwap}
                annotations: {allowed: [swap-max], allowedSwapBehaviors: [UnlimitedSwap]}
                """);
        var cp = plan.pods().getFirst().containers().getFirst().cgroup();
        assertThat(cp).containsEntry("memory.limit_in_bytes", Long.toString(64 * MI))
                .containsEntry("memory.memsw.limit_in_bytes", Long.toString(320 * MI));
        List<String> log = Collections.synchronizedList(new ArrayList<>());
        try (StandaloneRunner runner = new StandaloneRunner(host, plan, r.pods(), logs)) {
            runner.start();
            Path cg = runner.snapshot().getFirst().cgroup();
            boolean done = false;
            try (ControlLoops loops = new ControlLoops(host, runner.workload(), new LoopOptions(false,
                    true, false, false, PressureGuard.Config.defaults(host.memTotal()), Set.of(), null),
                    Clock.SYSTEM, log::add)) {
                long end = System.nanoTime() + Duration.ofSeconds(120).toNanos();
                while (!done && runner.snapshot().getFirst().running() && System.nanoTime() < end) {
                    loops.tick();
                    Thread.sleep(250);
                    done = Files.readString(runner.logOf("kt/stall", "alloc")).contains("done");
                }
                assertThat(loops.history()).as(String.join("\n", log)).anySatisfy(a -> {
                    assertThat(a.loop()).isEqualTo("throttle-relief");
                    assertThat(a.action()).startsWith("memory.limit_in_bytes=");
                    assertThat(a.result()).isEqualTo("ok");
                    assertThat(a.trigger()).contains("throttled at memory.high 67108864");
                });
            }
            assertThat(done).as("allocation kept progressing to the end (log:\n%s)", String.join("\n", log)).isTrue();
            assertThat(runner.snapshot().getFirst().running()).isTrue();
            long limit = Long.parseLong(Files.readString(cg.resolve("memory.limit_in_bytes")).strip());
            long memsw = Long.parseLong(Files.readString(cg.resolve("memory.memsw.limit_in_bytes")).strip());
            assertThat(limit).as("ceiling raised, never above the declared limit").isGreaterThan(64 * MI)
                    .isLessThanOrEqualTo(512 * MI);
            assertThat(memsw - limit).as("swap allowance kept").isEqualTo(256 * MI);
        }
    }

    @Test
    void thePsiMirrorGivesAV1ContainerItsOwnPressureAndLeavesNothingBehind() throws Exception {
        assumeTrue(host.hybrid(), "needs a cgroup2 tree beside the v1 memory controller");
        Process p = new ProcessBuilder("sleep", "60").start();
        Path root;
        try (PsiMirror m = PsiMirror.create(host)) {
            assumeTrue(m != null, "cgroup2 groups here have no memory.pressure");
            root = m.root();
            var pressure = m.pressure("c", List.of(p.pid()));
            assertThat(pressure.someTotalMicros()).isGreaterThanOrEqualTo(0);
            assertThat(Files.readString(root.resolve("c0/cgroup.procs")).strip()).isEqualTo(Long.toString(p.pid()));
        } finally {
            p.destroyForcibly();
            p.waitFor();
        }
        assertThat(root).doesNotExist();
    }
}
