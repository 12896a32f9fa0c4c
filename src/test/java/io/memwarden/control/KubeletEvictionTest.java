package io.memwarden.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.model.Pressure;
import io.memwarden.model.SwapBehavior;
import io.memwarden.policy.EvictionThreshold;
import io.memwarden.policy.KubeletSettings;
import io.memwarden.policy.ReservationPolicy;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The kubelet's eviction manager over the memory signals (kubelet-semantics.md §4), pass by pass with scripted
 * observations and times: soft grace, its reset on recovery, minimum reclaim, the MemoryPressure condition's
 * transition period, both signals and the clone of hard memory.available to allocatableMemory.available.
 */
class KubeletEvictionTest {
    static final long GI = 1L << 30;
    static final long MI = 1L << 20;

    static final Pressure CALM = new Pressure(0, 0, 0, 0, 0, 0, 0, 0);

    /** A 16Gi node with {@code available} memory.available and no kubepods observation. */
    static NodeObservation node(long available) {
        return new NodeObservation(16 * GI, 16 * GI - available, 0, 0, 0, CALM);
    }

    static KubeletSettings kubelet(List<EvictionThreshold> hard, List<EvictionThreshold> soft,
                                   List<EvictionThreshold> minReclaim, long maxPodGrace, Duration transition,
                                   Set<String> enforce) {
        return new KubeletSettings(true, SwapBehavior.NO_SWAP, null, ReservationPolicy.NONE, true, true, 0, 0, hard,
                soft, false, enforce, minReclaim, maxPodGrace, transition);
    }

    static EvictionThreshold hard(String signal, String v) {
        return EvictionThreshold.parse(signal, v, null);
    }

    static EvictionThreshold soft(String signal, String v, Duration grace) {
        return EvictionThreshold.parse(signal, v, grace);
    }

    static final String MEM = EvictionThreshold.MEMORY_AVAILABLE;
    static final String ALLOC = EvictionThreshold.ALLOCATABLE_MEMORY_AVAILABLE;

    @Test
    void aSoftThresholdActsOnlyAfterItsGracePeriod() {
        KubeletEviction k = new KubeletEviction(KubeletEviction.Settings.of(kubelet(List.of(),
                List.of(soft(MEM, "1Gi", Duration.ofSeconds(90))), List.of(), 0, Duration.ZERO, Set.of())));
        KubeletEviction.Pass p = k.observe(node(512 * MI), 0);
        assertThat(p.met()).singleElement().satisfies(m -> {
            assertThat(m.acting()).isFalse();
            assertThat(m.thresholdBytes()).isEqualTo(GI);
            assertThat(m.name()).isEqualTo("kubelet evictionSoft memory.available<1Gi");
        });
        assertThat(p.toReclaim()).isNull();
        assertThat(p.memoryPressure()).as("the condition does not wait for the grace period").isTrue();
        assertThat(k.observe(node(512 * MI), 89_999).toReclaim()).as("1 ms before the grace ends").isNull();
        KubeletEviction.Met m = k.observe(node(512 * MI), 90_000).toReclaim();
        assertThat(m).isNotNull();
        assertThat(m.hard()).isFalse();
        assertThat(m.sinceMillis()).isZero();
    }

    @Test
    void theGracePeriodStartsAgainWhenTheSignalRecovers() {
        KubeletEviction k = new KubeletEviction(KubeletEviction.Settings.of(kubelet(List.of(),
                List.of(soft(MEM, "1Gi", Duration.ofSeconds(90))), List.of(), 0, Duration.ZERO, Set.of())));
        k.observe(node(512 * MI), 0);
        k.observe(node(512 * MI), 80_000);
        assertThat(k.observe(node(2 * GI), 85_000).met()).as("recovered").isEmpty();
        assertThat(k.observe(node(512 * MI), 90_000).toReclaim()).as("met again: a new grace period").isNull();
        assertThat(k.observe(node(512 * MI), 179_999).toReclaim()).isNull();
        assertThat(k.observe(node(512 * MI), 180_000).toReclaim()).isNotNull();
    }

