package io.memwarden.view;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;

/**
 * {@code memwarden explain}'s one sentence connecting a container's OOM kills to their cause (issue #18 item 2).
 * Pure; from what {@code /status} carries: the container's {@code oom_kill} count (v2 memory.events, v1
 * memory.oom_control), the kernel-log kills attributed to it ({@code oomKills.series}), the pressure guard's
 * evictions and kills ({@code recentActions}), its plan's swap behaviour and its swap limit, and the node's swap.
 * Checked in this order, the first that holds is said:
 * <ol>
 *   <li>guard action: memwarden's pressure guard evicted or killed the pod (not the kernel);</li>
 *   <li>global OOM: the kernel log attributes a system OOM kill to the container and its cgroup counts none;</li>
 *   <li>limit hit with no swap available: the node has no swap on while its plan lets it swap;</li>
 *   <li>limit hit and its swap class allows none (swap limit 0);</li>
 *   <li>swap.max reached: its swap is within 1 % (at least 1 MiB) of its swap limit;</li>
 *   <li>the node's swap is full (at most 1 %, at least 1 MiB, free);</li>
 *   <li>otherwise: it had swap room left; the kernel did not swap enough out in time.</li>
 * </ol>
 * The swap figures are the ones {@code /status} read now, not at the kill: the sentence says "now" where that
 * matters. The kernel's own figures at the kill are in the OOM watch's log line and the pod's MemwardenOomKill event
 * (control.OomDiagnosis).
 */
public final class OomCause {
    private OomCause() {}

    static final long MI = 1L << 20;

    private static final DateTimeFormatter CLOCK =
            DateTimeFormatter.ofPattern("HH:mm:ss", Locale.ROOT).withZone(ZoneOffset.UTC);

    /**
     * The sentence for this container, or null when nothing killed it.
     *
     * @param decisions the loop actions concerning it or its pod
     */
    public static String of(StatusDoc.Container c, List<StatusDoc.Action> decisions, StatusDoc.Node node,
                            StatusDoc.OomKills kills) {
        StatusDoc.Action guard = null;
        for (StatusDoc.Action a : decisions) {
            if (a.loop().equals("guard") && a.action().startsWith("evict") && !a.result().startsWith("failed")
                    && !a.result().startsWith("skipped") && !a.result().startsWith("dry-run")) {
                guard = a;
            }
        }
        StatusDoc.Memory m = c.memory();
        long oom = m == null ? 0 : m.events().getOrDefault("oom_kill", 0L);
        long cgroupKills = kills == null ? 0 : kills.count("cgroup", c.namespace(), c.pod(), c.container());
        long systemKills = kills == null ? 0 : kills.count("system", c.namespace(), c.pod(), c.container());
        long n = Math.max(oom, cgroupKills);
        if (guard != null) {
            return "killed by memwarden's pressure guard, not by the kernel: " + guard.action().split(":", 2)[0]
                    + " of its pod at " + CLOCK.format(Instant.ofEpochMilli(guard.atMillis())) + " ("
                    + guard.trigger() + ")";
        }
        if (n == 0 && systemKills > 0) {
            return "killed " + times(systemKills) + " in a system OOM: the node ran out of memory, not at its own limit";
        }
        if (n == 0) {
            return null;
        }
        String head = "OOM-killed " + times(n) + " at its limit" + (m == null || m.limitBytes() < 0 ? ""
                : " " + Bytes.human(m.limitBytes()));
        String cls = c.swapBehavior() == null || c.swapBehavior().isBlank() ? null : c.swapBehavior();
        if (m == null) {
            return head + (cls == null ? "" : " (swap behaviour " + cls + ")") + "; its cgroup is gone, no more figures";
        }
        String swapNow = " with swap " + Bytes.human(m.swapBytes()) + " of " + Bytes.human(m.swapLimitBytes());
        long allowance = m.swapLimitBytes(); // -1: unlimited
        if (node.swapTotalBytes() == 0 && allowance != 0) {
            return head + swapNow + ": the node has no swap on" + (cls == null ? ""
                    : " (swap behaviour " + cls + " allows " + (allowance < 0 ? "unlimited swap"
                    : Bytes.human(allowance)) + ")") + ", so it could not swap and was killed at its limit instead";
        }
        if (allowance == 0) {
            return head + ": " + (cls == null ? "its swap limit is 0" : "its swap behaviour " + cls + " allows no swap")
                    + (node.swapTotalBytes() == 0 ? " (and the node has no swap on)" : "");
        }
        if (allowance > 0 && allowance - m.swapBytes() <= Math.max(MI, allowance / 100)) {
            return head + swapNow + ": its swap limit (memory.swap.max) is reached";
        }
        if (node.swapFreeBytes() <= Math.max(MI, node.swapTotalBytes() / 100)) {
            return head + swapNow + ": the node's swap is full (" + Bytes.human(node.swapFreeBytes()) + " of "
                    + Bytes.human(node.swapTotalBytes()) + " free now)";
        }
        return head + swapNow + " and " + Bytes.human(node.swapFreeBytes()) + " of node swap free now: it had swap"
                + " room; the kernel did not swap enough of it out in time (a burst faster than reclaim)";
    }

    private static String times(long n) {
        return n + "×";
    }
}
