package io.memwarden.loops;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.cgroup.HostFacts;
import io.memwarden.cgroup.MemoryUsage;
import io.memwarden.control.KubeletEviction;
import io.memwarden.control.PressureGuard;
import io.memwarden.model.CgroupVersion;
import io.memwarden.model.ContainerKind;
import io.memwarden.model.ContainerSpec;
import io.memwarden.model.PodSpec;
import io.memwarden.model.Resources;
import io.memwarden.policy.EvictionThreshold;
import io.memwarden.policy.Plan;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The loops read allocatableMemory.available from the kubepods cgroup (its limit − working set) and the guard acts on
 * the kubelet's hard memory.available threshold cloned to it, while memory.available of the node is far from any
 * threshold; the action records the signal, and the status carries the MemoryPressure condition.
 */
class GuardKubeletLoopsTest {
    static final long MI = 1L << 20;

    @TempDir
    Path dir;
    long now;

    /** A v1 fixture cgroup of plain files. */
    Path cgroup(String name, long usage, long limit) throws IOException {
        Path cg = Files.createDirectories(dir.resolve(name));
        Files.writeString(cg.resolve("memory.usage_in_bytes"), usage + "\n");
        Files.writeString(cg.resolve("memory.limit_in_bytes"), limit + "\n");
        Files.writeString(cg.resolve("memory.memsw.usage_in_bytes"), usage + "\n");
        Files.writeString(cg.resolve("memory.memsw.limit_in_bytes"), limit + "\n");
        Files.writeString(cg.resolve("memory.failcnt"), "0\n");
        Files.writeString(cg.resolve("memory.oom_control"), "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
        Files.writeString(cg.resolve("memory.stat"), "total_inactive_file 0\ntotal_rss " + usage + "\n");
        Files.writeString(cg.resolve("cgroup.procs"), "");
        return cg;
    }

    @Test
    void theAllocatableSignalOfKubepodsTriggersTheGuard() throws Exception {
        Path app = cgroup("app", 900 * MI, 1L << 40);
        Path node = cgroup("node", 1024 * MI, 16L << 30); // 15Gi available
        Path kubepods = cgroup("kubepods", 1000 * MI, 1024 * MI); // 24Mi allocatable available
        ManagedWorkload w = new ManagedWorkload() {
            @Override
            public List<ContainerStatus> snapshot() {
                try {
                    return List.of(new ContainerStatus("shop/app", "c", false, "NoSwap", app, Map.of(), 0, null,
                            MemoryUsage.read(app, CgroupVersion.V1), null));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }

            @Override
            public List<ManagedPod> pods() {
                return List.of(new ManagedPod(new PodSpec("shop", "app", "", null, 0, null, null, null, null,
                        List.of(new ContainerSpec("c", ContainerKind.REGULAR, Resources.NONE))),
                        new Plan.PodPlan("shop", "app", "BestEffort", false, 0, 0, Map.of(), List.of(), List.of())));
            }
        };
        HostFacts host = new HostFacts(CgroupVersion.V1, false, dir, dir, null, true, false, 64L << 30, 0, List.of(),
                List.of(), null, "test", 4096);
        PressureGuard.Config own = new PressureGuard.Config(0, Duration.ofSeconds(5), 0, 101, 101, 0.1, 1000,
                Duration.ofSeconds(10), 0.05);
        List<String> evicted = new ArrayList<>();
        Evictor recording = new Evictor() {
            @Override
            public Result evict(String podKey, String message, List<ContainerStatus> containers) {
                throw new AssertionError("the guard gives a grace period");
            }

            @Override
            public Result evict(String podKey, String message, long grace, List<ContainerStatus> containers) {
                evicted.add(podKey + " grace " + grace + ": " + message);
                return new Result(PressureGuard.Outcome.ACCEPTED, "accepted");
            }
        };
        LoopOptions base = new LoopOptions(true, false, false, false, own, Set.of(), node);
        ControlLoops without = new ControlLoops(host, w, base.withKubelet(KubeletEviction.Settings.DEFAULTS, null),
                () -> now, l -> { }).evictWith(recording).perContainerPsiOnV1(false);
        without.tick();
        assertThat(evicted).as("kubepods not observed").isEmpty();
        assertThat(without.guardState(0).allocatableAvailableBytes()).isNull();

        ControlLoops loops = new ControlLoops(host, w, base.withKubelet(KubeletEviction.Settings.DEFAULTS, kubepods),
                () -> now, l -> { }).evictWith(recording).perContainerPsiOnV1(false);
        loops.tick();
        assertThat(evicted).containsExactly("shop/app grace 1: The node was low on resource: memory. Threshold"
                + " quantity: 100Mi, available: 24Mi. Pod shop/app was using 900Mi, request is 0, has larger"
                + " consumption of memory. ");
        ActionRecord r = loops.history().getLast();
        assertThat(r.actedOn().by()).isEqualTo("kubelet");
        assertThat(r.actedOn().signal()).isEqualTo(EvictionThreshold.ALLOCATABLE_MEMORY_AVAILABLE);
        assertThat(r.actedOn().threshold()).isEqualTo("evictionHard memory.available (cloned: enforceNodeAllocatable"
                + " has pods) allocatableMemory.available<100Mi");
        NodeStatus.Guard g = loops.guardState(0);
        assertThat(g.memoryPressure()).isTrue();
        assertThat(g.reason()).isEqualTo("KubeletHasInsufficientMemory");
        assertThat(g.allocatableAvailableBytes()).isEqualTo(24 * MI);
        assertThat(g.level()).isEqualTo("HARD");
    }
}
