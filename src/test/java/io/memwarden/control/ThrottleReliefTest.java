package io.memwarden.control;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ThrottleReliefTest {
    static final long MI = 1L << 20;
    long now;
    final ThrottleRelief relief = new ThrottleRelief(new ThrottleRelief.Config(50, 10, 2, 0.25, 4 * MI,
            Duration.ofSeconds(60), 0.05), () -> now);

    static ThrottleRelief.Observation obs(long usage, long high, long events, double psi, boolean mayReclaim) {
        return new ThrottleRelief.Observation("c", usage, high, 200 * MI, 80 * MI, events, psi, mayReclaim);
    }

    List<ThrottleRelief.Action> tick(ThrottleRelief.Observation o) {
        now += 2000;
        return relief.decide(List.of(o));
    }

    @Test
    void throttledContainerGetsRoomFirstThenAHigherHigh() {
        tick(obs(80 * MI, 80 * MI, 0, 0, true));
        assertThat(tick(obs(80 * MI, 80 * MI, 1000, 30, true))).isEmpty(); // one hot tick
        var a1 = tick(obs(80 * MI, 80 * MI, 2000, 30, true));
        assertThat(a1).singleElement().isInstanceOf(ThrottleRelief.Action.Reclaim.class);
        tick(obs(80 * MI, 80 * MI, 3000, 30, true));
        var a2 = tick(obs(80 * MI, 80 * MI, 4000, 30, true));
        assertThat(a2).singleElement().isInstanceOfSatisfying(ThrottleRelief.Action.SetHigh.class,
                s -> assertThat(s.high()).isEqualTo(80 * MI + 30 * MI)); // 25% of (200 - 80)
    }

    @Test
    void withoutSwapItRaisesAtOnceAndNeverAboveMax() {
        long high = 198 * MI; // 4 MiB minimum step would pass memory.max: capped at 200 MiB
        tick(obs(198 * MI, high, 0, 0, false));
        tick(obs(198 * MI, high, 500, 0, false));
        var a = tick(obs(198 * MI, high, 1000, 0, false));
        assertThat(a).singleElement().isInstanceOfSatisfying(ThrottleRelief.Action.SetHigh.class,
                s -> assertThat(s.high()).isEqualTo(200 * MI));
        tick(obs(200 * MI, 200 * MI, 1500, 0, false));
        assertThat(tick(obs(200 * MI, 200 * MI, 2000, 0, false))).isEmpty(); // at max: the kernel decides
    }

    @Test
    void notAtHighOrQuietIsNotThrottled() {
        tick(obs(40 * MI, 80 * MI, 0, 0, true));
        tick(obs(40 * MI, 80 * MI, 5000, 50, true));
        assertThat(tick(obs(40 * MI, 80 * MI, 10000, 50, true))).isEmpty(); // usage far below high
        assertThat(tick(obs(80 * MI, 80 * MI, 10001, 1, true))).isEmpty(); // at high but no stall
    }

    @Test
    void restoresThePlannedHighAfterAQuietMinute() {
        tick(obs(50 * MI, 110 * MI, 0, 0, true));
        for (int i = 0; i < 29; i++) {
            assertThat(tick(obs(50 * MI, 110 * MI, 0, 0, true))).isEmpty();
        }
        var a = tick(obs(50 * MI, 110 * MI, 0, 0, true));
        assertThat(a).singleElement().isInstanceOfSatisfying(ThrottleRelief.Action.SetHigh.class,
                s -> assertThat(s.high()).isEqualTo(80 * MI));
        // but not while usage is close to the planned value
        ThrottleRelief r2 = new ThrottleRelief(ThrottleRelief.Config.DEFAULTS, () -> now);
        for (int i = 0; i < 40; i++) {
            now += 2000;
            assertThat(r2.decide(List.of(obs(75 * MI, 110 * MI, 0, 0, true)))).isEmpty();
        }
    }
}
