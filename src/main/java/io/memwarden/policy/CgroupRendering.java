package io.memwarden.policy;

import static io.memwarden.model.CgroupFiles.*;

import io.memwarden.model.CgroupVersion;
import io.memwarden.model.SwapBehavior;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a container's decided values into real cgroup files for the node's version. This is the one place where
 * cgroup v2 semantics that v1 lacks are projected onto v1 (docs/policy.md "cgroup v1 projection"):
 * <ul>
 *   <li>memory.high H below the limit → {@code memory.limit_in_bytes = H} (v1 has no throttle point; the RAM
 *       ceiling becomes H);</li>
 *   <li>swap allowance S → {@code memory.memsw.limit_in_bytes} = RAM ceiling + S (so memory + swap ≤ ceiling + S);
 *       unlimited → -1; none → ceiling plus {@code memory.swappiness=0}; WithinLimitSwap → the memory limit;</li>
 *   <li>memory.min / memory.low → not enforceable on v1 (said in the reasons, not written);</li>
 *   <li>any other unified file → an error: it has no v1 equivalent.</li>
 * </ul>
 * memwarden's swap caps (config {@code swap.maxPerContainer}, annotation {@code swap-max}) apply last, over
 * kubelet, extension and nri memory-qos values alike: a cap is the operator's word.
 */
final class CgroupRendering {
    private CgroupRendering() {}

    /** Inputs decided for one container. */
    /** @param swapCap the smallest memwarden swap cap (config or annotation), null for none; applied last */
    record Decided(long limit, SwapDecision swap, Map<String, String> memoryQos, boolean oomGroup,
                   Map<String, String> nriUnified, Long swapCap, String swapCapFrom) {}

    /** Rendered files, the effective behaviour label, and reasons added by rendering. */
    record Rendered(Map<String, String> files, String swapBehavior, List<String> reasons) {}

    static Rendered render(CgroupVersion version, Decided d, String container) throws PolicyException {
        return version == CgroupVersion.V2 ? v2(d) : v1(d, container);
    }

    private static Rendered v2(Decided d) {
        Map<String, String> f = new LinkedHashMap<>();
        List<String> why = new java.util.ArrayList<>();
        if (d.limit() > 0) {
            f.put(MEMORY_MAX, Long.toString(d.limit()));
        }
        switch (d.swap().intent()) {
            case SwapIntent.NotWritten n -> { }
            case SwapIntent.Zero z -> f.put(MEMORY_SWAP_MAX, "0");
            case SwapIntent.WithinLimit w -> f.put(MEMORY_SWAP_MAX, "0");
            case SwapIntent.Bytes(long b) -> f.put(MEMORY_SWAP_MAX, Long.toString(b));
            case SwapIntent.Unlimited u -> f.put(MEMORY_SWAP_MAX, V2_MAX);
        }
        f.putAll(d.memoryQos());
        if (d.oomGroup()) {
            f.put(MEMORY_OOM_GROUP, "1");
        }
        String label = d.swap().behavior().configName();
        String nriSwap = d.nriUnified().get(MEMORY_SWAP_MAX);
        if (nriSwap != null) {
            label = labelFor(nriSwap, label);
        }
        f.putAll(d.nriUnified());
        String s = f.get(MEMORY_SWAP_MAX);
        if (d.swapCap() != null && s != null) {
            if (s.equals(V2_MAX)) {
                f.put(MEMORY_SWAP_MAX, Long.toString(d.swapCap()));
                why.add("memory.swap.max: unlimited swap capped at " + d.swapCap() + " by " + d.swapCapFrom());
            } else if (!s.matches("[0-9]+")
                    || new java.math.BigInteger(s).compareTo(java.math.BigInteger.valueOf(d.swapCap())) > 0) {
                // values come canonical (CgroupValues); anything else is capped rather than passed on unchecked
                f.put(MEMORY_SWAP_MAX, Long.toString(d.swapCap()));
                why.add("memory.swap.max: " + s + " capped at " + d.swapCap() + " by " + d.swapCapFrom());
            }
        }
        return new Rendered(f, label, why);
    }

