package io.memwarden.input;

import io.memwarden.model.SwapBehavior;
import io.memwarden.policy.EvictionThreshold;
import io.memwarden.policy.KubeletSettings;
import io.memwarden.policy.ReservationPolicy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import tools.jackson.databind.JsonNode;

/**
 * Reads a real KubeletConfiguration document ({@code kind: KubeletConfiguration}) and keeps the fields memwarden
 * honours; every other field is accepted and ignored. Defaults are the kubelet's (Kubernetes 1.37).
 */
public final class KubeletConfigReader {
    private KubeletConfigReader() {}

    public static KubeletSettings read(Path path) throws InputException {
        return parse(path.toString(), YamlDocs.readOne(path));
    }

    public static KubeletSettings parse(String f, JsonNode n) throws InputException {
        JsonNode kind = n.get("kind");
        if (kind == null || !"KubeletConfiguration".equals(kind.asString())) {
            throw InputException.field(f, "kind", "expected KubeletConfiguration, got "
                    + (kind == null ? "nothing" : kind));
        }
        KubeletSettings d = KubeletSettings.DEFAULTS;
        Boolean failSwapOn = YamlDocs.bool(f, "failSwapOn", n.get("failSwapOn"));
        SwapBehavior swap = swapBehavior(f, n.get("memorySwap"));
        Double factor = throttlingFactor(f, n.get("memoryThrottlingFactor"));
        ReservationPolicy rp;
        try {
            rp = ReservationPolicy.parse(YamlDocs.string(f, "memoryReservationPolicy",
                    n.get("memoryReservationPolicy")));
        } catch (IllegalArgumentException e) {
            throw InputException.field(f, "memoryReservationPolicy", e.getMessage());
        }
        Gates gates = featureGates(f, n.get("featureGates"), new Gates(d.memoryQosGate(), d.podLevelResourcesGate()));
        long sys = reservedMemory(f, "systemReserved", n.get("systemReserved"));
        long kube = reservedMemory(f, "kubeReserved", n.get("kubeReserved"));
        Boolean merge = YamlDocs.bool(f, "mergeDefaultEvictionSettings", n.get("mergeDefaultEvictionSettings"));
        Map<String, Duration> grace = graceperiods(f, n.get("evictionSoftGracePeriod"));
        List<EvictionThreshold> hard = evictionHard(f, n.get("evictionHard"), Boolean.TRUE.equals(merge));
        JsonNode es = n.get("evictionSoft");
        List<EvictionThreshold> soft = es == null || es.isNull() ? List.of() : thresholds(f, "evictionSoft", es, grace);
        Boolean spok = YamlDocs.bool(f, "singleProcessOOMKill", n.get("singleProcessOOMKill"));
        List<String> ena = enforceNodeAllocatable(f, n.get("enforceNodeAllocatable"));
        List<EvictionThreshold> minReclaim = minimumReclaims(f, n.get("evictionMinimumReclaim"));
        long maxPodGrace = maxPodGracePeriod(f, n.get("evictionMaxPodGracePeriod"));
        Duration transition = transitionPeriod(f, n.get("evictionPressureTransitionPeriod"));
        try {
            return new KubeletSettings(failSwapOn == null ? d.failSwapOn() : failSwapOn, swap, factor, rp,
                    gates.memoryQos(), gates.podLevelResources(), sys, kube, hard, soft, spok != null && spok,
                    new LinkedHashSet<>(ena), minReclaim, maxPodGrace, transition);
        } catch (IllegalArgumentException e) {
            throw new InputException(f + ": " + e.getMessage(), e);
        }
    }

    /** {@code memorySwap.swapBehavior}: one the kubelet accepts; NoSwap without a memorySwap mapping. */
    private static SwapBehavior swapBehavior(String f, JsonNode ms) throws InputException {
        YamlDocs.requireObject(f, "memorySwap", ms);
        if (ms == null || !ms.isObject()) {
            return SwapBehavior.NO_SWAP;
        }
        String b = YamlDocs.string(f, "memorySwap.swapBehavior", ms.get("swapBehavior"));
        SwapBehavior swap;
        try {
            swap = SwapBehavior.parse(b);
        } catch (IllegalArgumentException e) {
            throw InputException.field(f, "memorySwap.swapBehavior", e.getMessage());
        }
        if (!swap.isKubelet()) {
            throw InputException.field(f, "memorySwap.swapBehavior", "\"" + b + "\": the kubelet accepts only"
                    + " \"\", NoSwap or LimitedSwap (" + b + " was removed in 1.30); memwarden's extended"
                    + " behaviours go in memwarden's config swap.behavior");
        }
        return swap;
    }

