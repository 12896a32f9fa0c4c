package io.memwarden.control;

import io.memwarden.model.HumanBytes;

/**
 * Why a container was OOM-killed while the node may have had swap: "OOM while swap was free". A pure judgement over
 * the figures at the kill (the kernel's own, printed in the OOM record; the node's swap as read right then) and the
 * container's swap behaviour from its plan, said in one sentence for the pod's event, the log and
 * {@code memwarden oom-watch} (docs/control-loops.md, "OOM watch").
 *
 * <p>Thresholds: node swap counts as full when at most {@link #nodeSwapFullBytes} is free (1 % of it, at least
 * 1 MiB); a swap limit counts as used up when at most {@link #limitSlackBytes} of it is left (1 % of it, at least
 * 1 MiB: the kernel charges swap in pages and reclaims in batches).
 */
public final class OomDiagnosis {
    private OomDiagnosis() {}

    static final long MI = 1L << 20;

    /** Where the kill happened. */
    public enum Scope {
        /** at the container's own memory limit (the OOM cgroup is the task's) */
        CONTAINER,
        /** at the limit of a cgroup above the container (its pod's, or kubepods) */
        ANCESTOR,
        /** a global OOM: the node ran out of memory */
        SYSTEM
    }

    /** The verdict's kind: which of the cases held. */
    public enum Kind {
        /** the node had no swap at all */
        NO_NODE_SWAP,
        /** the container may not swap (swap limit 0, NoSwap) while the node had swap free */
        SWAP_NOT_ALLOWED,
        /** the container's swap limit was used up while the node had swap free */
        SWAP_LIMIT_REACHED,
        /** the container could swap more but the node's swap was full */
        NODE_SWAP_FULL,
        /** the container could swap more and the node had swap free: it was not swapped out in time */
        SWAP_ROOM_LEFT,
        /** a global OOM (the node ran out of memory) */
        SYSTEM_OOM,
        /** not enough figures to say more than where it happened */
        UNKNOWN
    }

    /**
     * The figures at the kill. Bytes; -1 where unknown; {@code swapLimitBytes} {@link Long#MAX_VALUE} when unlimited.
     *
     * @param limitBytes     the memory limit the kill happened at
     * @param anonBytes      anonymous memory of the cgroup the kill happened in (memory.stat anon; v1 rss)
     * @param swapUsageBytes swap charged to it
     * @param swapLimitBytes its swap limit (v2 memory.swap.max; v1 memsw − memory limit)
     * @param swapBehavior   the container's swap behaviour from its plan (NoSwap, LimitedSwap, ...); null when unknown
     * @param ancestor       for {@link Scope#ANCESTOR}: what the limit belongs to ("its pod", "cgroup /kubepods");
     *                       ignored otherwise
     * @param ownSwapLimit   {@code swapLimitBytes} is the container's own (else, at a parent's limit, the parent's)
     */
    public record Facts(Scope scope, String ancestor, long limitBytes, long anonBytes, long swapUsageBytes,
                        long swapLimitBytes, String swapBehavior, long nodeSwapTotalBytes, long nodeSwapFreeBytes,
                        boolean ownSwapLimit) {

        /** The swap limit is the OOM cgroup's: the container's own unless the kill was at a parent's limit. */
        public Facts(Scope scope, String ancestor, long limitBytes, long anonBytes, long swapUsageBytes,
                     long swapLimitBytes, String swapBehavior, long nodeSwapTotalBytes, long nodeSwapFreeBytes) {
            this(scope, ancestor, limitBytes, anonBytes, swapUsageBytes, swapLimitBytes, swapBehavior,
                    nodeSwapTotalBytes, nodeSwapFreeBytes, scope != Scope.ANCESTOR);
        }
    }

    /** The verdict: its kind and one sentence (no trailing period). */
    public record Verdict(Kind kind, String sentence) {}

    /** Node swap at most this free counts as full. */
    public static long nodeSwapFullBytes(long nodeSwapTotal) {
        return Math.max(MI, nodeSwapTotal / 100);
    }

    /** A swap limit with at most this left counts as used up. */
    public static long limitSlackBytes(long swapLimit) {
        return Math.max(MI, swapLimit / 100);
    }

