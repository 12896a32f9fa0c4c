package io.memwarden.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.model.Clock;
import io.memwarden.model.ContainerKind;
import io.memwarden.model.ContainerSpec;
import io.memwarden.model.PodSpec;
import io.memwarden.model.Pressure;
import io.memwarden.model.QosClass;
import io.memwarden.model.Resources;
import io.memwarden.policy.EvictionThreshold;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The pressure guard with the kubelet's eviction settings beside its own: which acts, with which pod grace period,
 * and what each action records about it (for explain).
 */
class PressureGuardKubeletTest {
    static final long GI = 1L << 30;
    static final long MI = 1L << 20;
    long now;
    final Clock clock = () -> now;
    /** memwarden's own thresholds low (soft 200Mi, hard 150Mi), so that the kubelet's can act first */
    final PressureGuard.Config low = new PressureGuard.Config(200 * MI, Duration.ofSeconds(5), 150 * MI, 101, 101,
            0.1, 1000, Duration.ofSeconds(10), 0.05);

    static PodObservation pod(String name, long ws, Long terminationGrace) {
        PodSpec spec = new PodSpec("ns", name, "", null, 0, null, null, null, null,
                List.of(new ContainerSpec("c", ContainerKind.REGULAR, Resources.NONE)), Map.of(), terminationGrace);
        return new PodObservation(spec, QosClass.BURSTABLE, 0, ws, false,
                List.of(new PodObservation.ContainerObservation("c", ws, 0, -1)));
    }

    static NodeObservation node(long available) {
        return new NodeObservation(16 * GI, 16 * GI - available, 0, 0, 0, new Pressure(0, 0, 0, 0, 0, 0, 0, 0));
    }

    final List<PodObservation> pods = List.of(pod("big", 4 * GI, 60L), pod("small", GI, null));

    static KubeletEviction kubelet(long maxPodGrace, EvictionThreshold... thresholds) {
        return new KubeletEviction(new KubeletEviction.Settings(List.of(thresholds), Map.of(), maxPodGrace,
                Duration.ofMinutes(5)));
    }

    static GuardAction.Evict evict(PressureGuard.Decision d) {
        return d.actions().stream().filter(a -> a instanceof GuardAction.Evict).map(a -> (GuardAction.Evict) a)
                .findFirst().orElse(null);
    }

    @Test
    void aKubeletSoftThresholdEvictsOnlyAfterItsGraceWithTheSoftPodGrace() {
        PressureGuard g = new PressureGuard(low, kubelet(45, EvictionThreshold.parse(
                EvictionThreshold.MEMORY_AVAILABLE, "1Gi", Duration.ofSeconds(90))), clock);
        NodeObservation n = node(512 * MI); // above memwarden's own thresholds
        for (now = 0; now < 90_000; now += 10_000) {
            PressureGuard.Decision d = g.decide(n, pods);
            assertThat(d.actions()).as("within the grace period at %d ms", now).isEmpty();
            assertThat(d.why()).anyMatch(w -> w.contains("within its grace period"));
        }
        now = 90_000;
        PressureGuard.Decision d = g.decide(n, pods);
        assertThat(d.level()).isEqualTo(PressureGuard.Level.SOFT);
        GuardAction.Evict e = evict(d);
        assertThat(e).isNotNull();
        assertThat(e.pod()).isEqualTo("ns/big");
        assertThat(e.podGraceSeconds()).as("min(evictionMaxPodGracePeriod 45, terminationGracePeriodSeconds 60)")
                .isEqualTo(45);
        assertThat(e.acted().by()).isEqualTo(GuardTrigger.KUBELET);
        assertThat(e.acted().threshold()).isEqualTo("evictionSoft memory.available<1Gi (grace 90s)");
        assertThat(e.acted().versus()).contains("memwarden's own thresholds").contains("were not reached");
        assertThat(e.message()).startsWith("The node was low on resource: memory. Threshold quantity: 1Gi, available: 512Mi.");
        assertThat(d.actions()).as("a soft kubelet threshold evicts only, as the kubelet does")
                .allMatch(a -> a instanceof GuardAction.Evict);
    }

    @Test
    void theSoftPodGraceIsTheTerminationGracePeriodWhenSmallerAndTheDefault30WhenUnknown() {
        PressureGuard g = new PressureGuard(low, kubelet(600, EvictionThreshold.parse(
                EvictionThreshold.MEMORY_AVAILABLE, "1Gi", Duration.ZERO.plusSeconds(1))), clock);
        g.decide(node(512 * MI), List.of(pod("only", GI, null)));
        now = 1_000;
        assertThat(evict(g.decide(node(512 * MI), List.of(pod("only", GI, null)))).podGraceSeconds())
                .isEqualTo(PodSpec.DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS);
    }

    @Test
    void aKubeletHardThresholdEvictsAtOnceWithOneSecondGraceAndKeepsTheDirectKill() {
        PressureGuard g = new PressureGuard(low, kubelet(45, EvictionThreshold.parse(
                EvictionThreshold.MEMORY_AVAILABLE, "300Mi", null)), clock);
        PressureGuard.Decision d = g.decide(node(250 * MI), pods);
        assertThat(d.level()).isEqualTo(PressureGuard.Level.HARD);
        GuardAction.Evict e = evict(d);
        assertThat(e.podGraceSeconds()).isEqualTo(KubeletEviction.HARD_POD_GRACE_SECONDS);
        assertThat(e.acted().by()).isEqualTo(GuardTrigger.KUBELET);
        assertThat(e.acted().line()).isEqualTo("guard acted at 250Mi memory.available (kubelet evictionHard"
                + " memory.available<300Mi), memwarden's own thresholds (loops.guard.softAvailable 200Mi,"
                + " hardAvailable 150Mi) were not reached");
    }

