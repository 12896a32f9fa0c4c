package io.memwarden.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.model.ContainerKind;
import io.memwarden.model.ContainerSpec;
import io.memwarden.model.PodSpec;
import io.memwarden.model.Pressure;
import io.memwarden.model.QosClass;
import io.memwarden.model.Resources;
import io.memwarden.policy.EvictionThreshold;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * For any sequence of Eviction API answers (ok, 429, 500, timeout, API down), of round periods and of pods that go
 * or stay after an eviction or a kill, a node that stays HARD gets a pod taken off (an accepted eviction or a direct
 * kill) within cooldown + directAfter + 2 × (longest round + longest API call), and a refused pod is not asked again
 * before one cooldown has passed since its refusal; the same when the node is HARD by the kubelet's evictionHard
 * alone. And the kubelet's thresholds as the guard evaluates them: a soft threshold never acts before the signal
 * stayed below it for its grace period, and the MemoryPressure condition is true exactly while a threshold was met
 * within the transition period.
 */
class PressureGuardEvictionPropertiesTest {
    static final long GI = 1L << 30;

    enum Api { OK, REFUSED_429, ERROR_500, TIMEOUT, DOWN }

    static final NodeObservation HARD = new NodeObservation(16 * GI, 16 * GI - GI / 2, 0, 0, 0,
            new Pressure(0, 0, 0, 0, 0, 0, 0, 0));

    static PodObservation pod(String name, long ws) {
        PodSpec spec = new PodSpec("ns", name, "", null, 0, null, null, null, null,
                List.of(new ContainerSpec("c", ContainerKind.REGULAR, Resources.NONE)));
        return new PodObservation(spec, QosClass.BURSTABLE, GI, ws, false,
                List.of(new PodObservation.ContainerObservation("c", ws, 0, -1)));
    }

    @Property(tries = 400)
    void aHardNodeAlwaysGetsAnActionInBoundedTimeAndRefusedPodsWaitTheirBound(
            @ForAll @Size(min = 1, max = 40) List<Api> answers,
            @ForAll @Size(min = 1, max = 20) List<@IntRange(min = 100, max = 2000) Integer> periods,
            @ForAll @Size(min = 1, max = 20) List<Boolean> podGoes,
            @ForAll @IntRange(min = 1, max = 5) int podCount,
            @ForAll @IntRange(min = 0, max = 20_000) int cooldownMs,
            @ForAll @IntRange(min = 0, max = 10_000) int directAfterMs,
            @ForAll @IntRange(min = 100, max = 10_000) int timeoutMs,
            @ForAll boolean hardByTheKubeletOnly) {
        long[] now = {0};
        // HARD by memwarden's own hard threshold, or (own thresholds at 0) by the kubelet's evictionHard alone
        PressureGuard.Config cfg = hardByTheKubeletOnly
                ? new PressureGuard.Config(0, Duration.ofSeconds(5), 0, 101, 101, 0.1, 1000,
                        Duration.ofMillis(cooldownMs), 0.05, Duration.ofMillis(directAfterMs))
                : new PressureGuard.Config(2 * GI, Duration.ofSeconds(5), GI, 20, 40, 0.1, 1000,
                        Duration.ofMillis(cooldownMs), 0.05, Duration.ofMillis(directAfterMs));
        KubeletEviction kubelet = new KubeletEviction(hardByTheKubeletOnly
                ? new KubeletEviction.Settings(List.of(EvictionThreshold.parse(EvictionThreshold.MEMORY_AVAILABLE,
                        "1Gi", null)), Map.of(), 0, Duration.ZERO)
                : KubeletEviction.Settings.NONE);
        PressureGuard g = new PressureGuard(cfg, kubelet, () -> now[0]);
        List<PodObservation> present = new ArrayList<>();
        int born = 0;
        for (; born < podCount; born++) {
            present.add(pod("p" + born, (2 + (born * 7L) % 5) * GI));
        }
        long maxPeriod = periods.stream().mapToLong(Integer::longValue).max().orElseThrow();
        long bound = cooldownMs + directAfterMs + 2 * (maxPeriod + timeoutMs);
        Map<String, Long> refusedAt = new HashMap<>();
        List<String> leaving = new ArrayList<>();
        long lastTake = 0;
        int answer = 0;
        int go = 0;
        int takes = 0;
        for (int round = 0; now[0] < 200_000; round++) {
            if (round > 0) {
                now[0] += periods.get(round % periods.size());
            }
            present.removeIf(p -> leaving.contains(p.pod().key()));
            while (present.size() < podCount) { // the node stays HARD: new pods keep it full
                present.add(pod("p" + born, (2 + (born * 7L) % 5) * GI));
                born++;
            }
            leaving.clear();
            PressureGuard.Decision d = g.decide(HARD, List.copyOf(present));
            assertThat(d.level()).isEqualTo(PressureGuard.Level.HARD);
            for (GuardAction a : d.actions()) {
                long decidedAt = now[0];
                if (a instanceof GuardAction.Evict e) {
                    Long refused = refusedAt.get(e.pod());
                    if (refused != null) {
                        assertThat(decidedAt).as("%s refused at %d asked again", e.pod(), refused)
                                .isGreaterThanOrEqualTo(refused + cooldownMs);
                    }
                    Api api = answers.get(answer++ % answers.size());
                    PressureGuard.Outcome o = switch (api) {
                        case OK -> PressureGuard.Outcome.ACCEPTED;
                        case REFUSED_429 -> PressureGuard.Outcome.REFUSED;
                        case ERROR_500, DOWN -> PressureGuard.Outcome.FAILED;
                        case TIMEOUT -> PressureGuard.Outcome.TIMED_OUT;
                    };
                    if (api == Api.TIMEOUT) {
                        now[0] += timeoutMs;
                    }
                    g.evictionOutcome(e.pod(), o, api.name());
                    if (o.notTaken()) {
                        refusedAt.put(e.pod(), now[0]);
                        continue;
                    }
                } else if (!(a instanceof GuardAction.Kill)) {
                    continue;
                }
                assertThat(decidedAt - lastTake).as("time without a pod taken off a HARD node")
                        .isLessThanOrEqualTo(bound);
                lastTake = decidedAt;
                takes++;
                if (podGoes.get(go++ % podGoes.size())) {
                    leaving.add(a.pod()); // else: stuck terminating, or restarted after the kill
                }
            }
            assertThat(now[0] - lastTake).as("time without a pod taken off a HARD node").isLessThanOrEqualTo(bound);
        }
        assertThat(takes).isPositive();
    }

