package io.memwarden.control;

import io.memwarden.policy.EvictionThreshold;
import io.memwarden.policy.KubeletSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The kubelet's eviction manager over the two memory signals, kubelet-exact (kubelet-semantics.md §4, "Thresholds"
 * and "Loop"): a state machine over {@link NodeObservation}s with the time given by the caller (no I/O, no clock of
 * its own). Each {@link #observe} is one of the kubelet's synchronize passes:
 * <ol>
 *   <li>the thresholds met now (threshold &gt; available), plus the thresholds acted on in the previous pass whose
 *       minimum reclaim is not satisfied yet (threshold + minReclaim &gt; available);</li>
 *   <li>first-observed times are kept for those, and dropped for the others (a grace period starts again after the
 *       signal recovered);</li>
 *   <li>the MemoryPressure condition is true while any of them is met, and stays true until none was observed for
 *       {@code evictionPressureTransitionPeriod};</li>
 *   <li>the ones past their grace period (hard: 0) are acted on, and are the next pass's "previous" thresholds.</li>
 * </ol>
 * The signals: {@code memory.available} = node capacity − working set; {@code allocatableMemory.available} = the
 * kubepods cgroup's limit − its working set (not observed without one). Percentages resolve against the signal's
 * capacity.
 */
public final class KubeletEviction {

    /**
     * What of the kubelet's configuration the guard acts on.
     *
     * @param thresholds       the memory thresholds ({@link KubeletSettings#memoryThresholds()}: hard, clones, soft)
     * @param minimumReclaim   per signal ({@code evictionMinimumReclaim})
     * @param maxPodGraceSeconds {@code evictionMaxPodGracePeriod}
     * @param transitionPeriod {@code evictionPressureTransitionPeriod} (5m by default; "0s" means 5m)
     */
    public record Settings(List<EvictionThreshold> thresholds, Map<String, EvictionThreshold> minimumReclaim,
                           long maxPodGraceSeconds, Duration transitionPeriod) {
        public Settings {
            thresholds = List.copyOf(thresholds);
            minimumReclaim = Map.copyOf(minimumReclaim);
            if (transitionPeriod == null || transitionPeriod.isZero()) {
                transitionPeriod = KubeletSettings.DEFAULT_PRESSURE_TRANSITION_PERIOD;
            }
        }

        /** The kubelet's defaults (evictionHard memory.available&lt;100Mi, cloned to allocatable). */
        public static final Settings DEFAULTS = of(KubeletSettings.DEFAULTS);

        /** No kubelet thresholds at all (the guard acts on its own only). */
        public static final Settings NONE = new Settings(List.of(), Map.of(), 0,
                KubeletSettings.DEFAULT_PRESSURE_TRANSITION_PERIOD);

        public static Settings of(KubeletSettings k) {
            Map<String, EvictionThreshold> mr = new HashMap<>();
            for (EvictionThreshold t : k.evictionMinimumReclaim()) {
                mr.put(t.signal(), t);
            }
            return new Settings(k.memoryThresholds(), mr, k.evictionMaxPodGracePeriodSeconds(),
                    k.evictionPressureTransitionPeriod());
        }

        /** The soft eviction's pod grace period: min(evictionMaxPodGracePeriod, terminationGracePeriodSeconds). */
        public long softPodGraceSeconds(long terminationGracePeriodSeconds) {
            return Math.max(0, Math.min(maxPodGraceSeconds, terminationGracePeriodSeconds));
        }
    }

    /** The hard eviction's pod grace period (kubelet-semantics §4: hard = 1 s). */
    public static final long HARD_POD_GRACE_SECONDS = 1;

    /**
     * One threshold met in a pass.
     *
     * @param availableBytes   the signal's available bytes
     * @param thresholdBytes   the threshold resolved on the signal's capacity
     * @param minReclaimBytes  the signal's minimum reclaim resolved on its capacity (0: none)
     * @param onlyByReclaim    met only because its minimum reclaim is not satisfied (available is above the threshold)
     * @param sinceMillis      when it was first observed in this run of passes
     * @param acting           its grace period passed: the kubelet acts on it
     */
    public record Met(EvictionThreshold threshold, long availableBytes, long thresholdBytes, long minReclaimBytes,
                      boolean onlyByReclaim, long sinceMillis, boolean acting) {
        public boolean hard() {
            return !threshold.isSoft();
        }

        /** e.g. "kubelet evictionHard memory.available<100Mi". */
        public String name() {
            return "kubelet " + threshold.field() + " " + threshold.describe();
        }
    }

    /**
     * One pass's result.
     *
     * @param met            every threshold met (now, or by its unsatisfied minimum reclaim), config order
     * @param memoryPressure the MemoryPressure condition (with the transition period's hysteresis)
     * @param pressureLastObservedMillis when a threshold was last met (-1: never)
     */
    public record Pass(List<Met> met, boolean memoryPressure, long pressureLastObservedMillis) {
        public List<Met> acting() {
            return met.stream().filter(Met::acting).toList();
        }

        /** The threshold the kubelet reclaims for: the first acting hard one, else the first acting soft one. */
        public Met toReclaim() {
            return acting().stream().filter(Met::hard).findFirst()
                    .orElse(acting().stream().findFirst().orElse(null));
        }
    }

    private volatile Settings settings;
    private final Map<EvictionThreshold, Long> firstObserved = new LinkedHashMap<>();
    private List<EvictionThreshold> previouslyActing = List.of();
    private long pressureLastObserved = -1;
    private volatile Pass last = new Pass(List.of(), false, -1);
    private volatile Long lastAllocatableAvailable;

    public KubeletEviction(Settings settings) {
        this.settings = settings;
    }

    public Settings settings() {
        return settings;
    }

    /** New settings (a reload): thresholds no longer configured lose their state. */
    public void settings(Settings next) {
        this.settings = next;
        firstObserved.keySet().retainAll(next.thresholds());
        previouslyActing = previouslyActing.stream().filter(next.thresholds()::contains).toList();
    }

    /** allocatableMemory.available at the last pass; null when it was not observed. */
    public Long lastAllocatableAvailable() {
        return lastAllocatableAvailable;
    }

    /** The last pass (an empty one before the first). */
    public Pass last() {
        return last;
    }

    /**
     * Whether a threshold could be met on {@code node} (with every signal's minimum reclaim added): false means a
     * pass would find none met. Changes no state.
     */
    public boolean mayMeet(NodeObservation node) {
        Settings s = settings;
        for (EvictionThreshold t : s.thresholds()) {
            boolean mem = t.signal().equals(EvictionThreshold.MEMORY_AVAILABLE);
            if (!mem && !node.podsObserved()) {
                continue;
            }
            long capacity = mem ? node.memoryCapacity() : node.podsCapacity();
            long available = mem ? node.memoryAvailable() : node.allocatableAvailable();
            EvictionThreshold mr = s.minimumReclaim().get(t.signal());
            if (t.resolve(capacity) + (mr == null ? 0 : mr.resolve(capacity)) > available) {
                return true;
            }
        }
        return false;
    }

    /** One synchronize pass at {@code nowMillis}. */
    public Pass observe(NodeObservation node, long nowMillis) {
        Settings s = settings;
        lastAllocatableAvailable = node.podsObserved() ? node.allocatableAvailable() : null;
        List<Met> met = new ArrayList<>();
        for (EvictionThreshold t : s.thresholds()) {
            long capacity;
            long available;
            if (t.signal().equals(EvictionThreshold.MEMORY_AVAILABLE)) {
                capacity = node.memoryCapacity();
                available = node.memoryAvailable();
            } else if (node.podsObserved()) {
                capacity = node.podsCapacity();
                available = node.allocatableAvailable();
            } else {
                continue; // allocatableMemory.available is not observed
            }
            long threshold = t.resolve(capacity);
            EvictionThreshold mr = s.minimumReclaim().get(t.signal());
            long reclaim = mr == null ? 0 : mr.resolve(capacity);
            boolean now = threshold > available;
            boolean unresolved = !now && previouslyActing.contains(t) && threshold + reclaim > available;
            if (now || unresolved) {
                met.add(new Met(t, available, threshold, reclaim, !now, 0, false));
            }
        }
        List<EvictionThreshold> metThresholds = met.stream().map(Met::threshold).toList();
        firstObserved.keySet().retainAll(metThresholds);
        List<Met> out = new ArrayList<>();
        List<EvictionThreshold> acting = new ArrayList<>();
        for (Met m : met) {
            long since = firstObserved.computeIfAbsent(m.threshold(), k -> nowMillis);
            Duration grace = m.threshold().gracePeriod() == null ? Duration.ZERO : m.threshold().gracePeriod();
            boolean act = nowMillis - since >= grace.toMillis();
            if (act) {
                acting.add(m.threshold());
            }
            out.add(new Met(m.threshold(), m.availableBytes(), m.thresholdBytes(), m.minReclaimBytes(),
                    m.onlyByReclaim(), since, act));
        }
        previouslyActing = List.copyOf(acting);
        if (!out.isEmpty()) {
            pressureLastObserved = nowMillis;
        }
        boolean pressure = pressureLastObserved >= 0
                && nowMillis - pressureLastObserved < s.transitionPeriod().toMillis();
        last = new Pass(List.copyOf(out), pressure, pressureLastObserved);
        return last;
    }
}
