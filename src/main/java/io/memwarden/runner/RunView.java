package io.memwarden.runner;

import io.memwarden.cgroup.MemoryUsage;
import io.memwarden.loops.ContainerStatus;
import io.memwarden.model.HumanBytes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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

    /**
     * What changed between two snapshots, one line per container that changed ("shop/web app: state running
     * (pid 12) -> OOM-killed; limit 100Mi -> 120Mi (rss 80Mi, swap 0)"): a container that appeared or went, its
     * state, limit, swap limit or OOM kill count. Usage moves every round and is shown, not compared. Nothing
     * changed: no lines.
     */
    public static List<String> changes(List<ContainerStatus> before, List<ContainerStatus> now) {
        Map<String, ContainerStatus> old = new LinkedHashMap<>();
        before.forEach(s -> old.put(key(s), s));
        List<String> lines = new ArrayList<>();
        for (ContainerStatus s : now) {
            ContainerStatus o = old.remove(key(s));
            List<String> diffs = new ArrayList<>();
            Map<String, String> was = o == null ? Map.of() : watched(o);
            watched(s).forEach((k, v) -> {
                String w = was.get(k);
                if (o == null) {
                    diffs.add(k + " " + v);
                } else if (!v.equals(w)) {
                    diffs.add(k + " " + w + " -> " + v);
                }
            });
            if (!diffs.isEmpty()) {
                lines.add(key(s) + ": " + (o == null ? "started: " : "") + String.join("; ", diffs) + usage(s));
            }
        }
        old.keySet().forEach(k -> lines.add(k + ": gone"));
        return lines;
    }

    private static String key(ContainerStatus s) {
        return s.pod() + " " + s.container() + (s.init() ? " (init)" : "");
    }

    /** The values a change line is printed for, in order. */
    private static Map<String, String> watched(ContainerStatus s) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("state", state(s));
        MemoryUsage u = s.usage();
        m.put("limit", u == null ? "-" : size(u.limitBytes()));
        m.put("swap limit", u == null ? "-" : size(u.swapLimitBytes()));
        m.put("oom_kill", u == null ? "-" : Long.toString(u.events().getOrDefault("oom_kill", 0L)));
        return m;
    }

    private static String usage(ContainerStatus s) {
        if (s.process() != null) {
            return " (rss " + size(s.process().rssBytes()) + ", swap " + size(s.process().swapBytes()) + ")";
        }
        MemoryUsage u = s.usage();
        return u == null ? "" : " (cgroup usage " + size(u.usageBytes()) + ", swap " + size(u.swapBytes()) + ")";
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
