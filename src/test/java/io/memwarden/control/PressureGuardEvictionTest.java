package io.memwarden.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.model.Clock;
import io.memwarden.model.ContainerKind;
import io.memwarden.model.ContainerSpec;
import io.memwarden.model.PodSpec;
import io.memwarden.model.Pressure;
import io.memwarden.model.QosClass;
import io.memwarden.model.Resources;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Evictions that cannot wedge: refusals move the guard to the next-ranked pod without a cooldown, a refused pod is not
 * asked again for one cooldown, and a node that stays HARD gets a direct kill after {@code directAfter}.
 */
class PressureGuardEvictionTest {
    static final long GI = 1L << 30;
    long now;
    final Clock clock = () -> now;
    // soft 2Gi, hard 1Gi, grace 10 s, cooldown 10 s, directAfter 5 s
    final PressureGuard.Config cfg = new PressureGuard.Config(2 * GI, Duration.ofSeconds(10), GI, 20, 40, 0.1, 1000,
            Duration.ofSeconds(10), 0.05, Duration.ofSeconds(5));

    static PodObservation pod(String name, long request, long ws) {
        PodSpec spec = new PodSpec("ns", name, "", null, 0, null, null, null, null,
                List.of(new ContainerSpec("c", ContainerKind.REGULAR, Resources.NONE)));
        return new PodObservation(spec, QosClass.BURSTABLE, request, ws, false,
                List.of(new PodObservation.ContainerObservation("c", ws, 0, -1)));
    }

    /** HARD: 512Mi available, no swap. */
    static final NodeObservation HARD = new NodeObservation(16 * GI, 16 * GI - GI / 2, 0, 0, 0,
            new Pressure(0, 0, 0, 0, 0, 0, 0, 0));
    /** SOFT: 1.5Gi available. */
    static final NodeObservation SOFT = new NodeObservation(16 * GI, 16 * GI - GI - GI / 2, 0, 0, 0,
            new Pressure(0, 0, 0, 0, 0, 0, 0, 0));
    static final NodeObservation QUIET = new NodeObservation(16 * GI, 8 * GI, 0, 0, 0,
            new Pressure(0, 0, 0, 0, 0, 0, 0, 0));

    // ranked a (3Gi over its request), b (2Gi over), c (1Gi over)
    final List<PodObservation> pods = List.of(pod("c", GI, 2 * GI), pod("a", GI, 4 * GI), pod("b", GI, 3 * GI));

    static List<GuardAction> removals(PressureGuard.Decision d) {
        return d.actions().stream().filter(x -> x instanceof GuardAction.Evict || x instanceof GuardAction.Kill)
                .toList();
    }

    static GuardAction only(PressureGuard.Decision d) {
        List<GuardAction> r = removals(d);
        assertThat(r).hasSize(1);
        return r.getFirst();
    }

    @Test
    void aRefusalMovesToTheNextRankedPodAtTheNextRoundWithoutACooldown() {
        PressureGuard g = new PressureGuard(cfg, clock);
        GuardAction first = only(g.decide(HARD, pods));
        assertThat(first).isInstanceOf(GuardAction.Evict.class);
        assertThat(first.pod()).isEqualTo("ns/a");
        g.evictionOutcome("ns/a", PressureGuard.Outcome.REFUSED, "HTTP 429");
        now = 1_000;
        GuardAction second = only(g.decide(HARD, pods));
        assertThat(second).isInstanceOf(GuardAction.Evict.class);
        assertThat(second.pod()).isEqualTo("ns/b");
        g.evictionOutcome("ns/b", PressureGuard.Outcome.FAILED, "HTTP 500");
        now = 2_000;
        GuardAction third = only(g.decide(HARD, pods));
        assertThat(third.pod()).isEqualTo("ns/c");
        g.evictionOutcome("ns/c", PressureGuard.Outcome.TIMED_OUT, "no answer");
        assertThat(g.refused()).containsOnlyKeys("ns/a", "ns/b", "ns/c");
        now = 3_000;
        PressureGuard.Decision waiting = g.decide(HARD, pods);
        assertThat(removals(waiting)).isEmpty();
        assertThat(waiting.why()).anyMatch(w -> w.contains("every candidate refused") && w.contains("direct kill in 2000 ms"));
    }

    @Test
    void aNodeThatStaysHardGetsADirectKillOfTheTopRankedPodAfterDirectAfter() {
        PressureGuard g = new PressureGuard(cfg, clock);
        for (int t = 0; t < 5; t++) {
            now = t * 1_000L;
            PressureGuard.Decision d = g.decide(HARD, pods);
            for (GuardAction a : removals(d)) {
                assertThat(a).isInstanceOf(GuardAction.Evict.class);
                g.evictionOutcome(a.pod(), PressureGuard.Outcome.REFUSED, "HTTP 429 disruption budget");
            }
        }
        now = 5_000;
        GuardAction kill = only(g.decide(HARD, pods));
        assertThat(kill).isInstanceOf(GuardAction.Kill.class);
        assertThat(kill.pod()).as("the top-ranked pod, refused or not").isEqualTo("ns/a");
        GuardAction.Kill k = (GuardAction.Kill) kill;
        assertThat(k.message()).startsWith("The node was low on resource: memory. Threshold quantity: 1Gi");
        assertThat(k.reason()).contains("took no pod off the node").contains("5000 ms")
                .contains("HTTP 429 disruption budget").contains("below the hard threshold");
        // a kill is an eviction for the cooldown: nothing in the next 10 s
        now = 9_999;
        assertThat(removals(g.decide(HARD, pods))).isEmpty();
        now = 15_000;
        assertThat(removals(g.decide(HARD, pods))).hasSize(1);
    }