    @Test
    void memwardensOwnHardThresholdActsBeforeTheKubeletsAndSaysSo() {
        PressureGuard.Config own = new PressureGuard.Config(400 * MI, Duration.ofSeconds(5), 200 * MI, 101, 101,
                0.1, 1000, Duration.ofSeconds(10), 0.05);
        PressureGuard g = new PressureGuard(own, new KubeletEviction(KubeletEviction.Settings.DEFAULTS), clock);
        GuardAction.Evict e = evict(g.decide(node(180 * MI), pods));
        assertThat(e.acted().by()).isEqualTo(GuardTrigger.MEMWARDEN);
        assertThat(e.acted().line()).isEqualTo("guard acted at 180Mi memory.available (memwarden"
                + " loops.guard.hardAvailable 200Mi), before the kubelet's hard threshold memory.available<100Mi");
        assertThat(e.podGraceSeconds()).isEqualTo(1);
    }

    @Test
    void bothMetSaysTheKubeletsWasMetToo() {
        PressureGuard.Config own = new PressureGuard.Config(400 * MI, Duration.ofSeconds(5), 200 * MI, 101, 101,
                0.1, 1000, Duration.ofSeconds(10), 0.05);
        PressureGuard g = new PressureGuard(own, new KubeletEviction(KubeletEviction.Settings.DEFAULTS), clock);
        GuardAction.Evict e = evict(g.decide(node(80 * MI), pods));
        assertThat(e.acted().by()).isEqualTo(GuardTrigger.MEMWARDEN);
        assertThat(e.acted().versus()).isEqualTo("the kubelet's hard threshold memory.available<100Mi was met too");
    }

    @Test
    void theAllocatableSignalTriggersTheGuardWhenTheNodeSignalDoesNot() {
        PressureGuard g = new PressureGuard(low, new KubeletEviction(KubeletEviction.Settings.DEFAULTS), clock);
        NodeObservation n = node(8 * GI).withPods(12 * GI, 12 * GI - 60 * MI);
        assertThat(g.needsPods(n)).isTrue();
        PressureGuard.Decision d = g.decide(n, pods);
        assertThat(d.level()).isEqualTo(PressureGuard.Level.HARD);
        GuardAction.Evict e = evict(d);
        assertThat(e.acted().signal()).isEqualTo(EvictionThreshold.ALLOCATABLE_MEMORY_AVAILABLE);
        assertThat(e.acted().availableBytes()).isEqualTo(60 * MI);
        assertThat(e.message()).contains("Threshold quantity: 100Mi, available: 60Mi.");
        assertThat(g.needsPods(node(8 * GI))).as("without the kubepods observation, nothing near a threshold")
                .isFalse();
    }

    @Test
    void minimumReclaimKeepsTheGuardEvictingAboveTheThreshold() {
        KubeletEviction k = new KubeletEviction(new KubeletEviction.Settings(List.of(EvictionThreshold.parse(
                EvictionThreshold.MEMORY_AVAILABLE, "300Mi", null)), Map.of(EvictionThreshold.MEMORY_AVAILABLE,
                EvictionThreshold.parseMinimumReclaim(EvictionThreshold.MEMORY_AVAILABLE, "1Gi")), 0,
                Duration.ofMinutes(5)));
        PressureGuard.Config noCooldown = new PressureGuard.Config(200 * MI, Duration.ofSeconds(5), 150 * MI, 101,
                101, 0.1, 1000, Duration.ZERO, 0.05);
        PressureGuard g = new PressureGuard(noCooldown, k, clock);
        assertThat(evict(g.decide(node(250 * MI), pods)).pod()).isEqualTo("ns/big");
        now = 10_000; // big is gone; 700Mi available: above 300Mi, below 300Mi + 1Gi
        PressureGuard.Decision d = g.decide(node(700 * MI), List.of(pods.get(1)));
        assertThat(evict(d)).as("the minimum reclaim is not reached: the guard keeps acting").isNotNull();
        assertThat(evict(d).acted().threshold()).contains("with minimum reclaim 1Gi");
        now = 20_000;
        assertThat(g.decide(node(1324 * MI), List.of(pods.get(1))).actions()).as("300Mi + 1Gi reached").isEmpty();
    }

    @Test
    void withoutKubeletSettingsTheGuardIsUnchanged() {
        PressureGuard g = new PressureGuard(low, clock);
        assertThat(g.decide(node(50 * MI), pods).actions()).anyMatch(a -> a instanceof GuardAction.Evict e
                && e.acted().by().equals(GuardTrigger.MEMWARDEN)
                && e.acted().versus().equals("the kubelet's eviction thresholds are not known to this guard"));
    }

    @Test
    void theLevelAndTheConditionAreKept() {
        PressureGuard g = new PressureGuard(low, kubelet(0, EvictionThreshold.parse(
                EvictionThreshold.MEMORY_AVAILABLE, "1Gi", Duration.ofSeconds(30))), clock);
        g.decide(node(512 * MI), pods);
        assertThat(g.level()).as("within the kubelet's grace: nothing acts").isEqualTo(PressureGuard.Level.NONE);
        assertThat(g.kubelet().last().memoryPressure()).isTrue();
        now = 1_000;
        g.decide(node(4 * GI), pods);
        assertThat(g.kubelet().last().memoryPressure()).as("the transition period holds it").isTrue();
        assertThat(Set.copyOf(g.kubelet().last().met())).isEmpty();
    }
}
