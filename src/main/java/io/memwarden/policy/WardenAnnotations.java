package io.memwarden.policy;

import io.memwarden.model.KubeQuantity;
import io.memwarden.model.PodSpec;
import io.memwarden.model.SwapBehavior;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * memwarden's own pod annotations, in the same shape as nri memory-qos's: {@code <key>.memwarden.io} applies to every
 * container of the pod, {@code <key>.memwarden.io/<container>} to one container and overrides the pod-wide value.
 * Keys:
 * <ul>
 *   <li>{@code swap-behavior}: NoSwap | LimitedSwap | UnlimitedSwap | WithinLimitSwap for the container(s);</li>
 *   <li>{@code swap-max}: a quantity capping the container's swap;</li>
 *   <li>{@code pod-swap-max}: a quantity capping the pod's total swap (pod-wide form only).</li>
 * </ul>
 * Every key must be listed in the config's {@code annotations.allowed}; behaviours other than NoSwap must be listed
 * in {@code annotations.allowedSwapBehaviors}; with {@code annotations.namespaces} set, only those namespaces may use
 * them. A key that names no container of the pod is an error (it would silently do nothing).
 */
public final class WardenAnnotations {
    private WardenAnnotations() {}

    public static final String SUFFIX = ".memwarden.io";
    public static final String SWAP_BEHAVIOR = "swap-behavior";
    public static final String SWAP_MAX = "swap-max";
    public static final String POD_SWAP_MAX = "pod-swap-max";
    public static final Set<String> KEYS = Set.of(SWAP_BEHAVIOR, SWAP_MAX, POD_SWAP_MAX);

    /** Values for one container; each field null when not annotated. */
    public record ContainerRequest(SwapBehavior behavior, String behaviorFrom, Long swapMax, String swapMaxFrom) {}

    /** Validates every memwarden annotation of the pod; throws on the first bad one. */
    public static void validate(PodSpec pod, WardenConfig.AnnotationPolicy policy, Set<String> containerNames)
            throws PolicyException {
        for (var e : new TreeMap<>(pod.annotations()).entrySet()) {
            String key = e.getKey();
            String key0 = key;
            String container = null;
            int slash = key.indexOf('/');
            if (key.endsWith(SUFFIX)) {
                key = key.substring(0, key.length() - SUFFIX.length());
            } else if (slash > 0 && key.substring(0, slash).endsWith(SUFFIX)) {
                container = key.substring(slash + 1);
                key = key.substring(0, slash - SUFFIX.length());
            } else {
                continue;
            }
            if (!KEYS.contains(key)) {
                throw new PolicyException(container, "annotation " + key0 + ": unknown memwarden annotation key \""
                        + key + "\" (known: swap-behavior, swap-max, pod-swap-max)");
            }
            if (container != null && !containerNames.contains(container)) {
                throw new PolicyException(null, "annotation " + key0 + ": pod has no container named \"" + container + "\"");
            }
            if (key.equals(POD_SWAP_MAX) && container != null) {
                throw new PolicyException(container, "annotation " + key0 + ": pod-swap-max applies to the whole pod;"
                        + " use " + POD_SWAP_MAX + SUFFIX + " without a container suffix");
            }
            if (!policy.allowed().contains(key)) {
                throw new PolicyException(container, "annotation " + key0 + "=" + e.getValue() + ": key \"" + key
                        + "\" is not in memwarden config annotations.allowed " + (policy.allowed().isEmpty()
                        ? "(no memwarden annotation is allowed)" : new java.util.TreeSet<>(policy.allowed()).toString()));
            }
            if (!policy.namespaces().isEmpty() && !policy.namespaces().contains(pod.namespace())) {
                throw new PolicyException(container, "annotation " + key0 + ": namespace \"" + pod.namespace()
                        + "\" is not in memwarden config annotations.namespaces");
            }
            switch (key) {
                case SWAP_BEHAVIOR -> {
                    SwapBehavior b;
                    try {
                        b = SwapBehavior.parse(e.getValue());
                    } catch (IllegalArgumentException ex) {
                        throw new PolicyException(container, "annotation " + key0 + ": " + ex.getMessage());
                    }
                    if (b != SwapBehavior.NO_SWAP && !policy.allowedSwapBehaviors().contains(b)) {
                        throw new PolicyException(container, "annotation " + key0 + "=" + e.getValue()
                                + ": behavior not in memwarden config annotations.allowedSwapBehaviors");
                    }
                }
                default -> quantity(key0, e.getValue(), container);
            }
        }
    }

    /** The effective request for one container (call {@link #validate} first). */
    public static ContainerRequest forContainer(PodSpec pod, String container) throws PolicyException {
        SwapBehavior behavior = null;
        String behaviorFrom = null;
        Long swapMax = null;
        String swapMaxFrom = null;
        Map<String, String> a = pod.annotations();
        for (String key : new String[] {SWAP_BEHAVIOR + SUFFIX + "/" + container, SWAP_BEHAVIOR + SUFFIX}) {
            if (behavior == null && a.containsKey(key)) {
                behavior = SwapBehavior.parse(a.get(key));
                behaviorFrom = "annotation " + key;
            }
        }
        for (String key : new String[] {SWAP_MAX + SUFFIX + "/" + container, SWAP_MAX + SUFFIX}) {
            if (swapMax == null && a.containsKey(key)) {
                swapMax = quantity(key, a.get(key), container);
                swapMaxFrom = "annotation " + key;
            }
        }
        return new ContainerRequest(behavior, behaviorFrom, swapMax, swapMaxFrom);
    }

    /** The pod-wide swap cap from {@code pod-swap-max.memwarden.io}, or null. */
    public static Long podSwapMax(PodSpec pod) throws PolicyException {
        String v = pod.annotations().get(POD_SWAP_MAX + SUFFIX);
        return v == null ? null : quantity(POD_SWAP_MAX + SUFFIX, v, null);
    }

    private static long quantity(String key, String value, String container) throws PolicyException {
        try {
            KubeQuantity q = KubeQuantity.parse(value);
            if (q.signum() < 0) {
                throw new IllegalArgumentException("must not be negative");
            }
            return q.bytes();
        } catch (IllegalArgumentException ex) {
            throw new PolicyException(container, "annotation " + key + "=" + value + ": " + ex.getMessage());
        }
    }
}
