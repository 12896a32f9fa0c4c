package io.memwarden.model;

/**
 * One kernel OOM kill as the kubelet's oomparser reads it from the kernel log (kubelet-semantics.md §6).
 *
 * @param containerCgroup the victim task's memory cgroup ({@code task_memcg}); "/" when unknown
 * @param victimCgroup    the cgroup whose limit was hit ({@code oom_memcg}); "/" for a system (global) OOM
 * @param constraint      e.g. CONSTRAINT_MEMCG or CONSTRAINT_NONE; empty when the log did not say
 * @param timestampMicros kernel time of the finishing line, µs since boot (-1 when unknown)
 * @param memory          the memory figures the kernel printed inside the record, at the kill ({@link Memory#UNKNOWN}
 *                        when it printed none)
 */
public record OomEvent(long pid, String process, String containerCgroup, String victimCgroup, boolean systemOom,
                       String constraint, long timestampMicros, Memory memory) {

    public OomEvent {
        memory = memory == null ? Memory.UNKNOWN : memory;
    }

    /** A kill without memory figures. */
    public OomEvent(long pid, String process, String containerCgroup, String victimCgroup, boolean systemOom,
                    String constraint, long timestampMicros) {
        this(pid, process, containerCgroup, victimCgroup, systemOom, constraint, timestampMicros, Memory.UNKNOWN);
    }

    /**
     * What the kernel printed about memory between "invoked oom-killer" and the line that finished the record: the
     * state at the kill itself, before the victim's memory was freed. Bytes; -1 where the record did not say.
     *
     * @param usageBytes       the OOM cgroup's usage ({@code memory: usage NkB, limit NkB, failcnt N})
     * @param limitBytes       the OOM cgroup's memory limit (same line); -1 when not printed
     * @param swapUsageBytes   swap charged to the OOM cgroup: v2 {@code swap: usage NkB}; v1 {@code memory+swap: usage}
     *                         − memory usage
     * @param swapLimitBytes   its swap limit: v2 {@code swap: limit}; v1 {@code memory+swap: limit} − memory limit;
     *                         {@link #UNLIMITED} for the kernel's "no limit"
     * @param anonBytes        anonymous memory of the OOM cgroup from the stats the kernel printed
     *                         ({@code Memory cgroup stats for …:}): v2 {@code anon}, v1 {@code total_rss} (else
     *                         {@code rss})
     * @param nodeSwapTotalBytes a global OOM's {@code Total swap = NkB}
     * @param nodeSwapFreeBytes  a global OOM's {@code Free swap  = NkB}
     */
    public record Memory(long usageBytes, long limitBytes, long swapUsageBytes, long swapLimitBytes, long anonBytes,
                         long nodeSwapTotalBytes, long nodeSwapFreeBytes) {
        /** A limit the kernel prints as (nearly) PAGE_COUNTER_MAX pages: none. */
        public static final long UNLIMITED = Long.MAX_VALUE;
        public static final Memory UNKNOWN = new Memory(-1, -1, -1, -1, -1, -1, -1);
    }

    private static final java.util.regex.Pattern POD_UID = java.util.regex.Pattern.compile(
            "pod([0-9a-fA-F]{8}[-_][0-9a-fA-F]{4}[-_][0-9a-fA-F]{4}[-_][0-9a-fA-F]{4}[-_][0-9a-fA-F]{12})");

    /** The pod UID in the container's cgroup path (cgroupfs or systemd layout), or null. */
    public String podUid() {
        var m = POD_UID.matcher(containerCgroup);
        String uid = null;
        while (m.find()) {
            uid = m.group(1).replace('_', '-');
        }
        return uid;
    }

    /** The kubelet's Node event message for a system OOM ("System OOM encountered[, victim process: N, pid: P]"). */
    public String systemOomMessage() {
        String m = "System OOM encountered";
        if (!process.isEmpty() && pid != 0) {
            m += ", victim process: " + process + ", pid: " + pid;
        }
        return m;
    }
}
