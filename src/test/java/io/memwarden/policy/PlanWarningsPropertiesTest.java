package io.memwarden.policy;

import static io.memwarden.policy.TestPods.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.model.CgroupVersion;
import io.memwarden.model.NodeFacts;
import io.memwarden.model.PodSpec;
import io.memwarden.model.SwapBehavior;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

/**
 * The swap warnings' invariants over generated pods, behaviours and caps: never raised when the node's swap covers
 * the Σ of the planned (bounded) allowances and no allowance is unbounded beyond it; always raised when the node has
 * no swap and some container may swap.
 */
class PlanWarningsPropertiesTest {

    record Case(SwapBehavior behavior, Long capMi, List<long[]> containers) {} // {requestMi, limitMi}

    @Provide
    Arbitrary<Case> cases() {
        Arbitrary<SwapBehavior> b = Arbitraries.of(SwapBehavior.NO_SWAP, SwapBehavior.LIMITED_SWAP,
                SwapBehavior.UNLIMITED_SWAP, SwapBehavior.WITHIN_LIMIT_SWAP);
        Arbitrary<Long> cap = Arbitraries.longs().between(0, 8192).injectNull(0.4);
        Arbitrary<long[]> c = Arbitraries.longs().between(1, 4096).tuple2()
                .map(t -> new long[] {Math.min(t.get1(), t.get2()), Math.max(t.get1(), t.get2())});
        Arbitrary<List<long[]>> cs = c.list().ofMinSize(1).ofMaxSize(8);
        return net.jqwik.api.Combinators.combine(b, cap, cs).as(Case::new);
    }

    static List<Planner.PodOutcome> plan(Planner planner, Case k) {
        List<Planner.PodOutcome> out = new ArrayList<>();
        int i = 0;
        for (long[] c : k.containers()) {
            PodSpec p = pod("p" + i++).container("c", mem(c[0] + "Mi", c[1] + "Mi")).build();
            out.add(planner.planPod(p));
        }
        return out;
    }

    static Planner planner(NodeFacts node, Case k) {
        WardenConfig cfg = new WardenConfig(null, new WardenConfig.SwapConfig(k.behavior(), k.capMi() == null ? null
                : new WardenConfig.SwapCap(k.capMi() * MI, null, k.capMi() + "Mi"), null),
                WardenConfig.AnnotationPolicy.DEFAULTS);
        return new Planner(node, KubeletSettings.DEFAULTS, cfg);
    }

    @Property
    void noSwapWarningWhenTheNodesSwapCoversTheAllowances(@ForAll("cases") Case k, @ForAll boolean v2,
                                                          @ForAll @LongRange(min = 0, max = 64L << 30) long extra) {
        NodeFacts probe = node(v2, 1);
        long sum = 0;
        boolean unbounded = false;
        for (Planner.PodOutcome o : plan(planner(probe, k), k)) {
            for (Plan.ContainerPlan cp : o.plan().containers()) {
                long a = PlanWarnings.swapAllowance(probe.cgroupVersion(), cp);
                unbounded |= a < 0;
                sum += Math.max(0, a);
            }
        }
        // LimitedSwap's shares depend on the swap total itself: they are a fraction of it, so they always fit
        NodeFacts node = node(v2, Math.max(1, sum + extra));
        Planner planner = planner(node, k);
        List<PlanWarnings.Warning> w = planner.warnings(plan(planner, k));
        assertThat(w).noneMatch(x -> x.kind() == PlanWarnings.Kind.SWAP_UNAVAILABLE);
        assertThat(w).noneMatch(x -> x.kind() == PlanWarnings.Kind.SWAP_TOO_SMALL);
        assertThat(unbounded || sum >= 0).isTrue();
    }

    @Property
    void alwaysWarnedWhenSwapIsZeroAndSomeContainerMaySwap(@ForAll("cases") Case k, @ForAll boolean v2) {
        NodeFacts node = node(v2, 0);
        Planner planner = planner(node, k);
        List<Planner.PodOutcome> outcomes = plan(planner, k);
        boolean maySwap = outcomes.stream().flatMap(o -> o.plan().containers().stream())
                .anyMatch(cp -> PlanWarnings.swapAllowance(node.cgroupVersion(), cp) != 0);
        List<PlanWarnings.Warning> w = planner.warnings(outcomes);
        assertThat(w.stream().anyMatch(x -> x.kind() == PlanWarnings.Kind.SWAP_UNAVAILABLE)).isEqualTo(maySwap);
        if (maySwap) {
            assertThat(w.stream().filter(x -> x.kind() == PlanWarnings.Kind.SWAP_UNAVAILABLE).findFirst().orElseThrow()
                    .message()).contains("memwarden swap file create --size=");
        }
    }

    @Property
    void memoryMinWarningIffTheSumReachesNinetyPercent(@ForAll @IntRange(min = 1, max = 6) int pods,
                                                       @ForAll @LongRange(min = 64, max = 4096) long requestMi) {
        NodeFacts node = new NodeFacts(8 * GI, 0, CgroupVersion.V2, true, 4096, null, "6.12.0");
        Planner planner = new Planner(node, PlanWarningsTest.TIERED, WardenConfig.DEFAULTS);
        List<Planner.PodOutcome> outcomes = new ArrayList<>();
        for (int i = 0; i < pods; i++) {
            outcomes.add(planner.planPod(pod("g" + i).container("c", res("1", "1", requestMi + "Mi", requestMi + "Mi"))
                    .build()));
        }
        long sum = pods * requestMi * MI;
        long kubepods = 7 * GI; // 8Gi − systemReserved 1Gi
        boolean raised = planner.warnings(outcomes).stream()
                .anyMatch(x -> x.kind() == PlanWarnings.Kind.MEMORY_MIN_OVERCOMMITTED);
        assertThat(raised).isEqualTo(sum * 100 >= kubepods * 90);
    }

    static NodeFacts node(boolean v2, long swap) {
        return new NodeFacts(16 * GI, swap, v2 ? CgroupVersion.V2 : CgroupVersion.V1, true, 4096, null, "6.12.0");
    }
}
