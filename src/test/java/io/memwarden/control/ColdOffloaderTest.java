package io.memwarden.control;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ColdOffloaderTest {
    static final long MI = 1L << 20;
    long now;
    final ColdOffloader off = new ColdOffloader(new ColdOffloader.Config(Duration.ofSeconds(6), 10_000, 0.01, 100 * MI,
            0.10, 256, 2), () -> now);

    static ColdOffloader.Observation obs(long psiTotal, long swapIns, long allowance, long swapFree) {
        return new ColdOffloader.Observation("c", 1000 * MI, 900 * MI, psiTotal, swapIns, allowance, swapFree, 1024 * MI);
    }

    List<ColdOffloader.Offload> step(ColdOffloader.Observation o) {
        now += 6000;
        return off.decide(List.of(o));
    }

    @Test
    void probesWithTheTmoLawBelowTheTarget() {
        step(obs(0, 0, -1, 1024 * MI));
        var a = step(obs(0, 0, -1, 1024 * MI)); // no stall: full 1 % of usage
        assertThat(a).singleElement().satisfies(o -> assertThat(o.bytes()).isEqualTo(10 * MI / 4096 * 4096));
        var b = step(obs(5_000, 0, -1, 1024 * MI)); // half the target: half the step
        assertThat(b).singleElement().satisfies(o -> assertThat(o.bytes()).isEqualTo((long) (1000 * MI * 0.01 * 0.5) / 4096 * 4096));
    }

    @Test
    void backsOffAtOnceOnStallOrRefaultsAndStaysOff() {
        step(obs(0, 0, -1, 1024 * MI));
        assertThat(step(obs(20_000, 0, -1, 1024 * MI))).isEmpty(); // stall above target
        assertThat(step(obs(20_000, 0, -1, 1024 * MI))).isEmpty(); // backing off
        assertThat(step(obs(20_000, 0, -1, 1024 * MI))).isEmpty();
        assertThat(step(obs(20_000, 0, -1, 1024 * MI))).isNotEmpty();
        assertThat(step(obs(20_000, 10_000, -1, 1024 * MI))).isEmpty(); // swap-in burst
    }

    @Test
    void respectsAllowanceSwapReserveAndNoSwapContainers() {
        step(obs(0, 0, 3 * MI, 1024 * MI));
        assertThat(step(obs(0, 0, 3 * MI, 1024 * MI))).singleElement().satisfies(o -> assertThat(o.bytes()).isEqualTo(3 * MI));
        ColdOffloader o2 = new ColdOffloader(ColdOffloader.Config.DEFAULTS, () -> now);
        now += 6000;
        o2.decide(List.of(obs(0, 0, -1, 105 * MI)));
        now += 6000;
        assertThat(o2.decide(List.of(obs(0, 0, -1, 105 * MI)))).singleElement()
                .satisfies(o -> assertThat(o.bytes()).isLessThanOrEqualTo(105 * MI - 102 * MI)); // reserve 10% of 1Gi
        ColdOffloader o3 = new ColdOffloader(ColdOffloader.Config.DEFAULTS, () -> now);
        now += 6000;
        o3.decide(List.of(obs(0, 0, 0, 1024 * MI)));
        now += 6000;
        assertThat(o3.decide(List.of(obs(0, 0, 0, 1024 * MI)))).isEmpty(); // may not swap
    }

    @Test
    void aRefaultBurstTeachesAFloorAndDoublesTheBackoff() {
        step(obs(0, 0, -1, 1024 * MI));
        assertThat(step(obs(0, 0, -1, 1024 * MI))).isNotEmpty(); // offloads from 1000 MiB usage
        // the offloaded pages come back: back off 2 << 1 = 4 intervals, then never below 1000 MiB usage
        assertThat(step(obs(0, 10_000, -1, 1024 * MI))).isEmpty();
        for (int i = 0; i < 4; i++) {
            assertThat(step(obs(0, 10_000, -1, 1024 * MI))).isEmpty();
        }
        assertThat(step(obs(0, 10_000, -1, 1024 * MI))).isEmpty(); // at the learnt floor: nothing to offload
        now += ColdOffloader.FLOOR_HOLD_MILLIS; // the floor expires
        assertThat(step(obs(0, 10_000, -1, 1024 * MI))).isNotEmpty();
    }

    @Test
    void waitsAWholeIntervalBetweenDecisions() {
        step(obs(0, 0, -1, 1024 * MI));
        now += 1000;
        assertThat(off.decide(List.of(obs(0, 0, -1, 1024 * MI)))).isEmpty();
    }

    @Test
    void aPerContainerStallTargetAndTheWorkingSetEstimate() {
        step(obs(0, 0, -1, 1024 * MI));
        assertThat(off.estimate("c")).as("no estimate before probing met pressure").isNull();
        assertThat(step(obs(0, 0, -1, 1024 * MI))).isNotEmpty(); // probing
        // 15 000 µs of stall: above the config's 10 000 target, below this container's 40 000
        var lenient = new ColdOffloader.Observation("c", 1000 * MI, 900 * MI, 15_000, 0, -1, 1024 * MI, 1024 * MI,
                40_000);
        assertThat(step(lenient)).singleElement().satisfies(o -> assertThat(o.trigger()).contains("target 40000"));
        assertThat(off.estimate("c")).isNull();
        // the default target: 20 000 more µs of stall reach it at 990 MiB → that usage is the estimate
        var strict = new ColdOffloader.Observation("c", 990 * MI, 890 * MI, 35_000, 0, -1, 1024 * MI, 1024 * MI);
        assertThat(step(strict)).isEmpty();
        assertThat(off.estimate("c")).satisfies(e -> {
            assertThat(e.bytes()).isEqualTo(990 * MI);
            assertThat(e.how()).contains("stall 20000 µs reached the target 10000");
        });
    }

    @Test
    void observesOnlyTheCgroupsWhoseIntervalPassedAndKeepsTheOthers() {
        java.util.List<String> asked = new java.util.ArrayList<>();
        java.util.function.Function<String, ColdOffloader.Observation> observe = cg -> {
            asked.add(cg);
            return new ColdOffloader.Observation(cg, 1000 * MI, 900 * MI, 0, 0, -1, 1024 * MI, 1024 * MI);
        };
        assertThat(off.decide(List.of("a", "b"), observe)).isEmpty(); // first observation of each
        assertThat(asked).containsExactly("a", "b");
        asked.clear();
        now += 5999; // the interval (6 s) has not passed: nothing read, nothing dropped
        assertThat(off.decide(List.of("a", "b"), observe)).isEmpty();
        assertThat(asked).isEmpty();
        now += 1;
        assertThat(off.decide(List.of("a", "b"), cg -> cg.equals("b") ? null : observe.apply(cg)))
                .singleElement().satisfies(o -> assertThat(o.cgroup()).isEqualTo("a"));
        assertThat(asked).containsExactly("a");
        asked.clear();
        // b had no observation: it kept its state (not a first observation again) and is due at once
        now += 1;
        assertThat(off.decide(List.of("a", "b"), observe)).singleElement()
                .satisfies(o -> assertThat(o.cgroup()).isEqualTo("b"));
        assertThat(asked).containsExactly("b");
        // a cgroup no longer listed loses its state: its next observation is a first one again
        now += 6000;
        off.decide(List.of("b"), observe);
        now += 6000;
        assertThat(off.decide(List.of("a"), observe)).isEmpty();
    }
}
