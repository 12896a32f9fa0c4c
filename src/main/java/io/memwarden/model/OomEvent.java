package io.memwarden.model;

/**
 * One kernel OOM kill as the kubelet's oomparser reads it from the kernel log (kubelet-semantics.md §6).
 *
 * @param containerCgroup the victim task's memory cgroup ({@code task_memcg}); "/" when unknown
 * @param victimCgroup    the cgroup whose limit was hit ({@code oom_memcg}); "/" for a system (global) OOM
 * @param constraint      e.g. CONSTRAINT_MEMCG or CONSTRAINT_NONE; empty when the log did not say
 * @param timestampMicros kernel time of the finishing line, µs since boot (-1 when unknown)
 */
public record OomEvent(long pid, String process, String containerCgroup, String victimCgroup, boolean systemOom,
                       String constraint, long timestampMicros) {

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