    @Test
    void anAcceptedEvictionWhosePodStaysIsKilledDirectlyAfterDirectAfter() {
        PressureGuard g = new PressureGuard(cfg, clock);
        GuardAction first = only(g.decide(HARD, pods));
        g.evictionOutcome(first.pod(), PressureGuard.Outcome.ACCEPTED, "accepted");
        now = 4_999;
        assertThat(removals(g.decide(HARD, pods))).isEmpty();
        now = 5_000;
        GuardAction kill = only(g.decide(HARD, pods));
        assertThat(kill).isInstanceOf(GuardAction.Kill.class);
        assertThat(kill.pod()).isEqualTo("ns/a");
        assertThat(((GuardAction.Kill) kill).reason()).contains("accepted the eviction of ns/a but it is still running");
    }

    @Test
    void aStandaloneKillThatLeftThePodRunningIsSaidSo() {
        PressureGuard g = new PressureGuard(cfg, clock);
        GuardAction first = only(g.decide(HARD, pods));
        g.evictionOutcome(first.pod(), PressureGuard.Outcome.KILLED, "killed 0 process(es)");
        now = 5_000;
        GuardAction kill = only(g.decide(HARD, pods));
        assertThat(kill).isInstanceOf(GuardAction.Kill.class);
        assertThat(((GuardAction.Kill) kill).reason()).startsWith("the kill of ns/a did not take it off the node")
                .doesNotContain("Eviction API");
    }

    @Test
    void aPodGoneAfterAnAcceptedEvictionRestartsTheClock() {
        PressureGuard g = new PressureGuard(cfg, clock);
        g.decide(HARD, pods); // evicts a, accepted (no outcome reported: as accepted)
        List<PodObservation> withoutA = pods.stream().filter(p -> !p.pod().name().equals("a")).toList();
        now = 4_000;
        assertThat(removals(g.decide(HARD, withoutA))).isEmpty(); // cooling down, a left: no clock
        now = 10_000;
        GuardAction next = only(g.decide(HARD, withoutA));
        assertThat(next).isInstanceOf(GuardAction.Evict.class);
        assertThat(next.pod()).isEqualTo("ns/b");
        g.evictionOutcome("ns/b", PressureGuard.Outcome.REFUSED, "429");
        now = 14_999;
        for (GuardAction a : removals(g.decide(HARD, withoutA))) {
            assertThat(a).isInstanceOf(GuardAction.Evict.class); // c asked
            g.evictionOutcome(a.pod(), PressureGuard.Outcome.REFUSED, "429");
        }
        now = 15_000; // 5 s after the guard wanted a victim again
        assertThat(only(g.decide(HARD, withoutA))).isInstanceOf(GuardAction.Kill.class);
    }

    @Test
    void aRefusedPodIsAskedAgainOnlyAfterItsBound() {
        PressureGuard g = new PressureGuard(cfg.withDirectAfter(Duration.ofHours(1)), clock);
        List<PodObservation> one = List.of(pod("a", GI, 4 * GI));
        assertThat(only(g.decide(HARD, one)).pod()).isEqualTo("ns/a");
        g.evictionOutcome("ns/a", PressureGuard.Outcome.REFUSED, "429");
        for (long t = 1_000; t < 10_000; t += 1_000) {
            now = t;
            assertThat(removals(g.decide(HARD, one))).as("at %d ms", t).isEmpty();
        }
        now = 10_000;
        GuardAction again = only(g.decide(HARD, one));
        assertThat(again).isInstanceOf(GuardAction.Evict.class);
        assertThat(again.pod()).isEqualTo("ns/a");
    }

    @Test
    void softPressureNeverKillsDirectlyAndLeavingHardStopsTheClock() {
        PressureGuard g = new PressureGuard(cfg, clock);
        g.decide(HARD, pods); // wants a victim from 0
        g.evictionOutcome("ns/a", PressureGuard.Outcome.REFUSED, "429");
        now = 3_000;
        g.decide(QUIET, pods);
        now = 4_000;
        for (GuardAction a : removals(g.decide(HARD, pods))) { // back to HARD: the clock starts at 4 s
            assertThat(a).isInstanceOf(GuardAction.Evict.class);
            g.evictionOutcome(a.pod(), PressureGuard.Outcome.REFUSED, "429");
        }
        now = 8_999;
        assertThat(removals(g.decide(HARD, pods))).allMatch(a -> a instanceof GuardAction.Evict)
                .allSatisfy(a -> g.evictionOutcome(a.pod(), PressureGuard.Outcome.REFUSED, "429"));
        now = 9_000;
        assertThat(only(g.decide(HARD, pods))).isInstanceOf(GuardAction.Kill.class);

        PressureGuard soft = new PressureGuard(cfg, clock);
        for (long t = 0; t <= 120_000; t += 1_000) {
            now = 100_000 + t;
            for (GuardAction a : removals(soft.decide(SOFT, pods))) {
                assertThat(a).isInstanceOf(GuardAction.Evict.class);
                soft.evictionOutcome(a.pod(), PressureGuard.Outcome.REFUSED, "429");
            }
        }
    }

    @Test
    void anOutcomeForAnotherPodOrAnAcceptedOneKeepsTheCooldown() {
        PressureGuard g = new PressureGuard(cfg.withDirectAfter(Duration.ofHours(1)), clock);
        g.decide(HARD, pods);
        g.evictionOutcome("ns/zzz", PressureGuard.Outcome.REFUSED, "429"); // not the victim: ignored
        g.evictionOutcome("ns/a", PressureGuard.Outcome.KILLED, "killed");
        now = 1_000;
        assertThat(removals(g.decide(HARD, pods))).isEmpty();
        assertThat(g.refused()).isEmpty();
    }
}
