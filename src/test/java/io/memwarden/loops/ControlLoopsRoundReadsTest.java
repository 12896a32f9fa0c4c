package io.memwarden.loops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.memwarden.cgroup.HostFacts;
import io.memwarden.cgroup.MemoryUsage;
import io.memwarden.control.PressureGuard;
import io.memwarden.model.CgroupVersion;
import io.memwarden.model.ContainerKind;
import io.memwarden.model.ContainerSpec;
import io.memwarden.model.PodSpec;
import io.memwarden.model.Resources;
import io.memwarden.policy.Plan;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What one round of the loops reads, on plain files laid out like cgroup v1 memory cgroups (dry-run: nothing is
 * written): with the node quiet, the guard reads no container; throttle relief reads a container's limit and
 * failcnt, and its usage only where it has a limit; offload reads its inputs only when a sample is due. And the
 * decisions are still taken: a container stuck at its ceiling gets it raised.
 */
class ControlLoopsRoundReadsTest {
    static final long MI = 1L << 20;

    @TempDir
    Path dir;
    long now;
    final List<MemoryUsage> views = new ArrayList<>();
    final List<String> logs = new ArrayList<>();

    Path cgroup(String name, long usage, long limit, long failcnt) throws IOException {
        Path cg = Files.createDirectories(dir.resolve(name));
        Files.writeString(cg.resolve("memory.usage_in_bytes"), usage + "\n");
        Files.writeString(cg.resolve("memory.limit_in_bytes"), limit + "\n");
        Files.writeString(cg.resolve("memory.failcnt"), failcnt + "\n");
        Files.writeString(cg.resolve("memory.oom_control"), "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
        Files.writeString(cg.resolve("memory.stat"), "total_inactive_file 0\ntotal_rss " + usage + "\n");
        Files.writeString(cg.resolve("cgroup.procs"), "");
        return cg;
    }

    static PodSpec pod(String name, Long limit) {
        return new PodSpec("ns", name, "", null, 0, null, null, null, null,
                List.of(new ContainerSpec("c", ContainerKind.REGULAR, new Resources(null, null, limit, limit))));
    }

    static Plan.PodPlan plan(String name, String qos) {
        return new Plan.PodPlan("ns", name, qos, false, 0, 0, Map.of(), List.of(), List.of());
    }

    @Test
    void aQuietRoundReadsOnlyWhatTheLoopsThatCanActNeed() throws IOException {
        // the confined node's swap is the host's (NodeStats.ofCgroup reads /proc/meminfo): with swap on (a demo's or
        // a bench's swap file beside the tests) "free" (no memsw limit) could be offloaded and more files are read
        assumeTrue(hostSwapTotal() == 0, "the host has swap on: this test counts the reads of a node without swap");
        long unlimited = 9223372036854771712L;
        Path node = cgroup("node", 100 * MI, 64L << 30, 0);
        Path stuck = cgroup("stuck", 250 * MI, 256 * MI, 0);
        Path free = cgroup("free", 10 * MI, unlimited, 0);
        // no swap allowance (memsw = limit): relief raises the ceiling rather than reclaiming, swap or not
        Files.writeString(stuck.resolve("memory.memsw.limit_in_bytes"), 256 * MI + "\n");
        ManagedWorkload w = new ManagedWorkload() {
            @Override
            public List<ContainerStatus> snapshot() {
                return List.of(status("stuck", stuck, MemoryUsage.lazy(stuck, CgroupVersion.V1), "268435456"),
                        status("free", free, MemoryUsage.lazy(free, CgroupVersion.V1), "-1"));
            }

            private ContainerStatus status(String pod, Path cg, MemoryUsage u, String limit) {
                views.add(u);
                return new ContainerStatus("ns/" + pod, "c", false, "NoSwap", cg,
                        Map.of("memory.limit_in_bytes", limit), 0, null, u, null);
            }

            @Override
            public List<ManagedPod> pods() {
                return List.of(new ManagedPod(pod("stuck", 512 * MI), plan("stuck", "Burstable")),
                        new ManagedPod(pod("free", null), plan("free", "BestEffort")));
            }
        };
        HostFacts host = new HostFacts(CgroupVersion.V1, false, dir, dir, null, true, false, 64L << 30, 0, List.of(),
                List.of(), null, "test", 4096);
        ControlLoops loops = new ControlLoops(host, w, new LoopOptions(true, true, true, true,
                PressureGuard.Config.defaults(64L << 30), Set.of(), node), () -> now, logs::add)
                .perContainerPsiOnV1(false);

        loops.tick(); // t = 0: offload samples both (due); relief sees failcnt for the first time
        assertThat(reads(0)).doesNotContain("memory.oom_control", "cgroup.procs", "memory.memsw.failcnt")
                .contains("memory.limit_in_bytes", "memory.failcnt", "memory.usage_in_bytes", "memory.stat");
        assertThat(reads(1)).contains("memory.limit_in_bytes", "memory.failcnt", "memory.stat")
                .doesNotContain("memory.usage_in_bytes", "memory.oom_control", "cgroup.procs");
        for (int round = 1; round <= 2; round++) {
            views.clear();
            now += 1000;
            Files.writeString(stuck.resolve("memory.failcnt"), 100 * round + "\n"); // 100 failures a second
            loops.tick();
            if (round == 1) { // no offload sample due (2 s interval): limit, failcnt, usage where there is a limit
                assertThat(reads(0)).contains("memory.limit_in_bytes", "memory.failcnt", "memory.usage_in_bytes")
                        .isSubsetOf("memory.limit_in_bytes", "memory.failcnt", "memory.usage_in_bytes",
                                "memory.memsw.limit_in_bytes"); // the last only where the node has swap
                assertThat(reads(1)).containsExactly("memory.limit_in_bytes", "memory.failcnt");
            }
        }
        // stuck at its ceiling for two rounds: relief raises it toward the declared 512 MiB (dry-run)
        assertThat(loops.history()).singleElement().satisfies(r -> {
            assertThat(r.loop()).isEqualTo("throttle-relief");
            assertThat(r.pod()).isEqualTo("ns/stuck");
            assertThat(r.action()).isEqualTo("memory.limit_in_bytes=" + (320 * MI));
            assertThat(r.result()).isEqualTo("dry-run");
        });
    }

    static long hostSwapTotal() throws IOException {
        return Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("SwapTotal:"))
                .mapToLong(l -> Long.parseLong(l.replaceAll("[^0-9]", ""))).findFirst().orElse(0);
    }

    private List<String> reads(int container) {
        return views.get(container).filesRead();
    }
}
