package io.memwarden.control;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import java.util.List;

/** Bounds every decision keeps: pages_to_scan within min..max, sleep at or above the floor, run in 0..2. */
class KsmPolicyPropertiesTest {

    @Provide
    Arbitrary<KubevirtKsm.Settings> kubevirtSettings() {
        Arbitrary<Integer> min = Arbitraries.integers().between(0, 5000);
        return Combinators.combine(min, Arbitraries.integers().between(0, 5000),
                Arbitraries.integers().between(0, 100_000), Arbitraries.integers().between(-5000, 0),
                Arbitraries.longs().between(1, 10_000), Arbitraries.floats().between(0, 1))
                .as((m, span, boost, decay, base, free) -> new KubevirtKsm.Settings(boost, decay, m, m + span,
                        m + span / 2, base, free));
    }

    @Property(tries = 500)
    void kubevirtKeepsPagesInBoundsAndSleepAboveTheFloor(@ForAll("kubevirtSettings") KubevirtKsm.Settings s,
            @ForAll @LongRange(min = 1, max = 1L << 32) long total, @ForAll @LongRange(min = 0, max = 1L << 32) long avail,
            @ForAll @IntRange(min = 0, max = 2) int run, @ForAll @IntRange(min = 0, max = 1000) int where) {
        long pages = s.pagesMin() + (long) (s.pagesMax() - s.pagesMin()) * where / 1000; // what the tuner wrote
        KsmDecision d = new KubevirtKsm(s).decide(new KsmObservation(total, Math.min(avail, total), 0, 0, 0, 0, run,
                pages, 20, 0, 0, 0, 0, 0, 0));
        assertThat(d.run()).isIn(0, 1);
        if (d.run() == 1) {
            assertThat(d.pagesToScan()).isBetween((long) s.pagesMin(), (long) s.pagesMax());
            assertThat(d.sleepMillisecs()).isGreaterThanOrEqualTo(s.sleepMsBaseline() / 10);
        } else {
            assertThat(d.pagesToScan()).isNull();
            assertThat(d.sleepMillisecs()).isNull();
        }
    }

    @Property(tries = 300)
    void ksmtunedKeepsPagesInBoundsOverAnySequence(@ForAll @IntRange(min = 0, max = 3000) int min,
            @ForAll @IntRange(min = 0, max = 3000) int span,
            @ForAll("memory") List<long[]> sequence) {
        Ksmtuned t = new Ksmtuned(new Ksmtuned.Settings(300, -50, min, min + span, 10, 20, 2048));
        for (long[] m : sequence) {
            KsmDecision d = t.decide(new KsmObservation(m[0], m[1], m[1], 0, 0, m[2], 1, 100, 20, 0, 0, 0, 0, 0, 0));
            if (d.run() == 1) {
                assertThat(d.pagesToScan()).isBetween((long) min, (long) min + span);
                assertThat(d.sleepMillisecs()).isGreaterThanOrEqualTo(10);
            }
        }
    }

    @Provide
    Arbitrary<List<long[]>> memory() {
        Arbitrary<long[]> one = Combinators.combine(Arbitraries.longs().between(1, 1L << 32),
                Arbitraries.integers().between(0, 100), Arbitraries.integers().between(0, 120))
                .as((total, freePct, committedPct) -> new long[] {total, total * freePct / 100,
                    total * committedPct / 100});
        return one.list().ofMinSize(1).ofMaxSize(30);
    }
}
