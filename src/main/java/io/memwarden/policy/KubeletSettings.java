package io.memwarden.policy;

import io.memwarden.model.SwapBehavior;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The KubeletConfiguration fields memwarden honours, with the kubelet's defaults (Kubernetes 1.37,
 * kubelet-semantics §0–§5).
 *
 * @param memoryThrottlingFactor null = memory.high is never written (1.37 default)
 * @param evictionMinimumReclaim            {@code evictionMinimumReclaim}: per signal, a quantity (&ge; 0) or a
 *                                          percentage of the signal's capacity ({@link EvictionThreshold#quantity} /
 *                                          {@link EvictionThreshold#percentage}); empty by default
 * @param evictionMaxPodGracePeriodSeconds  {@code evictionMaxPodGracePeriod} (default 0)
 * @param evictionPressureTransitionPeriod  {@code evictionPressureTransitionPeriod} (default 5m; "0s" also means 5m)
 */
public record KubeletSettings(
        boolean failSwapOn,
        SwapBehavior swapBehavior,
        Double memoryThrottlingFactor,
        ReservationPolicy memoryReservationPolicy,
        boolean memoryQosGate,
        boolean podLevelResourcesGate,
        long systemReservedMemory,
        long kubeReservedMemory,
        List<EvictionThreshold> evictionHard,
        List<EvictionThreshold> evictionSoft,
        boolean singleProcessOomKill,
        Set<String> enforceNodeAllocatable,
        List<EvictionThreshold> evictionMinimumReclaim,
        long evictionMaxPodGracePeriodSeconds,
        Duration evictionPressureTransitionPeriod) {

    /** The kubelet's default {@code evictionPressureTransitionPeriod} (kubelet-semantics §4). */
    public static final Duration DEFAULT_PRESSURE_TRANSITION_PERIOD = Duration.ofMinutes(5);

    /** Linux default {@code evictionHard}. */
    public static final List<EvictionThreshold> DEFAULT_EVICTION_HARD = List.of(
            EvictionThreshold.parse(EvictionThreshold.MEMORY_AVAILABLE, "100Mi", null),
            EvictionThreshold.parse("nodefs.available", "10%", null),
            EvictionThreshold.parse("nodefs.inodesFree", "5%", null),
            EvictionThreshold.parse("imagefs.available", "15%", null));

    public static final KubeletSettings DEFAULTS = new KubeletSettings(true, SwapBehavior.NO_SWAP, null,
            ReservationPolicy.NONE, true, true, 0, 0, DEFAULT_EVICTION_HARD, List.of(), false, Set.of("pods"));

    /** Without the eviction manager's other settings (their defaults: no minimum reclaim, max pod grace 0, 5m). */
    public KubeletSettings(boolean failSwapOn, SwapBehavior swapBehavior, Double memoryThrottlingFactor,
                           ReservationPolicy memoryReservationPolicy, boolean memoryQosGate,
                           boolean podLevelResourcesGate, long systemReservedMemory, long kubeReservedMemory,
                           List<EvictionThreshold> evictionHard, List<EvictionThreshold> evictionSoft,
                           boolean singleProcessOomKill, Set<String> enforceNodeAllocatable) {
        this(failSwapOn, swapBehavior, memoryThrottlingFactor, memoryReservationPolicy, memoryQosGate,
                podLevelResourcesGate, systemReservedMemory, kubeReservedMemory, evictionHard, evictionSoft,
                singleProcessOomKill, enforceNodeAllocatable, List.of(), 0, DEFAULT_PRESSURE_TRANSITION_PERIOD);
    }

    public KubeletSettings {
        if (!swapBehavior.isKubelet()) {
            throw new IllegalArgumentException("memorySwap.swapBehavior: the kubelet accepts only NoSwap or LimitedSwap, got "
                    + swapBehavior.configName() + " (set it in memwarden's config swap.behavior instead)");
        }
        if (memoryThrottlingFactor != null && !(memoryThrottlingFactor > 0 && memoryThrottlingFactor <= 1)) {
            throw new IllegalArgumentException("memoryThrottlingFactor must be in (0, 1], got " + memoryThrottlingFactor);
        }
        if (systemReservedMemory < 0 || kubeReservedMemory < 0) {
            throw new IllegalArgumentException("reserved memory must not be negative");
        }
        if (evictionMaxPodGracePeriodSeconds < 0) {
            throw new IllegalArgumentException("evictionMaxPodGracePeriod must not be negative, got "
                    + evictionMaxPodGracePeriodSeconds);
        }
        if (evictionPressureTransitionPeriod == null || evictionPressureTransitionPeriod.isZero()) {
            evictionPressureTransitionPeriod = DEFAULT_PRESSURE_TRANSITION_PERIOD; // "0s" also means 5m
        }
        if (evictionPressureTransitionPeriod.isNegative()) {
            throw new IllegalArgumentException("evictionPressureTransitionPeriod must not be negative, got "
                    + evictionPressureTransitionPeriod);
        }
        evictionHard = List.copyOf(evictionHard);
        evictionSoft = List.copyOf(evictionSoft);
        enforceNodeAllocatable = Set.copyOf(enforceNodeAllocatable);
        evictionMinimumReclaim = List.copyOf(evictionMinimumReclaim);
    }

    /**
     * The memory thresholds the eviction manager acts on (kubelet-semantics §4 "Thresholds"): the hard and soft
     * {@code memory.available} and {@code allocatableMemory.available} ones as configured, and, when
     * {@code enforceNodeAllocatable} has {@code pods}, each hard {@code memory.available} threshold cloned to
     * {@code allocatableMemory.available} ({@link EvictionThreshold#clonedFrom} says so).
     */
    public List<EvictionThreshold> memoryThresholds() {
        List<EvictionThreshold> out = new ArrayList<>();
        for (EvictionThreshold t : evictionHard) {
            if (isMemory(t.signal())) {
                out.add(t);
            }
        }
        for (EvictionThreshold t : evictionSoft) {
            if (isMemory(t.signal())) {
                out.add(t);
            }
        }
        if (enforceNodeAllocatable.contains("pods")) {
            for (EvictionThreshold t : evictionHard) {
                if (t.signal().equals(EvictionThreshold.MEMORY_AVAILABLE)) {
                    out.add(t.cloneTo(EvictionThreshold.ALLOCATABLE_MEMORY_AVAILABLE));
                }
            }
        }
        return out;
    }

    /** The minimum reclaim of {@code signal}, or null when none is configured. */
    public EvictionThreshold minimumReclaim(String signal) {
        return evictionMinimumReclaim.stream().filter(t -> t.signal().equals(signal)).findFirst().orElse(null);
    }

    private static boolean isMemory(String signal) {
        return signal.equals(EvictionThreshold.MEMORY_AVAILABLE)
                || signal.equals(EvictionThreshold.ALLOCATABLE_MEMORY_AVAILABLE);
    }

    /** The hard {@code memory.available} threshold, or null when none is configured. */
    public EvictionThreshold hardMemoryAvailable() {
        return evictionHard.stream().filter(t -> t.signal().equals(EvictionThreshold.MEMORY_AVAILABLE)).findFirst().orElse(null);
    }
}
