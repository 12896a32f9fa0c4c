package io.memwarden.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RangeOffloaderTest {
    static final long MI = 1L << 20;
    static final long HOT = 0x7f0000000000L;
    static final long COLD = 0x7f1000000000L;
    long now;
    final RangeOffloader off = new RangeOffloader(new RangeOffloader.Config(Duration.ofSeconds(2), 3, 64 * MI, 20_000,
            256, 2, 0.10), () -> now);

    /** A hot 32 MiB range touched every sample and a cold one of {@code coldMi} MiB, referenced as given. */
    static List<RangeOffloader.Range> ranges(long coldMi, long coldResident, boolean coldTouched) {
        return List.of(new RangeOffloader.Range(7, HOT, HOT + 32 * MI, 32 * MI, 32 * MI),
                new RangeOffloader.Range(7, COLD, COLD + coldMi * MI, coldResident, coldTouched ? coldResident : 0));
    }

    static RangeOffloader.Observation obs(List<RangeOffloader.Range> r, long psi, long refaults, long allowance,
                                          long swapFree) {
        return new RangeOffloader.Observation("c", r, psi, refaults, allowance, swapFree, 1024 * MI);
    }

    static RangeOffloader.Observation quiet(List<RangeOffloader.Range> r) {
        return obs(r, -1, 0, -1, 1024 * MI);
    }

    List<RangeOffloader.Decision> step(RangeOffloader.Observation o) {
        now += 2000;
        return off.decide(List.of(o));
    }

    @Test
    void pagesOutOnlyRangesUnreferencedForTheNeededSamples() {
        assertThat(step(quiet(ranges(48, 48 * MI, true)))).isEmpty(); // first sample: the cold set was just written
        assertThat(step(quiet(ranges(48, 48 * MI, false)))).isEmpty(); // idle 1
        assertThat(step(quiet(ranges(48, 48 * MI, false)))).isEmpty(); // idle 2
        var d = step(quiet(ranges(48, 48 * MI, false))); // idle 3: cold
        assertThat(d).singleElement().satisfies(x -> {
            assertThat(x.ranges()).containsExactly(new RangeOffloader.Pageout(7, COLD, 48 * MI));
            assertThat(x.estimatedBytes()).isEqualTo(48 * MI);
            assertThat(x.trigger()).contains("unreferenced for 3+ samples").contains("no per-cgroup PSI");
        });
        // the hot range never goes; the cold one is out (nothing resident): nothing more to do
        for (int i = 0; i < 10; i++) {
            assertThat(step(quiet(ranges(48, 0, false)))).isEmpty();
        }
    }

    @Test
    void theRateLimitSplitsALargeRangeIntoConsecutiveChunks() {
        step(quiet(ranges(100, 100 * MI, true)));
        for (int i = 0; i < 2; i++) {
            step(quiet(ranges(100, 100 * MI, false)));
        }
        var first = step(quiet(ranges(100, 100 * MI, false)));
        assertThat(first).singleElement().satisfies(x -> {
            assertThat(x.ranges()).containsExactly(new RangeOffloader.Pageout(7, COLD, 64 * MI));
            assertThat(x.estimatedBytes()).isEqualTo(64 * MI);
        });
        var second = step(quiet(ranges(100, 36 * MI, false)));
        assertThat(second).singleElement().satisfies(x -> assertThat(x.ranges())
                .containsExactly(new RangeOffloader.Pageout(7, COLD + 64 * MI, 36 * MI)));
    }

    @Test
    void sparselyResidentRangesAreChargedByTheirResidentShare() {
        step(quiet(ranges(256, 64 * MI, true)));
        for (int i = 0; i < 2; i++) {
            step(quiet(ranges(256, 64 * MI, false)));
        }
        // a quarter resident: 256 MiB of address range hold ~64 MiB, which fits the 64 MiB budget
        assertThat(step(quiet(ranges(256, 64 * MI, false)))).singleElement().satisfies(x -> {
            assertThat(x.ranges()).containsExactly(new RangeOffloader.Pageout(7, COLD, 256 * MI));
            assertThat(x.estimatedBytes()).isEqualTo(64 * MI);
        });
    }

    /** Runs to the point where the cold range is due, with the given refault counter. */
    void warmUp(long refaults) {
        step(obs(ranges(100, 100 * MI, true), -1, refaults, -1, 1024 * MI));
        step(obs(ranges(100, 100 * MI, false), -1, refaults, -1, 1024 * MI));
        step(obs(ranges(100, 100 * MI, false), -1, refaults, -1, 1024 * MI));
    }

    @Test
    void backsOffOnARefaultBurstAndLongerOnTheNextOne() {
        warmUp(0);
        assertThat(step(obs(ranges(100, 100 * MI, false), -1, 1000, -1, 1024 * MI))).isEmpty(); // burst: 2 << 1 = 4
        for (int i = 0; i < 4; i++) {
            assertThat(step(obs(ranges(100, 100 * MI, false), -1, 1000, -1, 1024 * MI))).as("interval " + i).isEmpty();
        }
        assertThat(step(obs(ranges(100, 100 * MI, false), -1, 1000, -1, 1024 * MI))).isNotEmpty();
        // another burst soon after: the back-off doubles (2 << 2 = 8 intervals)
        assertThat(step(obs(ranges(100, 36 * MI, false), -1, 2000, -1, 1024 * MI))).isEmpty();
        for (int i = 0; i < 8; i++) {
            assertThat(step(obs(ranges(100, 36 * MI, false), -1, 2000, -1, 1024 * MI))).as("interval " + i).isEmpty();
        }
        assertThat(step(obs(ranges(100, 36 * MI, false), -1, 2000, -1, 1024 * MI))).isNotEmpty();
        // a burst after a quiet minute counts as a first one again (4 intervals)
        now += 60_000;
        assertThat(step(obs(ranges(100, 36 * MI, false), -1, 3000, -1, 1024 * MI))).isEmpty();
        for (int i = 0; i < 4; i++) {
            assertThat(step(obs(ranges(100, 36 * MI, false), -1, 3000, -1, 1024 * MI))).isEmpty();
        }
        assertThat(step(obs(ranges(100, 36 * MI, false), -1, 3000, -1, 1024 * MI))).isNotEmpty();
    }

    @Test
    void refaultsBelowTheBoundDoNotStopIt() {
        warmUp(0);
        assertThat(step(obs(ranges(100, 100 * MI, false), -1, 256, -1, 1024 * MI))).isNotEmpty();
    }

    @Test
    void backsOffOnTheContainersOwnStall() {
        step(obs(ranges(100, 100 * MI, true), 0, 0, -1, 1024 * MI));
        step(obs(ranges(100, 100 * MI, false), 0, 0, -1, 1024 * MI));
        step(obs(ranges(100, 100 * MI, false), 0, 0, -1, 1024 * MI));
        assertThat(step(obs(ranges(100, 100 * MI, false), 20_000, 0, -1, 1024 * MI))).isEmpty(); // at the target
        assertThat(step(obs(ranges(100, 100 * MI, false), 20_000, 0, -1, 1024 * MI))).isEmpty(); // backing off
        assertThat(step(obs(ranges(100, 100 * MI, false), 20_000, 0, -1, 1024 * MI))).isEmpty();
        var d = step(obs(ranges(100, 100 * MI, false), 25_000, 0, -1, 1024 * MI)); // 5 ms: below the target
        assertThat(d).singleElement().satisfies(x -> assertThat(x.trigger()).contains("stall 5000 µs"));
    }

    @Test
    void respectsTheSwapAllowance() {
        step(obs(ranges(100, 100 * MI, true), -1, 0, 10 * MI, 1024 * MI));
        step(obs(ranges(100, 100 * MI, false), -1, 0, 10 * MI, 1024 * MI));
        step(obs(ranges(100, 100 * MI, false), -1, 0, 10 * MI, 1024 * MI));
        assertThat(step(obs(ranges(100, 100 * MI, false), -1, 0, 10 * MI, 1024 * MI))).singleElement()
                .satisfies(x -> {
                    assertThat(x.estimatedBytes()).isEqualTo(10 * MI);
                    assertThat(x.ranges()).containsExactly(new RangeOffloader.Pageout(7, COLD, 10 * MI));
                });
        // allowance used up: nothing
        assertThat(step(obs(ranges(100, 90 * MI, false), -1, 0, 0, 1024 * MI))).isEmpty();
    }

    @Test
    void stopsWhenSwapIsNearlyFullAndNeverEatsTheReserve() {
        warmUp(0);
        // reserve is 10 % of 1 GiB = 102.4 MiB; 110 MiB free leaves 7.6 MiB to use
        assertThat(step(obs(ranges(100, 100 * MI, false), -1, 0, -1, 110 * MI))).singleElement()
                .satisfies(x -> assertThat(x.estimatedBytes()).isLessThanOrEqualTo(110 * MI - 1024 * MI / 10));
        assertThat(step(obs(ranges(100, 92 * MI, false), -1, 0, -1, 1024 * MI / 10))).isEmpty();
        assertThat(step(obs(ranges(100, 92 * MI, false), -1, 0, -1, 50 * MI))).isEmpty();
        // no swap at all, or a container that may not swap
        assertThat(step(obs(ranges(100, 92 * MI, false), -1, 0, -1, 0))).isEmpty();
    }

    @Test
    void aPromotedRangeMustStayIdleTwiceAsLong() {
        step(quiet(ranges(48, 48 * MI, true)));
        for (int i = 0; i < 2; i++) {
            step(quiet(ranges(48, 48 * MI, false)));
        }
        assertThat(step(quiet(ranges(48, 48 * MI, false)))).isNotEmpty();
        // it was not cold after all: referenced again
        assertThat(step(quiet(ranges(48, 8 * MI, true)))).isEmpty();
        List<Integer> quietSamplesUntilNext = new ArrayList<>();
        for (int i = 1; i <= 8; i++) {
            if (!step(quiet(ranges(48, 8 * MI, false))).isEmpty()) {
                quietSamplesUntilNext.add(i);
            }
        }
        assertThat(quietSamplesUntilNext).containsExactly(6);
    }

    @Test
    void rangesOfEveryProcessAreConsideredColdestFirst() {
        List<RangeOffloader.Range> r1 = List.of(new RangeOffloader.Range(1, COLD, COLD + 40 * MI, 40 * MI, 40 * MI),
                new RangeOffloader.Range(2, COLD, COLD + 40 * MI, 40 * MI, 0));
        List<RangeOffloader.Range> r0 = List.of(new RangeOffloader.Range(1, COLD, COLD + 40 * MI, 40 * MI, 0),
                new RangeOffloader.Range(2, COLD, COLD + 40 * MI, 40 * MI, 0));
        step(quiet(r1));
        step(quiet(r0));
        assertThat(step(obs(r0, -1, 0, 0, 1024 * MI))).isEmpty(); // pid 2 idle 3, pid 1 idle 2; no allowance now
        var d = step(quiet(r0)); // pid 2: idle 4, pid 1: idle 3 — both cold, budget 64 MiB
        assertThat(d).singleElement().satisfies(x -> assertThat(x.ranges()).containsExactly(
                new RangeOffloader.Pageout(2, COLD, 40 * MI), new RangeOffloader.Pageout(1, COLD, 24 * MI)));
    }

    @Test
    void partlyReferencedRangesGiveAShareOfTheirNeverReferencedBytesToTheLru() {
        RangeOffloader mixed = new RangeOffloader(new RangeOffloader.Config(Duration.ofSeconds(2), 3, 64 * MI, 20_000,
                256, 2, 0.10, 0.5), () -> now);
        // one 256 MiB mapping, 200 MiB resident, 30–40 MiB of it referenced per sample
        long[] refs = {256 * MI, 30 * MI, 40 * MI, 35 * MI, 30 * MI};
        List<List<RangeOffloader.Decision>> out = new ArrayList<>();
        for (long ref : refs) {
            now += 2000;
            out.add(mixed.decide(List.of(quiet(List.of(new RangeOffloader.Range(7, COLD, COLD + 256 * MI, 200 * MI,
                    Math.min(ref, 200 * MI)))))));
        }
        assertThat(out.get(0)).isEmpty(); // first sample
        assertThat(out.get(1)).isEmpty(); // the window (3 samples) still holds the initial write
        assertThat(out.get(2)).isEmpty();
        // window = 30, 40, 35: never-referenced 200 − 40 = 160 MiB, half of it, capped by the 64 MiB budget
        assertThat(out.get(3)).singleElement().satisfies(d -> {
            assertThat(d.ranges()).isEmpty();
            assertThat(d.reclaimBytes()).isEqualTo(64 * MI);
            assertThat(d.trigger()).contains("partly referenced").contains("through the LRU");
        });
        // it went (resident 136 MiB): window 35, 30, 30 → (136 − 35) / 2 = 50.5 MiB
        now += 2000;
        assertThat(mixed.decide(List.of(quiet(List.of(new RangeOffloader.Range(7, COLD, COLD + 256 * MI, 136 * MI,
                30 * MI)))))).singleElement().satisfies(d -> assertThat(d.reclaimBytes()).isEqualTo(101 * MI / 2));
        // near the working set the estimate falls below 1 MiB: nothing
        now += 2000;
        assertThat(mixed.decide(List.of(quiet(List.of(new RangeOffloader.Range(7, COLD, COLD + 256 * MI, 31 * MI,
                30 * MI)))))).isEmpty();
    }

    @Test
    void samplesOncePerInterval() {
        assertThat(off.due("c")).isTrue();
        step(quiet(ranges(48, 48 * MI, true)));
        now += 1000;
        assertThat(off.due("c")).isFalse();
        assertThat(off.decide(List.of(quiet(ranges(48, 48 * MI, false))))).isEmpty();
        now += 1000;
        assertThat(off.due("c")).isTrue();
        assertThat(off.referencedBytes("c")).isEqualTo(32 * MI + 48 * MI);
    }

    @Test
    void aContainerNotDueKeepsItsHistoryAndAGoneOneLosesIt() {
        step(quiet(ranges(48, 48 * MI, true)));
        step(quiet(ranges(48, 48 * MI, false)));
        now += 500;
        assertThat(off.decide(List.of())).isEmpty(); // a tick in which "c" was not due
        step(quiet(ranges(48, 48 * MI, false)));
        assertThat(step(quiet(ranges(48, 48 * MI, false)))).isNotEmpty();
        off.retain(List.of("other"));
        assertThat(off.due("c")).isTrue();
        assertThat(off.referencedBytes("c")).isZero();
    }

    @Test
    void badConfigurationNamesTheField() {
        assertThatThrownBy(() -> new RangeOffloader.Config(Duration.ofSeconds(2), 0, 64 * MI, 1, 1, 1, 0.1))
                .hasMessageContaining("coldSamples").hasMessageContaining("0");
        assertThatThrownBy(() -> new RangeOffloader.Config(Duration.ofSeconds(2), 3, 64 * MI, 1, 1, 1, 1.5))
                .hasMessageContaining("swapReserve").hasMessageContaining("1.5");
        assertThatThrownBy(() -> new RangeOffloader.Range(1, 4097, 8192, 0, 0)).hasMessageContaining("page-aligned");
    }
}