    public static Verdict of(Facts f) {
        String head = head(f);
        boolean nodeKnown = f.nodeSwapTotalBytes() >= 0 && f.nodeSwapFreeBytes() >= 0;
        boolean nodeFull = nodeKnown && f.nodeSwapFreeBytes() <= nodeSwapFullBytes(f.nodeSwapTotalBytes());
        // the node's swap at the kill, as a clause: free, full, or unknown (nothing said)
        String node = !nodeKnown ? "" : nodeFull ? " with the node's swap full (" + free(f) + ")"
                : " while " + size(f.nodeSwapFreeBytes()) + " of node swap was free";
        if (nodeKnown && f.nodeSwapTotalBytes() == 0) {
            return new Verdict(f.scope() == Scope.SYSTEM ? Kind.SYSTEM_OOM : Kind.NO_NODE_SWAP,
                    head + "; the node has no swap");
        }
        if (f.scope() == Scope.SYSTEM) {
            return new Verdict(Kind.SYSTEM_OOM, head + node);
        }
        String cls = f.swapBehavior() == null || f.swapBehavior().isBlank() ? null : f.swapBehavior();
        long limit = f.swapLimitBytes();
        // without a plan (oom-watch) the figures are the OOM cgroup's: a parent's when the kill was at its limit
        String whose = f.ownSwapLimit() ? "its" : "that cgroup's";
        if (limit == 0 || limit < 0 && "NoSwap".equals(cls)) { // without figures, the plan's NoSwap says none
            String why = cls != null ? "its swap class " + cls + " allows none" : whose + " swap limit is 0";
            return new Verdict(Kind.SWAP_NOT_ALLOWED, head + node + ": " + why + (nodeFull ? " anyway" : ""));
        }
        if (limit < 0 || f.swapUsageBytes() < 0) {
            return new Verdict(Kind.UNKNOWN, head + node + (cls == null ? "" : " (swap class " + cls + ")")
                    + "; its swap use at the kill is unknown");
        }
        boolean unlimited = limit == Long.MAX_VALUE;
        String allowance = unlimited ? (cls == null ? (f.ownSwapLimit() ? "its cgroup set" : "that cgroup set")
                : "its swap class " + cls + " sets")
                + " no swap limit" : (cls == null ? whose : "its") + " swap limit " + size(limit)
                + (cls == null ? "" : " (" + cls + ")");
        if (!unlimited && limit - f.swapUsageBytes() <= limitSlackBytes(limit)) {
            return new Verdict(Kind.SWAP_LIMIT_REACHED, head + node + ": " + allowance + " was used up");
        }
        String left = unlimited ? allowance : allowance + " had " + size(limit - f.swapUsageBytes()) + " left";
        if (!nodeKnown) {
            return new Verdict(Kind.UNKNOWN, head + ": " + left + "; node swap at the kill is unknown");
        }
        if (nodeFull) {
            return new Verdict(Kind.NODE_SWAP_FULL, head + ": " + left + " but the node's swap was full (" + free(f)
                    + ")");
        }
        return new Verdict(Kind.SWAP_ROOM_LEFT, head + node + " and " + left
                + ": the kernel did not swap enough of it out in time");
    }

    private static String free(Facts f) {
        return size(f.nodeSwapFreeBytes()) + " of " + size(f.nodeSwapTotalBytes()) + " free";
    }

    private static String head(Facts f) {
        if (f.scope() == Scope.SYSTEM) {
            return "killed in a system OOM (the node ran out of memory)";
        }
        String where = f.scope() == Scope.CONTAINER ? "its memory limit"
                : "the memory limit of " + (f.ancestor() == null || f.ancestor().isBlank() ? "a parent cgroup"
                : f.ancestor());
        String limit = f.limitBytes() >= 0 && f.limitBytes() != Long.MAX_VALUE ? " " + size(f.limitBytes()) : "";
        String anon = f.anonBytes() >= 0 ? " (anon " + size(f.anonBytes()) + ")" : "";
        return "OOM-killed at " + where + limit + anon;
    }

    /** Bytes as a Kubernetes-style binary size with at most one decimal: 256Mi, 1.9Gi, 512Ki, 100 bytes. */
    public static String size(long bytes) {
        return HumanBytes.sentence(bytes);
    }
}
