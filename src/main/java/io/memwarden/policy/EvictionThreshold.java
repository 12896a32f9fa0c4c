package io.memwarden.policy;

import io.memwarden.model.KubeQuantity;
import java.time.Duration;
import java.util.Set;

/**
 * One eviction threshold ({@code memory.available<100Mi}, {@code nodefs.available<10%}), as the kubelet parses it
 * (kubelet-semantics §4): a quantity &gt; 0, or a percentage parsed as float32/100; a soft threshold has a grace period.
 *
 * @param quantity   bytes (or count for inode/pid signals), null for a percentage
 * @param percentage fraction in (0, 1] as the kubelet's float32, null for a quantity
 * @param field      where it was configured: {@code evictionHard}, {@code evictionSoft}, {@code evictionMinimumReclaim},
 *                   or for a clone (kubelet-semantics §4) {@code evictionHard memory.available (cloned: ...)}
 */
public record EvictionThreshold(String signal, Long quantity, Float percentage, Duration gracePeriod, String text,
                                String field) {

    /** A threshold of {@code evictionSoft} (with a grace period) or {@code evictionHard} (without). */
    public EvictionThreshold(String signal, Long quantity, Float percentage, Duration gracePeriod, String text) {
        this(signal, quantity, percentage, gracePeriod, text, gracePeriod == null ? "evictionHard" : "evictionSoft");
    }

    public static final String MEMORY_AVAILABLE = "memory.available";
    public static final String ALLOCATABLE_MEMORY_AVAILABLE = "allocatableMemory.available";
    public static final Set<String> SIGNALS = Set.of(MEMORY_AVAILABLE, ALLOCATABLE_MEMORY_AVAILABLE,
            "nodefs.available", "nodefs.inodesFree", "imagefs.available", "imagefs.inodesFree",
            "containerfs.available", "containerfs.inodesFree", "pid.available");

    /**
     * Parses {@code value} for {@code signal} exactly as the kubelet: "0%" and "100%" are dropped (returns null),
     * other percentages must be in [0, 100]; quantities must be positive.
     */
    public static EvictionThreshold parse(String signal, String value, Duration grace) {
        if (!SIGNALS.contains(signal)) {
            throw new IllegalArgumentException("unsupported eviction signal \"" + signal + "\"");
        }
        if (value == null) {
            throw new IllegalArgumentException("eviction threshold " + signal + " has no value");
        }
        String v = value.strip();
        if (v.endsWith("%")) {
            if (v.equals("0%") || v.equals("100%")) {
                return null;
            }
            float pct;
            try {
                // strconv.ParseFloat(s, 32) then float32(value) / 100
                pct = Float.parseFloat(stripPercent(v)) / 100f;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("eviction threshold " + signal + ": \"" + value + "\" is not a percentage");
            }
            if (Float.isNaN(pct) || pct < 0) {
                throw new IllegalArgumentException("eviction percentage threshold " + signal + " must be >= 0%: " + value);
            }
            if (pct > 1) {
                throw new IllegalArgumentException("eviction percentage threshold " + signal + " must be <= 100%: " + value);
            }
            return new EvictionThreshold(signal, null, pct, grace, v);
        }
        KubeQuantity q;
        try {
            q = KubeQuantity.parse(v);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("eviction threshold " + signal + ": " + e.getMessage());
        }
        if (q.signum() <= 0) {
            throw new IllegalArgumentException("eviction threshold " + signal + " must be positive: " + value);
        }
        return new EvictionThreshold(signal, q.bytes(), null, grace, v);
    }

    private static String stripPercent(String v) {
        String s = v;
        while (s.endsWith("%")) { // strings.TrimRight(input, "%")
            s = s.substring(0, s.length() - 1);
        }
        if (s.isEmpty() || !s.matches("[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+)?")) {
            throw new NumberFormatException(v);
        }
        return s;
    }

    /** The threshold in bytes against {@code capacity}: {@code int64(float64(capacity) * float64(percentage))}. */
    public long resolve(long capacity) {
        if (quantity != null) {
            return quantity;
        }
        return (long) ((double) capacity * (double) percentage.floatValue());
    }

    /**
     * Parses an {@code evictionMinimumReclaim} value for {@code signal}: a quantity &ge; 0 or a percentage &gt; 0 and
     * &le; 100 % (of the signal's capacity).
     */
    public static EvictionThreshold parseMinimumReclaim(String signal, String value) {
        if (!SIGNALS.contains(signal)) {
            throw new IllegalArgumentException("unsupported eviction signal \"" + signal + "\"");
        }
        if (value == null) {
            throw new IllegalArgumentException("minimum reclaim of " + signal + " has no value");
        }
        String v = value.strip();
        if (v.endsWith("%")) {
            float pct;
            try {
                pct = Float.parseFloat(stripPercent(v)) / 100f;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("\"" + value + "\" is not a percentage");
            }
            if (Float.isNaN(pct) || pct <= 0 || pct > 1) {
                throw new IllegalArgumentException("a percentage minimum reclaim must be above 0% and at most 100%,"
                        + " got " + value);
            }
            return new EvictionThreshold(signal, null, pct, null, v, "evictionMinimumReclaim");
        }
        KubeQuantity q;
        try {
            q = KubeQuantity.parse(v);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("\"" + value + "\": " + e.getMessage());
        }
        if (q.signum() < 0) {
            throw new IllegalArgumentException("a minimum reclaim must not be negative, got " + value);
        }
        return new EvictionThreshold(signal, q.bytes(), null, null, v, "evictionMinimumReclaim");
    }

    /**
     * This hard threshold cloned to {@code other} (a hard {@code memory.available} threshold applies to
     * {@code allocatableMemory.available} too when {@code enforceNodeAllocatable} has {@code pods}).
     */
    public EvictionThreshold cloneTo(String other) {
        return new EvictionThreshold(other, quantity, percentage, gracePeriod, text, field + " " + signal
                + " (cloned: enforceNodeAllocatable has pods)");
    }

    /** As the kubelet writes it: {@code memory.available<100Mi}. */
    public String describe() {
        return signal + "<" + text;
    }

    public boolean isSoft() {
        return gracePeriod != null && !gracePeriod.isZero();
    }
}
