package io.memwarden.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.model.ContainerKind;
import io.memwarden.model.ContainerSpec;
import io.memwarden.model.PodSpec;
import io.memwarden.model.Pressure;
import io.memwarden.model.QosClass;
import io.memwarden.model.Resources;
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
 * before one cooldown has passed since its refusal.
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
            @ForAll @IntRange(min = 100, max = 10_000) int timeoutMs) {
        long[] now = {0};
        PressureGuard g = new PressureGuard(new PressureGuard.Config(2 * GI, Duration.ofSeconds(5), GI, 20, 40, 0.1,
                1000, Duration.ofMillis(cooldownMs), 0.05, Duration.ofMillis(directAfterMs)), () -> now[0]);
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
}