    @Test
    void aHardThresholdActsAtOnce() {
        KubeletEviction k = new KubeletEviction(KubeletEviction.Settings.DEFAULTS);
        KubeletEviction.Met m = k.observe(node(99 * MI), 0).toReclaim();
        assertThat(m).isNotNull();
        assertThat(m.hard()).isTrue();
        assertThat(m.name()).isEqualTo("kubelet evictionHard memory.available<100Mi");
        assertThat(k.observe(node(100 * MI), 1_000).met()).as("met when threshold > available, not at equality")
                .isEmpty();
    }

    @Test
    void minimumReclaimKeepsAThresholdMetUntilAvailableIsAboveThresholdPlusReclaim() {
        KubeletEviction k = new KubeletEviction(KubeletEviction.Settings.of(kubelet(List.of(hard(MEM, "500Mi")),
                List.of(), List.of(EvictionThreshold.parseMinimumReclaim(MEM, "1Gi")), 0, Duration.ZERO,
                Set.of())));
        assertThat(k.observe(node(400 * MI), 0).toReclaim()).isNotNull();
        KubeletEviction.Met m = k.observe(node(600 * MI), 10_000).toReclaim();
        assertThat(m).as("above the threshold, below threshold + minimum reclaim").isNotNull();
        assertThat(m.onlyByReclaim()).isTrue();
        assertThat(m.minReclaimBytes()).isEqualTo(GI);
        assertThat(k.observe(node(1524 * MI - 1), 20_000).toReclaim()).as("1 byte short of 500Mi + 1Gi").isNotNull();
        assertThat(k.observe(node(1524 * MI), 30_000).met()).as("reclaimed").isEmpty();
        assertThat(k.observe(node(600 * MI), 40_000).met())
                .as("minimum reclaim applies only after the threshold was acted on").isEmpty();
    }

    @Test
    void aPercentageMinimumReclaimResolvesOnTheSignalsCapacity() {
        KubeletEviction k = new KubeletEviction(KubeletEviction.Settings.of(kubelet(List.of(hard(MEM, "5%")),
                List.of(), List.of(EvictionThreshold.parseMinimumReclaim(MEM, "10%")), 0, Duration.ZERO, Set.of())));
        k.observe(node(512 * MI), 0); // 5 % of 16Gi = 819.2Mi
        KubeletEviction.Met m = k.observe(node(2 * GI), 1_000).toReclaim();
        assertThat(m).isNotNull();
        assertThat(m.thresholdBytes()).isEqualTo((long) (16.0 * GI * 0.05f));
        assertThat(m.minReclaimBytes()).isEqualTo((long) (16.0 * GI * 0.1f));
    }

    @Test
    void minimumReclaimOfASoftThresholdStartsOnlyAfterItsGrace() {
        KubeletEviction k = new KubeletEviction(KubeletEviction.Settings.of(kubelet(List.of(),
                List.of(soft(MEM, "1Gi", Duration.ofSeconds(30))), List.of(EvictionThreshold.parseMinimumReclaim(MEM,
                        "1Gi")), 0, Duration.ZERO, Set.of())));
        k.observe(node(512 * MI), 0);
        assertThat(k.observe(node(GI + MI), 10_000).met()).as("within grace: not acted on, no minimum reclaim")
                .isEmpty();
        k.observe(node(512 * MI), 20_000);
        assertThat(k.observe(node(512 * MI), 50_000).toReclaim()).isNotNull();
        assertThat(k.observe(node(GI + MI), 60_000).toReclaim()).as("acted on: held until 2Gi").isNotNull();
    }

