package io.memwarden.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.cgroup.CgroupTree;
import io.memwarden.cgroup.HostFacts;
import io.memwarden.cgroup.KernelAssumptions;
import io.memwarden.model.ContainerKind;
import io.memwarden.model.ContainerSpec;
import io.memwarden.model.PodSpec;
import io.memwarden.model.Resources;
import io.memwarden.policy.KubeletSettings;
import io.memwarden.policy.Planner;
import io.memwarden.policy.WardenConfig;
import java.lang.management.ManagementFactory;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The standalone applier's cost on the real memory controller: 200 pods of one container each (400 cgroups below
 * this JVM's own memory cgroup, memwarden-test-*), the first round (writes everything) and the steady round (every
 * value already the plan's: scan + read + compare). Prints numbers for docs/agent-standalone.md; no timing asserts.
 */
@Tag("bench")
class StandaloneRoundBench {
    @Test
    void roundsOf200Containers() throws Exception {
        HostFacts h = KernelAssumptions.requireMemoryCgroup();
        int n = 200;
        Map<String, PodsByUid.Known> known = new HashMap<>();
        try (CgroupTree t = KernelAssumptions.newTree(h)) {
            for (int i = 0; i < n; i++) {
                String uid = String.format("8a1d3c5e-0000-4000-8000-%012d", i);
                String id = String.format("%064x", i + 1);
                t.mkdirs("kubepods/burstable/pod" + uid + "/" + id);
                PodSpec p = new PodSpec("bench", "p" + i, uid, Map.of(), null, null, null, null, null,
                        List.of(new ContainerSpec("app", ContainerKind.REGULAR,
                                new Resources(null, null, 64L << 20, 128L << 20))));
                known.put(uid, new PodsByUid.Known(p, Map.of(id, "app"), true, "bench"));
            }
            PodsByUid src = new PodsByUid() {
                @Override
                public Optional<Known> find(String uid) {
                    return Optional.ofNullable(known.get(uid));
                }

                @Override
                public String describe() {
                    return "bench";
                }
            };
            StandaloneApplier a = new StandaloneApplier(t.root(), h.memoryController(), h.pageSize(),
                    new Planner(h.toNodeFacts(), KubeletSettings.DEFAULTS, WardenConfig.DEFAULTS), src,
                    (loop, pod, c, action, trigger, result) -> { });
            var mx = ManagementFactory.getThreadMXBean();
            long w0 = System.nanoTime();
            StandaloneApplier.Round first = a.round(false);
            long firstMs = (System.nanoTime() - w0) / 1_000_000;
            assertThat(first.matched()).isEqualTo(n);
            for (int i = 0; i < 20; i++) {
                a.round(false); // warm-up
            }
            int rounds = 100;
            long c0 = mx.getCurrentThreadCpuTime();
            w0 = System.nanoTime();
            StandaloneApplier.Round steady = null;
            for (int i = 0; i < rounds; i++) {
                steady = a.round(false);
            }
            long wallUs = (System.nanoTime() - w0) / rounds / 1000;
            long cpuUs = (mx.getCurrentThreadCpuTime() - c0) / rounds / 1000;
            assertThat(steady.written()).isZero();
            System.out.printf("standalone round, %d containers (cgroup v%d): first %d ms (%d writes); steady %d us"
                    + " wall, %d us CPU per round%n", n, h.memoryController().number(), firstMs, first.written(),
                    wallUs, cpuUs);
        }
    }
}
