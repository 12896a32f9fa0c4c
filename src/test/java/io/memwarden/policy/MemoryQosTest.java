package io.memwarden.policy;

import static io.memwarden.policy.TestPods.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.model.NodeFacts;
import io.memwarden.model.QosClass;
import io.memwarden.model.SwapBehavior;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

/** kubelet-semantics §2 "Memory QoS": container, pod and QoS-level values. */
class MemoryQosTest {
    static final NodeFacts V2 = v2Node(16 * GI, 0);

    static KubeletSettings kubelet(Double factor, ReservationPolicy rp, boolean gate) {
        return new KubeletSettings(true, SwapBehavior.NO_SWAP, factor, rp, gate, true, 0, 0,
                KubeletSettings.DEFAULT_EVICTION_HARD, List.of(), false, Set.of("pods"));
    }

    @Test
    void highFollowsTheKubeletFormulaWithPageRounding() {
        var v = MemoryQos.container(V2, kubelet(0.9, ReservationPolicy.NONE, true), QosClass.BURSTABLE,
                512 * MI, GI, 0, 15 * GI);
        // 536870912 + 0.9*(1073741824-536870912) = 1020054732.8 -> floor -> /4096 -> 249036 pages
        assertThat(v.files()).containsEntry("memory.high", "1020051456");
        assertThat(MemoryQos.throttleAt(512 * MI, GI, 0.9, 4096) % 4096).isZero();
    }

    @Test
    void noHighWithoutAFactor_137Default() {
        var v = MemoryQos.container(V2, kubelet(null, ReservationPolicy.NONE, true), QosClass.BURSTABLE,
                512 * MI, GI, 0, 15 * GI);
        assertThat(v.files()).doesNotContainKey("memory.high");
    }

    @Test
    void noHighWhenRequestEqualsLimit() {
        var v = MemoryQos.container(V2, kubelet(0.9, ReservationPolicy.NONE, true), QosClass.GUARANTEED, GI, GI, 0, 15 * GI);
        assertThat(v.files()).doesNotContainKey("memory.high");
    }

    @Test
    void bestEffortThrottlesAgainstAllocatable_137() {
        var v = MemoryQos.container(V2, kubelet(0.5, ReservationPolicy.NONE, true), QosClass.BEST_EFFORT, 0, 0, 0, 8 * GI);
        assertThat(v.files()).containsEntry("memory.high", Long.toString(4 * GI));
    }

    @Test
    void noContainerHighWhenPodLevelLimitThrottles() {
        var v = MemoryQos.container(V2, kubelet(0.9, ReservationPolicy.NONE, true), QosClass.BURSTABLE, 0, 0, 2 * GI, 8 * GI);
        assertThat(v.files()).doesNotContainKey("memory.high");
    }

    @Test
    void highNotAboveRequestIsNotWritten() {
        // tiny factor: R + f*(L-R) floors to the request's page -> not > R
        var v = MemoryQos.container(V2, kubelet(0.000001, ReservationPolicy.NONE, true), QosClass.BURSTABLE,
                4096, 8192, 0, 8 * GI);
        assertThat(v.files()).doesNotContainKey("memory.high");
    }

    @Test
    void tieredReservationProtectsByQos() {
        var g = MemoryQos.container(V2, kubelet(null, ReservationPolicy.TIERED_RESERVATION, true), QosClass.GUARANTEED,
                GI, GI, 0, 8 * GI);
        assertThat(g.files()).containsEntry("memory.min", Long.toString(GI)).doesNotContainKey("memory.low");
        var b = MemoryQos.container(V2, kubelet(null, ReservationPolicy.TIERED_RESERVATION, true), QosClass.BURSTABLE,
                GI, 2 * GI, 0, 8 * GI);
        assertThat(b.files()).containsEntry("memory.low", Long.toString(GI)).doesNotContainKey("memory.min");
    }

    @Test
    void noneReservationWritesZeros() {
        var v = MemoryQos.container(V2, kubelet(null, ReservationPolicy.NONE, true), QosClass.GUARANTEED, GI, GI, 0, 8 * GI);
        assertThat(v.files()).containsEntry("memory.min", "0").containsEntry("memory.low", "0");
    }

    @Test
    void gateOffOnV2WritesHighMax() {
        var v = MemoryQos.container(V2, kubelet(0.9, ReservationPolicy.TIERED_RESERVATION, false), QosClass.BURSTABLE,
                GI, 2 * GI, 0, 8 * GI);
        assertThat(v.files()).isEqualTo(Map.of("memory.high", "max"));
    }

    @Test
    void nothingOnCgroupV1() {
        var v = MemoryQos.container(v1Node(16 * GI, 0), kubelet(0.9, ReservationPolicy.TIERED_RESERVATION, true),
                QosClass.BURSTABLE, GI, 2 * GI, 0, 8 * GI);
        assertThat(v.files()).isEmpty();
    }

    @Test
    void podAndQosLevels() {
        var k = kubelet(0.9, ReservationPolicy.TIERED_RESERVATION, true);
        assertThat(MemoryQos.pod(V2, k, QosClass.GUARANTEED, GI, 0).files()).isEqualTo(Map.of("memory.min", Long.toString(GI)));
        assertThat(MemoryQos.pod(V2, k, QosClass.BURSTABLE, GI, 0).files()).isEqualTo(Map.of("memory.low", Long.toString(GI)));
        assertThat(MemoryQos.pod(V2, k, QosClass.BEST_EFFORT, 0, 0).files()).isEmpty();
        assertThat(MemoryQos.pod(V2, k, QosClass.BURSTABLE, GI, 2 * GI).files())
                .containsEntry("memory.high", Long.toString(MemoryQos.throttleAt(GI, 2 * GI, 0.9, 4096)));
        var q = MemoryQos.qosLevel(V2, k, 3 * GI, 2 * GI);
        assertThat(q.get("kubepods")).containsEntry("memory.min", Long.toString(5 * GI));
        assertThat(q.get("kubepods/burstable")).containsEntry("memory.low", Long.toString(2 * GI));
        var none = MemoryQos.qosLevel(V2, kubelet(0.9, ReservationPolicy.NONE, true), 3 * GI, 2 * GI);
        assertThat(none.get("kubepods")).containsEntry("memory.min", "0");
    }

    /** Invariant: when written, request < memory.high <= limit. */
    @Property
    void highIsAboveRequestAndAtMostLimit(@ForAll @LongRange(min = 0, max = 1L << 40) long request,
                                          @ForAll @LongRange(min = 1, max = 1L << 40) long limit,
                                          @ForAll @DoubleRange(min = 0.0001, max = 1.0) @net.jqwik.api.constraints.Scale(6) double factor) {
        Assume.that(request < limit);
        var v = MemoryQos.container(V2, kubelet(factor, ReservationPolicy.NONE, true), QosClass.BURSTABLE,
                request, limit, 0, 8 * GI);
        String high = v.files().get("memory.high");
        if (high != null) {
            long h = Long.parseLong(high);
            assertThat(h).isGreaterThan(request).isLessThanOrEqualTo(limit);
        }
    }
}