    @Test
    void memoryPressureStaysTrueForTheTransitionPeriodAfterTheLastMetThreshold() {
        KubeletEviction k = new KubeletEviction(KubeletEviction.Settings.of(kubelet(List.of(hard(MEM, "100Mi")),
                List.of(), List.of(), 0, Duration.ofSeconds(60), Set.of())));
        assertThat(k.observe(node(GI), 0).memoryPressure()).isFalse();
        assertThat(k.observe(node(50 * MI), 1_000).memoryPressure()).isTrue();
        assertThat(k.observe(node(GI), 2_000).memoryPressure()).as("recovered, within the transition period")
                .isTrue();
        assertThat(k.observe(node(GI), 60_999).memoryPressure()).isTrue();
        KubeletEviction.Pass p = k.observe(node(GI), 61_000);
        assertThat(p.memoryPressure()).as("60 s without a met threshold").isFalse();
        assertThat(p.pressureLastObservedMillis()).isEqualTo(1_000);
    }

    @Test
    void aTransitionPeriodOfZeroMeansFiveMinutes() {
        KubeletEviction.Settings s = KubeletEviction.Settings.of(kubelet(List.of(hard(MEM, "100Mi")), List.of(),
                List.of(), 0, Duration.ZERO, Set.of()));
        assertThat(s.transitionPeriod()).isEqualTo(Duration.ofMinutes(5));
        KubeletEviction k = new KubeletEviction(s);
        k.observe(node(50 * MI), 0);
        assertThat(k.observe(node(GI), 299_999).memoryPressure()).isTrue();
        assertThat(k.observe(node(GI), 300_000).memoryPressure()).isFalse();
    }

    @Test
    void theAllocatableSignalTriggersWhenTheNodeSignalDoesNot() {
        // hard memory.available<100Mi cloned to allocatableMemory.available (enforceNodeAllocatable: pods)
        KubeletEviction k = new KubeletEviction(KubeletEviction.Settings.DEFAULTS);
        NodeObservation n = node(8 * GI).withPods(12 * GI, 12 * GI - 50 * MI);
        KubeletEviction.Pass p = k.observe(n, 0);
        assertThat(p.met()).singleElement().satisfies(m -> {
            assertThat(m.threshold().signal()).isEqualTo(ALLOC);
            assertThat(m.availableBytes()).isEqualTo(50 * MI);
            assertThat(m.hard()).isTrue();
            assertThat(m.threshold().field()).contains("cloned");
        });
        assertThat(p.memoryPressure()).isTrue();
        assertThat(k.observe(node(8 * GI), 1_000).met()).as("kubepods not observed: no allocatable signal")
                .isEmpty();
    }

    @Test
    void withoutPodsInEnforceNodeAllocatableNothingIsCloned() {
        KubeletSettings k = kubelet(List.of(hard(MEM, "100Mi")), List.of(), List.of(), 0, Duration.ZERO,
                Set.of("none"));
        assertThat(k.memoryThresholds()).extracting(EvictionThreshold::signal).containsExactly(MEM);
        KubeletSettings withPods = kubelet(List.of(hard(MEM, "100Mi"), hard(ALLOC, "1Gi")),
                List.of(soft(MEM, "1Gi", Duration.ofSeconds(30))), List.of(), 0, Duration.ZERO, Set.of("pods"));
        assertThat(withPods.memoryThresholds()).extracting(EvictionThreshold::describe)
                .containsExactly("memory.available<100Mi", "allocatableMemory.available<1Gi",
                        "memory.available<1Gi", "allocatableMemory.available<100Mi");
    }

    @Test
    void softPodGraceIsTheSmallerOfMaxPodGraceAndTheTerminationGracePeriod() {
        KubeletEviction.Settings s = KubeletEviction.Settings.of(kubelet(List.of(), List.of(), List.of(), 45,
                Duration.ZERO, Set.of()));
        assertThat(s.softPodGraceSeconds(30)).isEqualTo(30);
        assertThat(s.softPodGraceSeconds(60)).isEqualTo(45);
        assertThat(KubeletEviction.Settings.DEFAULTS.softPodGraceSeconds(30)).as("evictionMaxPodGracePeriod 0")
                .isZero();
    }
}
