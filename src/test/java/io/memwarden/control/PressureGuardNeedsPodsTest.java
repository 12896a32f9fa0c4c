package io.memwarden.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.model.QosClass;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.From;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/**
 * {@link PressureGuard#needsPods}: the loops skip reading the containers when it is false, so a guard fed no pods
 * then must decide exactly as one fed the real pods.
 */
class PressureGuardNeedsPodsTest {
    static final long GI = PressureGuardTest.GI;
    long now;
    final PressureGuardTest t = new PressureGuardTest();

    /** One round: available bytes, PSI some/full avg10, swap free, swap-ins since the last round, ms since it. */
    record Round(long available, double some, double full, long swapFree, long swapIns, long dt) {}

    @Provide
    Arbitrary<Round> rounds() {
        // around the thresholds of the test config: soft 2 GiB, hard 1 GiB, PSI some 20 %, full 40 %
        return Combinators.combine(Arbitraries.longs().between(0, 4 * GI), Arbitraries.of(0.0, 19.99, 20.0, 35.0),
                Arbitraries.of(0.0, 39.99, 40.0), Arbitraries.of(0L, GI / 4, 4 * GI), Arbitraries.of(0L, 100L, 50_000L),
                Arbitraries.of(1000L, 2500L, 6000L)).as(Round::new);
    }

    @Property(tries = 300)
    void decisionsWithoutPodsWhereTheyCannotMatterAreTheSame(@ForAll @Size(max = 40) List<@From("rounds") Round> script) {
        PressureGuard always = new PressureGuard(t.cfg, () -> now);
        PressureGuard skipping = new PressureGuard(t.cfg, () -> now);
        long swapIn = 0;
        now = 0;
        for (Round r : script) {
            now += r.dt();
            swapIn += r.swapIns();
            NodeObservation n = PressureGuardTest.node(r.available(), r.swapFree(), swapIn, r.some(), r.full());
            PressureGuard.Decision full = always.decide(n, t.pods);
            PressureGuard.Decision skipped = skipping.decide(n, skipping.needsPods(n) ? t.pods : List.of());
            assertThat(skipped).isEqualTo(full);
            if (!always.needsPods(n)) {
                assertThat(full.level()).isEqualTo(PressureGuard.Level.NONE);
            }
        }
    }

    @Test
    void eachSignalNearItsThresholdNeedsThePods() {
        PressureGuard g = new PressureGuard(t.cfg, () -> now);
        assertThat(g.needsPods(PressureGuardTest.node(8 * GI, 4 * GI, 0, 0, 0))).isFalse();
        assertThat(g.needsPods(PressureGuardTest.node(2 * GI, 4 * GI, 0, 19.99, 39.99))).isFalse(); // at soft: quiet
        assertThat(g.needsPods(PressureGuardTest.node(2 * GI - 1, 4 * GI, 0, 0, 0))).isTrue(); // below soft
        assertThat(g.needsPods(PressureGuardTest.node(8 * GI, 4 * GI, 0, 20, 0))).isTrue(); // PSI some
        assertThat(g.needsPods(PressureGuardTest.node(8 * GI, 4 * GI, 0, 0, 40))).isTrue(); // PSI full
        // and a quiet node really leaves every pod alone, however they look
        assertThat(g.decide(PressureGuardTest.node(8 * GI, 0, 0, 0, 0), List.of(PressureGuardTest.pod("x",
                QosClass.BEST_EFFORT, 0, null, 0, 15 * GI, -1, false))).actions()).isEmpty();
    }
}
