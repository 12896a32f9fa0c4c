package io.memwarden.runner;

import io.memwarden.cgroup.MemoryUsage;
import io.memwarden.loops.ContainerStatus;
import io.memwarden.model.HumanBytes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Renders runner snapshots as a table: container, swap behaviour, limits, RSS, swap, events, state. */
public final class RunView {
    private RunView() {}

    public static String table(List<ContainerStatus> rows) {
        List<String[]> t = new ArrayList<>();
        t.add(new String[] {"POD", "CONTAINER", "SWAP", "LIMIT", "SWAP LIMIT", "RSS", "SWAP USED", "CG USAGE", "EVENTS", "STATE"});
        for (ContainerStatus s : rows) {
            MemoryUsage u = s.usage();
            t.add(new String[] {
                    s.pod(), s.container() + (s.init() ? " (init)" : ""), s.swapBehavior(),
                    u == null ? "-" : size(u.limitBytes()), u == null ? "-" : size(u.swapLimitBytes()),
                    s.process() == null ? "-" : size(s.process().rssBytes()),
                    s.process() == null ? (u == null ? "-" : size(u.swapBytes())) : size(s.process().swapBytes()),
                    u == null ? "-" : size(u.usageBytes()),
                    u == null ? "-" : events(u.events()),
                    state(s)});
        }
        int[] w = new int[t.getFirst().length];
        for (String[] r : t) {
            for (int i = 0; i < r.length; i++) {
                w[i] = Math.max(w[i], r[i].length());
            }
        }
        StringBuilder b = new StringBuilder();
        for (String[] r : t) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < r.length; i++) {
                line.append(String.format("%-" + w[i] + "s  ", r[i]));
            }
            b.append(line.toString().stripTrailing()).append('\n');
        }
        return b.toString();
    }

    static String state(ContainerStatus s) {
        if (s.running()) {
            return "running (pid " + s.pid() + ")";
        }
        if (s.oomKilled()) {
            return "OOM-killed";
        }
        return s.exitCode() > 128 ? "killed by signal " + (s.exitCode() - 128) : "exited " + s.exitCode();
    }

    static String events(Map<String, Long> e) {
        List<String> parts = new ArrayList<>();
        for (String k : new String[] {"failcnt", "high", "max", "oom_kill"}) {
            Long v = e.get(k);
            if (v != null && v > 0) {
                parts.add(k + "=" + v);
            }
        }
        return parts.isEmpty() ? "-" : String.join(",", parts);
    }

    /** Bytes for people ({@link HumanBytes}); -1 is "max". */
    public static String size(long bytes) {
        return bytes < 0 ? "max" : HumanBytes.of(bytes);
    }
}
