package io.memwarden.policy;

import static io.memwarden.policy.TestPods.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.memwarden.model.PodSpec;
import io.memwarden.model.Resources;
import io.memwarden.model.SwapBehavior;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/** kubelet-semantics §4 (thresholds, ranking) and §5 (allocatable). */
class EvictionTest {

    @Test
    void percentagesAreFloat32OverCapacity() {
        EvictionThreshold t = EvictionThreshold.parse("memory.available", "10%", null);
        assertThat(t.percentage()).isEqualTo(0.1f);
        long cap = 16 * GI;
        // float32(0.1) = 0.100000001490116..., so the result is one byte above exact 10%
        assertThat(t.resolve(cap)).isEqualTo((long) ((double) cap * (double) 0.1f));
        assertThat(t.resolve(cap)).isEqualTo(1717986944L).isNotEqualTo(cap / 10);
    }

    @Test
    void zeroAndHundredPercentAreDropped() {
        assertThat(EvictionThreshold.parse("memory.available", "0%", null)).isNull();
        assertThat(EvictionThreshold.parse("memory.available", "100%", null)).isNull();
    }

    @Test
    void invalidThresholdsAreErrors() {
        assertThatThrownBy(() -> EvictionThreshold.parse("memory.available", "0", null)).hasMessageContaining("positive");
        assertThatThrownBy(() -> EvictionThreshold.parse("memory.available", "-1Mi", null)).hasMessageContaining("positive");
        assertThatThrownBy(() -> EvictionThreshold.parse("memory.available", "101%", null)).hasMessageContaining("<= 100%");
        assertThatThrownBy(() -> EvictionThreshold.parse("memory.available", "abc%", null)).hasMessageContaining("percentage");
        assertThatThrownBy(() -> EvictionThreshold.parse("memory.free", "1Gi", null)).hasMessageContaining("unsupported");
    }

    @Test
    void allocatableSubtractsReservationsAndHardEviction_s5() {
        var k = new KubeletSettings(true, SwapBehavior.NO_SWAP, null, ReservationPolicy.NONE, true, true, 512 * MI, GI,
                List.of(EvictionThreshold.parse("memory.available", "200Mi", null)), List.of(), false, Set.of("pods"));
        var r = Allocatable.compute(v2Node(16 * GI, 0), k);
        assertThat(r.bytes()).isEqualTo(16 * GI - 512 * MI - GI - 200 * MI);
        assertThat(Allocatable.kubepodsLimit(v2Node(16 * GI, 0), k)).isEqualTo(16 * GI - 512 * MI - GI);
        // default evictionHard 100Mi
        assertThat(Allocatable.compute(v2Node(16 * GI, 0), KubeletSettings.DEFAULTS).bytes()).isEqualTo(16 * GI - 100 * MI);
    }

    @Test
    void reservationAboveCapacityIsInvalid_s5() {
        var k = new KubeletSettings(true, SwapBehavior.NO_SWAP, null, ReservationPolicy.NONE, true, true, 17 * GI, 0,
                List.of(), List.of(), false, Set.of("pods"));
        assertThatThrownBy(() -> Allocatable.compute(v2Node(16 * GI, 0), k)).hasMessageContaining("systemReserved");
    }

    @Test
    void allocatableFloorsAtZero() {
        var k = new KubeletSettings(true, SwapBehavior.NO_SWAP, null, ReservationPolicy.NONE, true, true, 8 * GI, 8 * GI,
                List.of(EvictionThreshold.parse("memory.available", "1Gi", null)), List.of(), false, Set.of("pods"));
        assertThat(Allocatable.compute(v2Node(16 * GI, 0), k).bytes()).isZero();
    }

    private static EvictionRanking.Candidate cand(String name, int priority, String request, String ws) {
        PodSpec p = pod(name).priority(priority).container("c", mem(request, null)).build();
        return new EvictionRanking.Candidate(p, request == null ? 0 : bytes(request), ws == null ? null : bytes(ws));
    }

    @Test
    void rankingOrder_s4() {
        List<EvictionRanking.Candidate> c = List.of(
                cand("under", 0, "1Gi", "512Mi"),
                cand("over-small", 0, "1Gi", "1100Mi"),
                cand("over-big", 0, "1Gi", "3Gi"),
                cand("nostats", 1000, "1Gi", null),
                cand("over-highprio", 100, "1Gi", "5Gi"),
                cand("under-lowprio", -5, "4Gi", "1Gi"));
        assertThat(EvictionRanking.rank(c)).containsExactly(
                "default/nostats", "default/over-big", "default/over-small", "default/over-highprio",
                "default/under-lowprio", "default/under");
    }

    @Test
    void criticalPodsAreNeverRanked() {
        PodSpec dns = pod("coredns").priorityClass("system-cluster-critical").container("c", Resources.NONE).build();
        var list = List.of(new EvictionRanking.Candidate(dns, 0, 10 * GI), cand("x", 0, null, "1Mi"));
        assertThat(EvictionRanking.rank(list)).containsExactly("default/x");
    }

    /** Invariant: the ranking is a total order — any input order gives the same result. */
    @Property(tries = 200)
    void rankingIsATotalOrder(@ForAll @Size(min = 1, max = 12) List<@IntRange(min = 0, max = 5) Integer> shape,
                              @ForAll long seed) {
        List<EvictionRanking.Candidate> c = new ArrayList<>();
        Random r = new Random(seed);
        for (int i = 0; i < shape.size(); i++) {
            int s = shape.get(i);
            String ws = s == 0 ? null : (r.nextInt(4) + 1) + "Gi";
            c.add(cand("p" + i, r.nextInt(3), (r.nextInt(3) + 1) + "Gi", ws));
        }
        List<String> first = EvictionRanking.rank(c);
        List<EvictionRanking.Candidate> shuffled = new ArrayList<>(c);
        Collections.shuffle(shuffled, new Random(seed + 1));
        assertThat(EvictionRanking.rank(shuffled)).isEqualTo(first);
        for (var a : c) {
            for (var b : c) {
                assertThat(Integer.signum(EvictionRanking.ORDER.compare(a, b)))
                        .isEqualTo(-Integer.signum(EvictionRanking.ORDER.compare(b, a)));
            }
        }
    }

    @Test
    void softThresholdKeepsItsGrace() {
        var t = EvictionThreshold.parse("memory.available", "500Mi", Duration.ofSeconds(90));
        assertThat(t.isSoft()).isTrue();
        assertThat(t.resolve(GI)).isEqualTo(500 * MI);
    }
}
