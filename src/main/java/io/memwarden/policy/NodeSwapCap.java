package io.memwarden.policy;

import static io.memwarden.model.CgroupFiles.MEMORY_SWAP_MAX;
import static io.memwarden.model.CgroupFiles.V1_MEMSW_LIMIT;

import io.memwarden.model.CgroupVersion;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The node-wide cap on the workloads' swap together, written on the kubepods cgroup (the parent of every pod cgroup)
 * by the control loops each round ({@code loops.SwapCapStep}), from config {@code swap.nodeCap} and
 * {@code swap.systemReserved} and the node's swap total as observed that round (so swapon/swapoff re-evaluate it):
 * <pre>
 *   available = max(0, swapTotal − systemReserved)
 *   cap       = min(nodeCap resolved on swapTotal, available)     (available alone without nodeCap)
 * </pre>
 * <ul>
 *   <li>cgroup v2: kubepods {@code memory.swap.max} = cap (the kernel charges a child's swap to every ancestor);</li>
 *   <li>cgroup v1 has no swap-only limit, only memory + swap ({@code memory.memsw.limit_in_bytes}): kubepods memsw =
 *       kubepods {@code memory.limit_in_bytes} + cap, when kubepods has a memory limit (the kubelet's
 *       {@code enforceNodeAllocatable: [pods]} sets it); without one the cap is not enforceable and nothing is
 *       written. The projection caps swap exactly only while kubepods' memory is at its limit; below it, pods may swap
 *       more as long as memory + swap stays under the sum (docs/policy.md §15, "Node cap").</li>
 * </ul>
 * The kubelet has no such cap: KEP-2400's text subtracts system-reserved swap from LimitedSwap's share, the kubelet's
 * code does not (kubelet-semantics.md §1; memory-control-anchors.md, KEP-2400).
 */
public final class NodeSwapCap {
    private NodeSwapCap() {}

    /** A v1 limit at least this large is "no limit" (the kernel reads back unlimited as 9223372036854771712). */
    public static final long V1_NO_LIMIT = 1L << 60;

    /**
     * @param capBytes      the cap on the workloads' swap; null when none is configured
     * @param files         kubepods file → value to write (empty: nothing to write)
     * @param unenforceable why a configured cap cannot be written, or null
     * @param reasons       how the cap and the files were computed
     */
    public record Decision(Long capBytes, Map<String, String> files, String unenforceable, List<String> reasons) {
        public Decision {
            files = Map.copyOf(files);
            reasons = List.copyOf(reasons);
        }
    }

    /**
     * @param swapTotal           the node's swap total now (SwapTotal), bytes
     * @param kubepodsMemoryLimit cgroup v1: kubepods' {@code memory.limit_in_bytes} as read (null or ≥
     *                            {@link #V1_NO_LIMIT}: no limit); ignored on v2
     */
    public static Decision decide(WardenConfig.SwapConfig config, CgroupVersion version, long swapTotal,
                                  Long kubepodsMemoryLimit) {
        List<String> reasons = new ArrayList<>();
        if (config == null || !config.capsNode()) {
            reasons.add("no swap.nodeCap or swap.systemReserved: the workloads' swap together is not capped");
            return new Decision(null, Map.of(), null, reasons);
        }
        long total = Math.max(0, swapTotal);
        long reserved = config.systemReserved() == null ? 0 : config.systemReserved();
        long available = Math.max(0, total - reserved);
        String availableText = "swap total " + total + " − swap.systemReserved " + reserved + " = " + available;
        long cap;
        if (config.nodeCap() == null) {
            cap = available;
            reasons.add("node swap cap = " + availableText);
        } else {
            long configured = Math.max(0, config.nodeCap().resolve(total));
            cap = Math.min(configured, available);
            reasons.add("node swap cap = min(swap.nodeCap " + config.nodeCap().text() + " = " + configured + ", "
                    + availableText + ") = " + cap);
        }
        Map<String, String> files = new LinkedHashMap<>();
        String unenforceable = null;
        if (version == CgroupVersion.V2) {
            files.put(MEMORY_SWAP_MAX, Long.toString(cap));
            reasons.add("kubepods " + MEMORY_SWAP_MAX + " = " + cap + " (a pod's swap is charged to kubepods too)");
        } else if (kubepodsMemoryLimit == null || kubepodsMemoryLimit >= V1_NO_LIMIT || kubepodsMemoryLimit < 0) {
            unenforceable = "not enforceable on cgroup v1 without a kubepods memory limit (v1 has no swap-only limit;"
                    + " memory.memsw.limit_in_bytes counts memory + swap; the kubelet sets kubepods'"
                    + " memory.limit_in_bytes with enforceNodeAllocatable: [pods])";
            reasons.add(unenforceable);
        } else {
            long memsw = saturatedAdd(kubepodsMemoryLimit, cap);
            files.put(V1_MEMSW_LIMIT, Long.toString(memsw));
            reasons.add("kubepods " + V1_MEMSW_LIMIT + " = memory.limit_in_bytes " + kubepodsMemoryLimit + " + cap "
                    + cap + " = " + memsw + " (cgroup v1 projection: memory + swap)");
        }
        return new Decision(cap, files, unenforceable, reasons);
    }

    private static long saturatedAdd(long a, long b) {
        long r = a + b;
        return ((a ^ r) & (b ^ r)) < 0 ? Long.MAX_VALUE : r;
    }
}
