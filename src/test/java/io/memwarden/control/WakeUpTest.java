package io.memwarden.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.model.Clock;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The loop threads' wake-up against a fake clock and a scripted trigger. */
class WakeUpTest {
    long now = 1_000;
    boolean stop;
    final List<String> logs = new ArrayList<>();
    final List<Long> triggerTimeouts = new ArrayList<>();
    final Clock clock = () -> now;
    final WakeUp.Sleeper sleeper = ms -> {
        now += ms;
        return stop;
    };

    /** Fires at the scripted clock times (each once); otherwise waits out its timeout. */
    WakeUp.Trigger firingAt(long... times) {
        Deque<Long> fires = new ArrayDeque<>();
        for (long t : times) {
            fires.add(t);
        }
        return timeout -> {
            triggerTimeouts.add(timeout);
            Long next = fires.peek();
            if (next != null && next <= now + timeout) {
                fires.poll();
                now = Math.max(now, next);
                return true;
            }
            now += timeout;
            return false;
        };
    }

    WakeUp wakeUp(WakeUp.Trigger t) {
        return new WakeUp(t, "PSI trigger some 150000/2000000", clock, sleeper, () -> stop, logs::add);
    }

    @Test
    void withoutATriggerWaitsTheWholePeriod() {
        WakeUp w = wakeUp(null);
        assertThat(w.await(1_000)).isEqualTo(WakeUp.Reason.PERIOD);
        assertThat(now).isEqualTo(2_000);
        assertThat(w.triggered()).isFalse();
        assertThat(w.periodWakes()).isEqualTo(1);
    }

    @Test
    void quietTriggerWaitsThePeriodInSlices() {
        WakeUp w = wakeUp(firingAt());
        assertThat(w.await(1_000)).isEqualTo(WakeUp.Reason.PERIOD);
        assertThat(now).isEqualTo(2_000);
        assertThat(triggerTimeouts).containsExactly(250L, 250L, 250L, 250L);
        assertThat(w.psiWakes()).isZero();
    }

    @Test
    void firingTriggerWakesAtOnce() {
        WakeUp w = wakeUp(firingAt(1_300));
        assertThat(w.await(1_000)).isEqualTo(WakeUp.Reason.PSI);
        assertThat(now).isEqualTo(1_300);
        assertThat(w.psiWakes()).isEqualTo(1);
        // the next wait starts a full period again
        assertThat(w.await(1_000)).isEqualTo(WakeUp.Reason.PERIOD);
        assertThat(now).isEqualTo(2_300);
    }

    @Test
    void atMostOneExtraTickPer100Ms() {
        // the trigger fires 10 ms after each wake: each PSI wake is held until 100 ms after the previous one
        WakeUp w = wakeUp(firingAt(1_010, 1_020, 1_030, 1_040));
        assertThat(w.await(1_000)).isEqualTo(WakeUp.Reason.PSI);
        long first = now;
        assertThat(first).isEqualTo(1_010);
        assertThat(w.await(1_000)).isEqualTo(WakeUp.Reason.PSI);
        assertThat(now).isEqualTo(first + 100);
        assertThat(w.await(1_000)).isEqualTo(WakeUp.Reason.PSI);
        assertThat(now).isEqualTo(first + 200);
        assertThat(w.psiWakes()).isEqualTo(3);
    }

    @Test
    void periodWakeAlsoCountsForTheGap() {
        WakeUp w = wakeUp(firingAt(2_050));
        assertThat(w.await(1_000)).isEqualTo(WakeUp.Reason.PERIOD);
        assertThat(now).isEqualTo(2_000);
        assertThat(w.await(1_000)).isEqualTo(WakeUp.Reason.PSI);
        assertThat(now).isEqualTo(2_100);
    }

    @Test
    void failingTriggerFallsBackToThePeriodWithOneLogLine() {
        int[] calls = {0};
        WakeUp w = wakeUp(timeout -> {
            calls[0]++;
            throw new IOException("/proc/pressure/memory: poll reported POLLERR");
        });
        assertThat(w.await(1_000)).isEqualTo(WakeUp.Reason.PERIOD);
        assertThat(w.await(1_000)).isEqualTo(WakeUp.Reason.PERIOD);
        assertThat(now).isEqualTo(3_000);
        assertThat(calls[0]).isEqualTo(1);
        assertThat(w.triggered()).isFalse();
        assertThat(logs).singleElement().asString().contains("PSI trigger some 150000/2000000 failed")
                .contains("POLLERR").contains("every 1000 ms only");
    }

    @Test
    void stopEndsTheWaitWithinOneSlice() {
        WakeUp.Trigger quiet = firingAt();
        WakeUp w = wakeUp(timeout -> {
            boolean r = quiet.await(timeout);
            stop = now >= 1_400;
            return r;
        });
        assertThat(w.await(10_000)).isEqualTo(WakeUp.Reason.STOPPED);
        assertThat(now).isEqualTo(1_500);
        WakeUp idle = wakeUp(null);
        assertThat(idle.await(10_000)).isEqualTo(WakeUp.Reason.STOPPED);
    }
}
