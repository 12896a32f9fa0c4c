package io.memwarden.policy;

import io.memwarden.model.SwapBehavior;
import java.util.List;
import java.util.Set;

/**
 * The KubeletConfiguration fields memwarden honours, with the kubelet's defaults (Kubernetes 1.37,
 * kubelet-semantics §0–§5).
 *
 * @param memoryThrottlingFactor null = memory.high is never written (1.37 default)
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
        Set<String> enforceNodeAllocatable) {

    /** Linux default {@code evictionHard}. */
    public static final List<EvictionThreshold> DEFAULT_EVICTION_HARD = List.of(
            EvictionThreshold.parse(EvictionThreshold.MEMORY_AVAILABLE, "100Mi", null),
            EvictionThreshold.parse("nodefs.available", "10%", null),
            EvictionThreshold.parse("nodefs.inodesFree", "5%", null),
            EvictionThreshold.parse("imagefs.available", "15%", null));

    public static final KubeletSettings DEFAULTS = new KubeletSettings(true, SwapBehavior.NO_SWAP, null,
            ReservationPolicy.NONE, true, true, 0, 0, DEFAULT_EVICTION_HARD, List.of(), false, Set.of("pods"));

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
        evictionHard = List.copyOf(evictionHard);
        evictionSoft = List.copyOf(evictionSoft);
        enforceNodeAllocatable = Set.copyOf(enforceNodeAllocatable);
    }

    /** The hard {@code memory.available} threshold, or null when none is configured. */
    public EvictionThreshold hardMemoryAvailable() {
        return evictionHard.stream().filter(t -> t.signal().equals(EvictionThreshold.MEMORY_AVAILABLE)).findFirst().orElse(null);
    }
}
