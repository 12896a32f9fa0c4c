package io.memwarden.policy;

import io.memwarden.model.SwapBehavior;
import java.util.List;
import java.util.Set;

/**
 * memwarden's own configuration (one YAML file, see docs/configuration.md).
 *
 * @param memoryQos   nri memory-qos plugin configuration; null when the section is absent (its annotations are then
 *                    ignored)
 * @param swap        swap behaviour override and node-wide caps
 * @param annotations which {@code memwarden.io} annotations pods may use
 */
public record WardenConfig(MemoryQosConfig memoryQos, SwapConfig swap, AnnotationPolicy annotations) {

    public static final WardenConfig DEFAULTS = new WardenConfig(null, SwapConfig.DEFAULTS, AnnotationPolicy.DEFAULTS);

    public WardenConfig {
        swap = swap == null ? SwapConfig.DEFAULTS : swap;
        annotations = annotations == null ? AnnotationPolicy.DEFAULTS : annotations;
    }

    /** The nri memory-qos plugin config: {@code classes} and {@code unifiedannotations}. */
    public record MemoryQosConfig(List<MemoryQosClass> classes, List<String> unifiedAnnotations) {
        public MemoryQosConfig {
            classes = classes == null ? List.of() : List.copyOf(classes);
            unifiedAnnotations = unifiedAnnotations == null ? List.of() : List.copyOf(unifiedAnnotations);
        }
    }

    /** One memory-qos class: {@code memory.high = limit × (1 − swapLimitRatio)} in float32, swap unlimited. */
    public record MemoryQosClass(String name, float swapLimitRatio) {}

    /**
     * @param behavior         overrides the kubelet's {@code memorySwap.swapBehavior}; null = use the kubelet's
     * @param maxPerContainer  cap on any container's swap allowance; null = none
     * @param maxPerPod        cap on any pod's total swap (pod cgroup); null = none
     * @param nodeCap          cap on all workloads' swap together (the kubepods cgroup, {@link NodeSwapCap}); null =
     *                         none
     * @param systemReserved   swap bytes kept free for system daemons: the workloads' total never exceeds swap total
     *                         − this ({@link NodeSwapCap}); null = none
     */
    public record SwapConfig(SwapBehavior behavior, SwapCap maxPerContainer, SwapCap maxPerPod, SwapCap nodeCap,
                             Long systemReserved) {
        public static final SwapConfig DEFAULTS = new SwapConfig(null, null, null);

        public SwapConfig(SwapBehavior behavior, SwapCap maxPerContainer, SwapCap maxPerPod) {
            this(behavior, maxPerContainer, maxPerPod, null, null);
        }

        public SwapConfig {
            if (systemReserved != null && systemReserved < 0) {
                throw new IllegalArgumentException("swap.systemReserved must not be negative, got " + systemReserved);
            }
        }

        /** Whether a node-wide cap on the workloads' swap is configured ({@code nodeCap} or {@code systemReserved}). */
        public boolean capsNode() {
            return nodeCap != null || systemReserved != null;
        }
    }

    /** A swap size: absolute bytes, or a percentage of the node's swap capacity. */
    public record SwapCap(Long bytes, Double percentOfSwap, String text) {
        public long resolve(long swapCapacity) {
            if (bytes != null) {
                return bytes;
            }
            return (long) Math.floor(swapCapacity * percentOfSwap / 100.0);
        }
    }

    /**
     * The admin allowlist for {@code memwarden.io} annotations.
     *
     * @param allowed              annotation keys (without the {@code .memwarden.io} suffix) pods may use
     * @param allowedSwapBehaviors behaviours pods may ask for besides NoSwap (which lowers and is always allowed)
     * @param namespaces           namespaces whose pods may use them; empty = every namespace
     */
    public record AnnotationPolicy(Set<String> allowed, Set<SwapBehavior> allowedSwapBehaviors, Set<String> namespaces) {
        public static final AnnotationPolicy DEFAULTS = new AnnotationPolicy(Set.of(), Set.of(), Set.of());

        public AnnotationPolicy {
            allowed = Set.copyOf(allowed);
            allowedSwapBehaviors = Set.copyOf(allowedSwapBehaviors);
            namespaces = Set.copyOf(namespaces);
        }
    }
}