    /** {@code memoryThrottlingFactor} in (0, 1], or null when absent (the kubelet's default applies). */
    private static Double throttlingFactor(String f, JsonNode mtf) throws InputException {
        if (mtf == null || mtf.isNull()) {
            return null;
        }
        if (!mtf.isNumber()) {
            throw InputException.field(f, "memoryThrottlingFactor", "expected a number in (0, 1], got " + mtf);
        }
        double factor = mtf.doubleValue();
        if (!(factor > 0 && factor <= 1)) {
            throw InputException.field(f, "memoryThrottlingFactor", "must be in (0, 1], got " + mtf);
        }
        return factor;
    }

    private record Gates(boolean memoryQos, boolean podLevelResources) {}

    /** The feature gates memwarden honours over {@code d}; NodeSwap is GA and cannot be turned off. */
    private static Gates featureGates(String f, JsonNode gates, Gates d) throws InputException {
        YamlDocs.requireObject(f, "featureGates", gates);
        if (gates == null || !gates.isObject()) {
            return d;
        }
        Boolean memoryQos = YamlDocs.bool(f, "featureGates.MemoryQoS", gates.get("MemoryQoS"));
        Boolean podLevel = YamlDocs.bool(f, "featureGates.PodLevelResources", gates.get("PodLevelResources"));
        if (Boolean.FALSE.equals(YamlDocs.bool(f, "featureGates.NodeSwap", gates.get("NodeSwap")))) {
            throw InputException.field(f, "featureGates.NodeSwap", "cannot be false: NodeSwap is GA and locked on");
        }
        return new Gates(memoryQos != null ? memoryQos : d.memoryQos(),
                podLevel != null ? podLevel : d.podLevelResources());
    }

    /**
     * {@code evictionHard}, the kubelet's defaults when absent; with {@code mergeDefaultEvictionSettings} the defaults
     * of signals not named are added (a signal given as "0%"/"100%" is dropped on purpose and not re-added).
     */
    private static List<EvictionThreshold> evictionHard(String f, JsonNode eh, boolean merge) throws InputException {
        if (eh == null || eh.isNull()) {
            return KubeletSettings.DEFAULT_EVICTION_HARD;
        }
        List<EvictionThreshold> hard = thresholds(f, "evictionHard", eh, null);
        if (!merge) {
            return hard;
        }
        Set<String> have = new LinkedHashSet<>();
        hard.forEach(t -> have.add(t.signal()));
        for (String k : eh.propertyNames()) {
            have.add(k);
        }
        List<EvictionThreshold> merged = new ArrayList<>(hard);
        for (EvictionThreshold t : KubeletSettings.DEFAULT_EVICTION_HARD) {
            if (!have.contains(t.signal())) {
                merged.add(t);
            }
        }
        return merged;
    }

    private static final Set<String> ENFORCE_NODE_ALLOCATABLE = Set.of("pods", "system-reserved", "kube-reserved",
            "system-reserved-compressible", "kube-reserved-compressible", "none");

    /** {@code enforceNodeAllocatable}: known values only; [pods] when absent. */
    private static List<String> enforceNodeAllocatable(String f, JsonNode n) throws InputException {
        List<String> ena = YamlDocs.strings(f, "enforceNodeAllocatable", n);
        for (String s : ena) {
            if (!ENFORCE_NODE_ALLOCATABLE.contains(s)) {
                throw InputException.field(f, "enforceNodeAllocatable", "unknown value \"" + s + "\" (expected one of "
                        + String.join(", ", new TreeSet<>(ENFORCE_NODE_ALLOCATABLE)) + ")");
            }
        }
        return n == null ? List.of("pods") : ena;
    }

    private static long reservedMemory(String f, String field, JsonNode n) throws InputException {
        YamlDocs.requireObject(f, field, n);
        if (n == null || n.isNull()) {
            return 0;
        }
        Long v = YamlDocs.quantity(f, field + ".memory", n.get("memory"));
        return v == null ? 0 : v;
    }

