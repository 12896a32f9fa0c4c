package io.memwarden.control;

import io.memwarden.model.CgroupVersion;
import java.util.List;
import java.util.function.LongPredicate;

/**
 * Which way the offload loop moves one container's cold memory out this round: the cold ranges
 * ({@link RangeOffloader}: clear_refs sampling and {@code process_madvise(MADV_PAGEOUT)}, both cgroup versions) or the
 * kernel's LRU ({@link ColdOffloader}: {@code memory.reclaim} on v2, limit probing on v1).
 *
 * <p>Ranges need the container's processes: their {@code /proc/PID/smaps} and {@code clear_refs}, and a pidfd. A
 * process outside the reader's pid namespace shows as pid 0 in a v2 {@code cgroup.procs} (v1 leaves it out), and a
 * container whose processes are all absent from this {@code /proc} (another pid namespace, a /proc mounted from
 * elsewhere) cannot be sampled at all; such a container, and every container once the host refused
 * {@code process_madvise} (EPERM, ENOSYS), goes through the LRU instead of not being offloaded. Pure: whether a pid is
 * visible is asked of the given predicate.
 */
public final class OffloadRoute {
    private OffloadRoute() {}

    /**
     * True when the container's cold memory goes out as cold ranges this round, false for the LRU path.
     *
     * @param v1Ranges         cold ranges are the configured method on cgroup v1 ({@code madvise})
     * @param v2Ranges         cold ranges are the configured method on cgroup v2 ({@code madvise})
     * @param pageoutRefused   the host refused {@code process_madvise} (then: the LRU for every container)
     * @param pids             the container's {@code cgroup.procs} as read
     * @param visible          whether this process's {@code /proc} has a pid
     */
    public static boolean ranges(CgroupVersion version, boolean v1Ranges, boolean v2Ranges, boolean pageoutRefused,
                                 List<Long> pids, LongPredicate visible) {
        boolean configured = version == CgroupVersion.V1 ? v1Ranges : v2Ranges;
        return configured && !pageoutRefused && processesVisible(pids, visible);
    }

    /**
     * True when the container's processes can be sampled: at least one pid, none outside the reader's pid namespace
     * (pid 0), and at least one present in {@code /proc} (the others may just have exited).
     */
    public static boolean processesVisible(List<Long> pids, LongPredicate visible) {
        if (pids.isEmpty()) {
            return false;
        }
        boolean any = false;
        for (long pid : pids) {
            if (pid <= 0) {
                return false;
            }
            any |= visible.test(pid);
        }
        return any;
    }

    /** What the LRU path is on this cgroup version (for messages). */
    public static String fallback(CgroupVersion version) {
        return version == CgroupVersion.V1 ? "limit probing on cgroup v1" : "memory.reclaim on cgroup v2";
    }
}
