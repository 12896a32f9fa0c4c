package io.memwarden.policy;

import static io.memwarden.policy.TestPods.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.model.NodeFacts;
import io.memwarden.model.PodSpec;
import io.memwarden.model.SwapBehavior;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Warnings before surprises (issue #18 item 2): one test per warning and its quiet side. */
class PlanWarningsTest {
    static final WardenConfig UNLIMITED = new WardenConfig(null,
            new WardenConfig.SwapConfig(SwapBehavior.UNLIMITED_SWAP, null, null), WardenConfig.AnnotationPolicy.DEFAULTS);
    static final KubeletSettings LIMITED = new KubeletSettings(false, SwapBehavior.LIMITED_SWAP, null,
            ReservationPolicy.NONE, true, true, 0, 0, KubeletSettings.DEFAULT_EVICTION_HARD, List.of(), false,
            Set.of("pods"));
    static final KubeletSettings TIERED = new KubeletSettings(false, SwapBehavior.NO_SWAP, null,
            ReservationPolicy.TIERED_RESERVATION, true, true, GI, 0, KubeletSettings.DEFAULT_EVICTION_HARD, List.of(),
            false, Set.of("pods"));

    static List<PlanWarnings.Warning> warnings(NodeFacts node, KubeletSettings k, WardenConfig cfg, PodSpec... pods) {
        Planner planner = new Planner(node, k, cfg);
        return planner.warnings(List.of(pods).stream().map(planner::planPod).toList());
    }

    static List<PlanWarnings.Kind> kinds(List<PlanWarnings.Warning> w) {
        return w.stream().map(PlanWarnings.Warning::kind).toList();
    }

    @Test
    void theIssuesDemoWithoutSwapNamesBothSwapContainersAndTheFix() {
        List<PlanWarnings.Warning> w = warnings(v2Node(16 * GI, 0), KubeletSettings.DEFAULTS, PlannerTest.CFG,
                PlannerTest.demoPod());
        assertThat(kinds(w)).containsExactly(PlanWarnings.Kind.SWAP_UNAVAILABLE);
        String m = w.getFirst().message();
        assertThat(m).startsWith("2 container(s) may swap but the node has no swap on: default/demo/c0-lowprio"
                + " (unlimited), default/demo/c1-normal (unlimited);")
                .doesNotContain("c2-noswap")
                .contains("memwarden swap file create --size=191Mi /var/swapfile") // 2 × 100M limits, rounded up
                .contains("or plan them without swap (memory.swap.max 0 in their nri memory-qos class or annotation)");
    }

    @Test
    void theDemoOnCgroupV1WithoutSwapToo() {
        List<PlanWarnings.Warning> w = warnings(v1Node(16 * GI, 0), KubeletSettings.DEFAULTS, PlannerTest.CFG,
                PlannerTest.demoPod());
        assertThat(kinds(w)).containsExactly(PlanWarnings.Kind.SWAP_UNAVAILABLE);
        assertThat(w.getFirst().message()).contains("c0-lowprio", "c1-normal").doesNotContain("c2-noswap");
    }

    @Test
    void limitedSwapOnANodeWithoutSwapPlansNoSwapSoNothingToWarn() {
        PodSpec b = pod("b").container("app", mem("256Mi", "1Gi")).build();
        assertThat(warnings(v2Node(16 * GI, 0), LIMITED, WardenConfig.DEFAULTS, b)).isEmpty();
    }

    @Test
    void boundedAllowancesAboveTheNodesSwapSayByHowMuch() {
        // LimitedSwap with a per-container cap larger than the proportional share cannot exceed swap; use
        // annotations-free UnlimitedSwap capped by maxPerContainer: each container gets 1Gi, node has 1.5Gi
        WardenConfig capped = new WardenConfig(null, new WardenConfig.SwapConfig(SwapBehavior.UNLIMITED_SWAP,
                new WardenConfig.SwapCap(GI, null, "1Gi"), null), WardenConfig.AnnotationPolicy.DEFAULTS);
        PodSpec a = pod("a").container("app", mem("256Mi", "2Gi")).build();
        PodSpec b = pod("b").container("app", mem("256Mi", "2Gi")).build();
        List<PlanWarnings.Warning> w = warnings(v2Node(16 * GI, 1536 * MI), KubeletSettings.DEFAULTS, capped, a, b);
        assertThat(kinds(w)).containsExactly(PlanWarnings.Kind.SWAP_TOO_SMALL);
        assertThat(w.getFirst().message()).contains("add up to 2Gi, more than the node's swap 1.5Gi by 512Mi")
                .contains("default/a/app (1Gi), default/b/app (1Gi)")
                .contains("memwarden swap file create --size=512Mi");
        // with 2Gi of swap they fit
        assertThat(warnings(v2Node(16 * GI, 2 * GI), KubeletSettings.DEFAULTS, capped, a, b)).isEmpty();
    }

    @Test
    void limitedSwapSharesNeverExceedTheSwapTheyAreComputedFrom() {
        PodSpec a = pod("a").container("app", mem("4Gi", "8Gi")).build();
        PodSpec b = pod("b").container("app", mem("4Gi", "8Gi")).build();
        assertThat(warnings(v2Node(16 * GI, 2 * GI), LIMITED, WardenConfig.DEFAULTS, a, b)).isEmpty();
    }

    @Test
    void memoryMinAtNinetyPercentOfKubepodsWarnsWithTheBiggest() {
        // 8Gi node, 1Gi systemReserved: kubepods may hold 7Gi; Guaranteed requests 4Gi + 2.5Gi = 6.5Gi = 92.9 %
        PodSpec big = pod("big").container("db", res("1", "1", "4Gi", "4Gi")).build();
        PodSpec mid = pod("mid").container("app", res("1", "1", "2560Mi", "2560Mi")).build();
        List<PlanWarnings.Warning> w = warnings(v2Node(8 * GI, 0), TIERED, WardenConfig.DEFAULTS, big, mid);
        assertThat(kinds(w)).containsExactly(PlanWarnings.Kind.MEMORY_MIN_OVERCOMMITTED);
        assertThat(w.getFirst().message()).contains("Σ memory.min of the containers is 6.5Gi, close to (93 % of)"
                + " what kubepods may hold, 7Gi").contains("biggest: default/big/db 4Gi, default/mid/app 2.5Gi");
    }

    @Test
    void memoryMinAboveKubepodsSaysAbove() {
        PodSpec big = pod("big").container("db", res("1", "1", "5Gi", "5Gi")).build();
        PodSpec mid = pod("mid").container("app", res("1", "1", "3Gi", "3Gi")).build();
        List<PlanWarnings.Warning> w = warnings(v2Node(8 * GI, 0), TIERED, WardenConfig.DEFAULTS, big, mid);
        assertThat(w.getFirst().message()).contains("is 8Gi, at or above what kubepods may hold, 7Gi");
    }

    @Test
    void sizesNearTheInt64LimitSaturateInsteadOfOverflowing() {
        // found by HostileAnnotationsPropertiesTest in CI: two pods' memory.min near Long.MAX_VALUE overflowed the
        // sum (Math.addExact) and took the whole plan down with it; the sum saturates, the warning still stands
        PodSpec a = pod("a").container("db", res("1", "1", "7Ei", "7Ei")).build();
        PodSpec b = pod("b").container("db", res("1", "1", "7Ei", "7Ei")).build();
        List<PlanWarnings.Warning> w = warnings(v2Node(8 * GI, 0), TIERED, WardenConfig.DEFAULTS, a, b);
        assertThat(kinds(w)).contains(PlanWarnings.Kind.MEMORY_MIN_OVERCOMMITTED);
        WardenConfig unlimited = new WardenConfig(null, new WardenConfig.SwapConfig(SwapBehavior.UNLIMITED_SWAP,
                null, null), WardenConfig.AnnotationPolicy.DEFAULTS);
        PodSpec c = pod("c").container("app", mem("256Mi", "7Ei")).build();
        PodSpec d = pod("d").container("app", mem("256Mi", "7Ei")).build();
        assertThat(kinds(warnings(v2Node(16 * GI, 0), KubeletSettings.DEFAULTS, unlimited, c, d)))
                .containsExactly(PlanWarnings.Kind.SWAP_UNAVAILABLE);
    }

    @Test
    void memoryMinBelowNinetyPercentIsQuietAndV1HasNone() {
        PodSpec big = pod("big").container("db", res("1", "1", "4Gi", "4Gi")).build();
        PodSpec mid = pod("mid").container("app", res("1", "1", "2Gi", "2Gi")).build(); // 6/7 = 85.7 %
        assertThat(warnings(v2Node(8 * GI, 0), TIERED, WardenConfig.DEFAULTS, big, mid)).isEmpty();
        PodSpec huge = pod("huge").container("db", res("1", "1", "7Gi", "7Gi")).build();
        assertThat(warnings(v1Node(8 * GI, 0), TIERED, WardenConfig.DEFAULTS, huge)).isEmpty();
    }

    @Test
    void runToCompletionInitContainersDoNotCountTowardMemoryMin() {
        PodSpec p = pod("p").init("setup", res("1", "1", "6Gi", "6Gi")).container("app", res("1", "1", "1Gi", "1Gi"))
                .build();
        assertThat(warnings(v2Node(8 * GI, 0), TIERED, WardenConfig.DEFAULTS, p)).isEmpty();
    }

    @Test
    void guaranteedNoSwapPodBesideUnlimitedSwapNeighboursWithoutMemoryQos() {
        PodSpec g = pod("db").ns("prod").container("pg", res("1", "1", "2Gi", "2Gi")).build();
        // the node's behaviour is NoSwap (the Guaranteed pod gets none); the neighbour's nri memory-qos class gives it
        // memory.swap.max=max
        PodSpec n1 = pod("batch").annotation("class.memory-qos.nri.io", "bronze").container("job", mem("256Mi", "1Gi"))
                .build();
        List<PlanWarnings.Warning> w = warnings(v1Node(16 * GI, 4 * GI), KubeletSettings.DEFAULTS, PlannerTest.CFG, g,
                n1);
        assertThat(kinds(w)).containsExactly(PlanWarnings.Kind.GUARANTEED_UNPROTECTED);
        assertThat(w.getFirst().message()).startsWith("Guaranteed pod prod/db may not swap and nothing protects its"
                + " memory (cgroup v1 has no memory.min) while 1 UnlimitedSwap neighbour(s) default/batch/job")
                .contains("can give only its page cache");
        // v2 with MemoryQoS but memoryReservationPolicy None: no memory.min either
        List<PlanWarnings.Warning> v2 = warnings(v2Node(16 * GI, 4 * GI), KubeletSettings.DEFAULTS, PlannerTest.CFG,
                g, n1);
        assertThat(kinds(v2)).containsExactly(PlanWarnings.Kind.GUARANTEED_UNPROTECTED);
        assertThat(v2.getFirst().message()).contains("memory QoS gives it no memory.min");
    }

    @Test
    void guaranteedPodProtectedByMemoryMinOrAloneOrWithoutSwapIsQuiet() {
        PodSpec g = pod("db").ns("prod").container("pg", res("1", "1", "2Gi", "2Gi")).build();
        PodSpec n1 = pod("batch").annotation("class.memory-qos.nri.io", "bronze").container("job", mem("256Mi", "1Gi"))
                .build();
        // TieredReservation: the Guaranteed pod gets memory.min
        assertThat(kinds(warnings(v2Node(16 * GI, 4 * GI), TIERED, PlannerTest.CFG, g, n1)))
                .doesNotContain(PlanWarnings.Kind.GUARANTEED_UNPROTECTED);
        assertThat(warnings(v1Node(16 * GI, 4 * GI), KubeletSettings.DEFAULTS, PlannerTest.CFG, g)).isEmpty();
        // a Guaranteed pod that may swap itself (UnlimitedSwap for every pod) is not the NoSwap case
        assertThat(kinds(warnings(v1Node(16 * GI, 4 * GI), KubeletSettings.DEFAULTS, UNLIMITED, g, n1)))
                .doesNotContain(PlanWarnings.Kind.GUARANTEED_UNPROTECTED);
        // no swap on: nobody swaps past it (the swap warning covers the neighbours)
        assertThat(kinds(warnings(v1Node(16 * GI, 0), KubeletSettings.DEFAULTS, PlannerTest.CFG, g, n1)))
                .containsExactly(PlanWarnings.Kind.SWAP_UNAVAILABLE);
    }

    @Test
    void planCarriesTheWarningsOnItsNode() {
        Plan plan = new Planner(v2Node(16 * GI, 0), KubeletSettings.DEFAULTS, PlannerTest.CFG)
                .plan(List.of(PlannerTest.demoPod()), null, List.of());
        assertThat(plan.node().warnings()).anySatisfy(s -> assertThat(s).startsWith("2 container(s) may swap"));
    }
}
