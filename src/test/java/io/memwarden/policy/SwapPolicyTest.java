package io.memwarden.policy;

import static io.memwarden.policy.TestPods.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.model.CgroupVersion;
import io.memwarden.model.ContainerSpec;
import io.memwarden.model.NodeFacts;
import io.memwarden.model.PodSpec;
import io.memwarden.model.QosClass;
import io.memwarden.model.Resources;
import io.memwarden.model.SwapBehavior;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

/** kubelet-semantics §1 "Per-container behaviour", "LimitedSwap formula", "What is written". */
class SwapPolicyTest {
    static final NodeFacts V2 = v2Node(16 * GI, 4 * GI);

    private static SwapDecision decide(NodeFacts node, PodSpec p, SwapBehavior b) {
        ContainerSpec c = p.containers().getFirst();
        QosClass q = QosClassifier.classify(p, true);
        return SwapPolicy.decide(p, c, q, node, b, "test", null, null);
    }

    @Test
    void limitedSwapIsProportionalToTheRequest() {
        SwapDecision d = decide(V2, pod("b").container("c", mem("512Mi", "1Gi")).build(), SwapBehavior.LIMITED_SWAP);
        // 512Mi / 16Gi * 4Gi = 128Mi
        assertThat(d.intent()).isEqualTo(new SwapIntent.Bytes(128 * MI));
        assertThat(d.behavior()).isEqualTo(SwapBehavior.LIMITED_SWAP);
    }

    @Test
    void limitedSwapTruncatesTheFloat64Product() {
        NodeFacts n = v2Node(3_000_000_000L, 1_000_000_001L);
        SwapDecision d = decide(n, pod("b").container("c", mem("1000000000", "2000000000")).build(), SwapBehavior.LIMITED_SWAP);
        long expected = (long) ((double) 1_000_000_000L / 3_000_000_000d * 1_000_000_001d);
        assertThat(d.intent()).isEqualTo(new SwapIntent.Bytes(expected));
        assertThat(expected).isEqualTo(333_333_333L);
    }

    @Test
    void limitedSwapOnlyForBurstable() {
        assertThat(decide(V2, pod("g").container("c", res("1", "1", "1Gi", "1Gi")).build(), SwapBehavior.LIMITED_SWAP).intent())
                .isEqualTo(new SwapIntent.Zero());
        assertThat(decide(V2, pod("be").container("c", Resources.NONE).build(), SwapBehavior.LIMITED_SWAP).intent())
                .isEqualTo(new SwapIntent.Zero());
    }

    @Test
    void limitedSwapExcludesRequestEqualLimitAndNoMemory() {
        // Burstable pod (cpu request only elsewhere) where this container's memory request == limit
        PodSpec eq = pod("b").container("c", res("100m", null, "1Gi", "1Gi")).build();
        assertThat(decide(V2, eq, SwapBehavior.LIMITED_SWAP).intent()).isEqualTo(new SwapIntent.Zero());
        PodSpec none = pod("b").container("c", res("100m", null, null, null)).build();
        assertThat(decide(V2, none, SwapBehavior.LIMITED_SWAP).intent()).isEqualTo(new SwapIntent.Zero());
    }

    @Test
    void limitedSwapWithLimitButNoRequestGetsZeroBytes() {
        // request 0 != limit: LimitedSwap applies and the formula gives 0
        PodSpec p = pod("b").container("c", new Resources(q("100m"), null, null, bytes("1Gi"))).build();
        assertThat(decide(V2, p, SwapBehavior.LIMITED_SWAP).intent()).isEqualTo(new SwapIntent.Bytes(0));
    }

    @Test
    void limitedSwapIsDemotedOnCgroupV1() {
        SwapDecision d = decide(v1Node(16 * GI, 4 * GI), pod("b").container("c", mem("512Mi", "1Gi")).build(),
                SwapBehavior.LIMITED_SWAP);
        assertThat(d.intent()).isEqualTo(new SwapIntent.Zero());
        assertThat(d.reasons().getFirst()).contains("cgroup v1");
    }

    @Test
    void criticalPodsNeverSwap() {
        PodSpec p = pod("dns").priorityClass("system-cluster-critical").container("c", mem("70Mi", "170Mi")).build();
        for (SwapBehavior b : SwapBehavior.values()) {
            SwapDecision d = decide(V2, p, b);
            assertThat(d.intent()).isEqualTo(new SwapIntent.Zero());
            assertThat(d.behavior()).isEqualTo(SwapBehavior.NO_SWAP);
        }
    }

    @Test
    void noSwapControllerWritesNothing() {
        NodeFacts n = new NodeFacts(16 * GI, 4 * GI, CgroupVersion.V2, false, 4096, null, null);
        assertThat(decide(n, pod("b").container("c", mem("512Mi", "1Gi")).build(), SwapBehavior.NO_SWAP).intent())
                .isEqualTo(new SwapIntent.NotWritten());
    }

    @Test
    void extensionsApplyToEveryNonCriticalQosClass() {
        PodSpec g = pod("g").container("c", res("1", "1", "1Gi", "1Gi")).build();
        assertThat(decide(V2, g, SwapBehavior.UNLIMITED_SWAP).intent()).isEqualTo(new SwapIntent.Unlimited());
        assertThat(decide(V2, g, SwapBehavior.WITHIN_LIMIT_SWAP).intent()).isEqualTo(new SwapIntent.WithinLimit());
    }

    @Test
    void annotationRequestReplacesNodeBehaviour() {
        PodSpec p = pod("b").container("c", mem("512Mi", "1Gi")).build();
        SwapDecision d = SwapPolicy.decide(p, p.containers().getFirst(), QosClass.BURSTABLE, V2,
                SwapBehavior.LIMITED_SWAP, "node", SwapBehavior.NO_SWAP, "annotation x");
        assertThat(d.intent()).isEqualTo(new SwapIntent.Zero());
        assertThat(d.reasons().getFirst()).contains("annotation x");
    }

    /** Invariant: a LimitedSwap allowance never exceeds the node's swap capacity. */
    @Property
    void limitedSwapNeverExceedsSwapCapacity(@ForAll @LongRange(min = 1, max = 1L << 40) long memTotal,
                                             @ForAll @LongRange(min = 0, max = 1L << 40) long swapTotal,
                                             @ForAll @LongRange(min = 0, max = 1L << 40) long request) {
        NodeFacts n = new NodeFacts(memTotal, swapTotal, CgroupVersion.V2, true, 4096, null, null);
        PodSpec p = pod("b").container("c", new Resources(null, null, request, request + 1)).build();
        SwapIntent i = SwapPolicy.decide(p, p.containers().getFirst(), QosClass.BURSTABLE, n,
                SwapBehavior.LIMITED_SWAP, "t", null, null).intent();
        if (i instanceof SwapIntent.Bytes(long b)) {
            assertThat(b).isBetween(0L, swapTotal);
        } else {
            assertThat(i).isEqualTo(new SwapIntent.Zero());
            assertThat(request).isGreaterThan(memTotal);
        }
    }
}