    private static Map<String, Duration> graceperiods(String f, JsonNode n) throws InputException {
        YamlDocs.requireObject(f, "evictionSoftGracePeriod", n);
        Map<String, Duration> out = new LinkedHashMap<>();
        if (n == null || n.isNull()) {
            return out;
        }
        for (var e : n.properties()) {
            String field = "evictionSoftGracePeriod." + e.getKey();
            String v = YamlDocs.string(f, field, e.getValue());
            try {
                Duration d = YamlDocs.goDuration(v);
                if (d.isNegative()) {
                    throw new IllegalArgumentException("must not be negative: " + v);
                }
                out.put(e.getKey(), d);
            } catch (IllegalArgumentException ex) {
                throw InputException.field(f, field, ex.getMessage());
            }
        }
        return out;
    }

    /** {@code evictionMinimumReclaim}: signal → quantity (&ge; 0) or percentage (0, 100 %]; none when absent. */
    private static List<EvictionThreshold> minimumReclaims(String f, JsonNode n) throws InputException {
        YamlDocs.requireObject(f, "evictionMinimumReclaim", n);
        List<EvictionThreshold> out = new ArrayList<>();
        if (n == null || n.isNull()) {
            return out;
        }
        for (var e : n.properties()) {
            String sub = "evictionMinimumReclaim." + e.getKey();
            JsonNode v = e.getValue();
            if (!(v.isString() || v.isNumber())) {
                throw InputException.field(f, sub, "expected a quantity or percentage, got " + v);
            }
            try {
                out.add(EvictionThreshold.parseMinimumReclaim(e.getKey(), v.asString()));
            } catch (IllegalArgumentException ex) {
                throw InputException.field(f, sub, ex.getMessage());
            }
        }
        return out;
    }

    /** {@code evictionMaxPodGracePeriod}: whole seconds &ge; 0; 0 when absent (the kubelet's default). */
    private static long maxPodGracePeriod(String f, JsonNode n) throws InputException {
        if (n == null || n.isNull()) {
            return 0;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            throw InputException.field(f, "evictionMaxPodGracePeriod", "expected whole seconds (an int32), got " + n);
        }
        int v = n.intValue();
        if (v < 0) {
            throw InputException.field(f, "evictionMaxPodGracePeriod", "must not be negative, got " + v);
        }
        return v;
    }

    /** {@code evictionPressureTransitionPeriod}: a Go duration &ge; 0; 5m when absent or 0s (as the kubelet). */
    private static Duration transitionPeriod(String f, JsonNode n) throws InputException {
        String v = YamlDocs.string(f, "evictionPressureTransitionPeriod", n);
        if (v == null) {
            return KubeletSettings.DEFAULT_PRESSURE_TRANSITION_PERIOD;
        }
        try {
            Duration d = YamlDocs.goDuration(v);
            if (d.isNegative()) {
                throw new IllegalArgumentException("must not be negative: " + v);
            }
            return d.isZero() ? KubeletSettings.DEFAULT_PRESSURE_TRANSITION_PERIOD : d;
        } catch (IllegalArgumentException ex) {
            throw InputException.field(f, "evictionPressureTransitionPeriod", ex.getMessage());
        }
    }

    private static List<EvictionThreshold> thresholds(String f, String field, JsonNode n, Map<String, Duration> grace)
            throws InputException {
        YamlDocs.requireObject(f, field, n);
        List<EvictionThreshold> out = new ArrayList<>();
        for (var e : n.properties()) {
            String sub = field + "." + e.getKey();
            JsonNode v = e.getValue();
            if (!(v.isString() || v.isNumber())) {
                throw InputException.field(f, sub, "expected a quantity or percentage, got " + v);
            }
            Duration g = null;
            if (grace != null) {
                g = grace.get(e.getKey());
                if (g == null) {
                    throw InputException.field(f, sub, "\"" + v.asString() + "\": a soft eviction threshold"
                            + " requires a grace period in evictionSoftGracePeriod." + e.getKey()
                            + " (the kubelet refuses it too)");
                }
            }
            try {
                EvictionThreshold t = EvictionThreshold.parse(e.getKey(), v.asString(), g);
                if (t != null) {
                    out.add(t);
                }
            } catch (IllegalArgumentException ex) {
                throw InputException.field(f, sub, ex.getMessage());
            }
        }
        return out;
    }
}