    /**
     * Any series of memory.available readings and round periods: the guard evicts for a kubelet soft threshold only
     * once the signal has stayed below it (continuously: each recovery starts the grace period again) for its grace
     * period, and always with min(evictionMaxPodGracePeriod, terminationGracePeriodSeconds) as the pod's grace (a
     * grace period of 0 is a hard threshold: 1 s).
     */
    @Property(tries = 300)
    void aSoftThresholdNeverActsBeforeItsGracePeriod(
            @ForAll @Size(min = 1, max = 60) List<@IntRange(min = 0, max = 2048) Integer> availableMi,
            @ForAll @Size(min = 1, max = 10) List<@IntRange(min = 100, max = 30_000) Integer> periods,
            @ForAll @IntRange(min = 0, max = 60_000) int graceMs,
            @ForAll @IntRange(min = 0, max = 120) int maxPodGrace) {
        long[] now = {0};
        EvictionThreshold soft = new EvictionThreshold(EvictionThreshold.MEMORY_AVAILABLE, GI, null,
                Duration.ofMillis(graceMs), "1Gi");
        KubeletEviction kubelet = new KubeletEviction(new KubeletEviction.Settings(List.of(soft), Map.of(),
                maxPodGrace, Duration.ZERO));
        PressureGuard g = new PressureGuard(new PressureGuard.Config(0, Duration.ofSeconds(5), 0, 101, 101, 0.1, 1000,
                Duration.ZERO, 0.05), kubelet, () -> now[0]);
        long below = -1; // when the current run of readings below 1Gi began
        for (int i = 0; i < availableMi.size() * 2; i++) {
            if (i > 0) {
                now[0] += periods.get(i % periods.size());
            }
            long available = availableMi.get(i % availableMi.size()) * (1L << 20);
            NodeObservation n = new NodeObservation(16 * GI, 16 * GI - available, 0, 0, 0,
                    new Pressure(0, 0, 0, 0, 0, 0, 0, 0));
            below = available < GI ? (below < 0 ? now[0] : below) : -1;
            PressureGuard.Decision d = g.decide(n, List.of(pod("p" + i, 2 * GI)));
            for (GuardAction a : d.actions()) {
                assertThat(a).isInstanceOf(GuardAction.Evict.class);
                assertThat(below).as("acted with the signal above the threshold").isGreaterThanOrEqualTo(0);
                assertThat(now[0] - below).as("acted %d ms into a %d ms grace period", now[0] - below, graceMs)
                        .isGreaterThanOrEqualTo(graceMs);
                // a grace period of 0 makes it a hard threshold, as in the kubelet: 1 s
                assertThat(((GuardAction.Evict) a).podGraceSeconds())
                        .isEqualTo(graceMs == 0 ? 1 : Math.min(maxPodGrace, 30));
                assertThat(a.acted().by()).isEqualTo(GuardTrigger.KUBELET);
            }
            if (below >= 0 && now[0] - below >= graceMs) {
                assertThat(d.actions()).as("grace passed: the guard evicts (no cooldown)").isNotEmpty();
            }
        }
    }

    /**
     * Any series of readings around a hard threshold: MemoryPressure is true exactly when a reading within the last
     * transition period (this one included) was below the threshold.
     */
    @Property(tries = 300)
    void memoryPressureIsTrueExactlyWithinTheTransitionPeriodOfAMetThreshold(
            @ForAll @Size(min = 1, max = 60) List<Boolean> met,
            @ForAll @Size(min = 1, max = 10) List<@IntRange(min = 1, max = 90_000) Integer> periods,
            @ForAll @IntRange(min = 1, max = 600) int transitionSeconds) {
        KubeletEviction k = new KubeletEviction(new KubeletEviction.Settings(List.of(EvictionThreshold.parse(
                EvictionThreshold.MEMORY_AVAILABLE, "100Mi", null)), Map.of(), 0,
                Duration.ofSeconds(transitionSeconds)));
        long now = 0;
        long lastMet = -1;
        for (int i = 0; i < met.size(); i++) {
            now += periods.get(i % periods.size());
            long available = met.get(i) ? 50L << 20 : GI;
            if (met.get(i)) {
                lastMet = now;
            }
            boolean pressure = k.observe(new NodeObservation(16 * GI, 16 * GI - available, 0, 0, 0, null), now)
                    .memoryPressure();
            assertThat(pressure).as("round %d at %d ms, last met %d ms", i, now, lastMet)
                    .isEqualTo(lastMet >= 0 && now - lastMet < transitionSeconds * 1000L);
        }
    }
}