    private static Rendered v1(Decided d, String container) throws PolicyException {
        Map<String, String> f = new LinkedHashMap<>();
        List<String> why = new java.util.ArrayList<>();
        long ceiling = d.limit();
        SwapIntent swap = d.swap().intent();
        String label = d.swap().behavior().configName();
        for (var e : d.nriUnified().entrySet()) {
            String key = e.getKey();
            String value = e.getValue().strip();
            switch (key) {
                case MEMORY_HIGH -> {
                    if (value.equals(V2_MAX)) {
                        why.add("memory.high=max on cgroup v1: nothing to project");
                        break;
                    }
                    long high = parseBytes(key, value, container);
                    if (high == 0) {
                        throw new PolicyException(container, "memory.high=0 cannot be projected onto cgroup v1: it would"
                                + " become a zero memory.limit_in_bytes (on v2 it means: reclaim all the time)");
                    }
                    long newCeiling = ceiling > 0 ? Math.min(ceiling, high) : high;
                    why.add("cgroup v1 projection: memory.high " + high + " has no v1 equivalent; memory.limit_in_bytes"
                            + " becomes " + newCeiling + " (the RAM ceiling), swap allowance counted above it");
                    ceiling = newCeiling;
                }
                case MEMORY_SWAP_MAX -> {
                    label = labelFor(value, label);
                    why.add("cgroup v1 projection: memory.swap.max=" + value + " replaces the " + d.swap().behavior()
                            + " swap allowance; memory.memsw.limit_in_bytes carries it above the RAM ceiling");
                    if (value.equals(V2_MAX)) {
                        swap = new SwapIntent.Unlimited();
                    } else {
                        long b = parseBytes(key, value, container);
                        swap = b == 0 ? new SwapIntent.Zero() : new SwapIntent.Bytes(b);
                    }
                }
                case MEMORY_MIN, MEMORY_LOW -> why.add("cgroup v1: " + key + "=" + value
                        + " is not enforceable (no v1 equivalent); not written");
                default -> throw new PolicyException(container, key + "=" + value
                        + ": cgroup v2 file has no cgroup v1 equivalent on this node");
            }
        }
        if (ceiling > 0) {
            f.put(V1_LIMIT, Long.toString(ceiling));
        }
        if (d.swapCap() != null) {
            if (swap instanceof SwapIntent.Unlimited) {
                why.add("swap: unlimited swap capped at " + d.swapCap() + " by " + d.swapCapFrom());
                swap = new SwapIntent.Bytes(d.swapCap());
            } else if (swap instanceof SwapIntent.Bytes(long b) && b > d.swapCap()) {
                why.add("swap: " + b + " capped at " + d.swapCap() + " by " + d.swapCapFrom());
                swap = new SwapIntent.Bytes(d.swapCap());
            }
        }
        switch (swap) {
            case SwapIntent.NotWritten n -> { }
            case SwapIntent.Zero z -> {
                if (ceiling > 0) {
                    f.put(V1_MEMSW_LIMIT, Long.toString(ceiling));
                }
                // memsw = limit alone is leaky: memcg reclaim at the memory limit may still swap some pages out before
                // the OOM kill (measured on 6.18: ~570 KiB for a 128 MiB hog in a 64 MiB limit). Swappiness 0 makes
                // memcg reclaim leave anonymous memory in RAM, so NoSwap really means no swap.
                f.put(V1_SWAPPINESS, "0");
                why.add("cgroup v1: memory.swappiness=0 so NoSwap really means no swap (memsw = limit alone lets"
                        + " reclaim swap a few pages before the OOM kill); memwarden's addition, the kubelet does not"
                        + " write it");
            }
            case SwapIntent.WithinLimit w -> {
                if (d.limit() > 0) {
                    f.put(V1_MEMSW_LIMIT, Long.toString(d.limit()));
                } else {
                    why.add("WithinLimitSwap without a memory limit: nothing to bound on cgroup v1");
                }
            }
            case SwapIntent.Unlimited u -> f.put(V1_MEMSW_LIMIT, V1_UNLIMITED);
            case SwapIntent.Bytes(long b) -> {
                if (ceiling > 0) {
                    f.put(V1_MEMSW_LIMIT, Long.toString(ceiling + b));
                    why.add("cgroup v1: memory.memsw.limit_in_bytes = RAM ceiling " + ceiling + " + swap allowance " + b);
                } else {
                    why.add("cgroup v1: a swap allowance of " + b + " bytes is not enforceable without a memory limit"
                            + " (memsw bounds memory+swap); not written");
                }
            }
        }
        return new Rendered(f, label, why);
    }

    private static String labelFor(String swapMax, String fallback) {
        String v = swapMax.strip();
        if (v.equals("0")) {
            return SwapBehavior.NO_SWAP.configName();
        }
        if (v.equals(V2_MAX)) {
            return SwapBehavior.UNLIMITED_SWAP.configName();
        }
        return v.matches("[0-9]+") ? SwapBehavior.LIMITED_SWAP.configName() : fallback;
    }

    private static long parseBytes(String key, String value, String container) throws PolicyException {
        try {
            long v = Long.parseLong(value);
            if (v < 0) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new PolicyException(container, key + "=\"" + value + "\": not a byte count or \"max\";"
                    + " cannot project it onto cgroup v1");
        }
    }
}
