package io.memwarden.cgroup;

import static io.memwarden.policy.CgroupFiles.*;

import io.memwarden.model.CgroupVersion;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An immutable snapshot of one memory cgroup, read from v1 or v2 files:
 * <ul>
 *   <li>v1: {@code memory.usage_in_bytes}, {@code memory.memsw.usage_in_bytes}, {@code memory.limit_in_bytes},
 *       {@code memory.memsw.limit_in_bytes}, {@code memory.failcnt}, {@code memory.oom_control}, {@code memory.stat};</li>
 *   <li>v2: {@code memory.current}, {@code memory.swap.current}, {@code memory.max}, {@code memory.high},
 *       {@code memory.swap.max}, {@code memory.events}, {@code memory.stat}, {@code memory.pressure}.</li>
 * </ul>
 * Limits are bytes, or -1 for unlimited. {@code events} holds v2 memory.events, or on v1 {@code failcnt},
 * {@code memsw_failcnt}, {@code oom_kill} and {@code under_oom}. {@code pressure} is null on v1. {@code peaks}
 * holds the kernel's high-water marks by file name: v1 {@code memory.max_usage_in_bytes} and
 * {@code memory.memsw.max_usage_in_bytes}; v2 {@code memory.peak} and {@code memory.swap.peak} where the kernel has
 * them.
 */
public record MemoryUsage(CgroupVersion version, long usageBytes, long swapBytes, long limitBytes, long swapLimitBytes,
                          long highBytes, Map<String, Long> events, Map<String, Long> stat, Pressure pressure,
                          List<Long> pids, Map<String, Long> peaks) {

    public MemoryUsage {
        events = Collections.unmodifiableMap(new LinkedHashMap<>(events));
        stat = Collections.unmodifiableMap(new LinkedHashMap<>(stat));
        pids = List.copyOf(pids);
        peaks = Collections.unmodifiableMap(new LinkedHashMap<>(peaks));
    }

    /** The cadvisor/kubelet working set: usage − inactive_file (total_inactive_file on v1), floored at 0. */
    public long workingSetBytes() {
        Long inactive = stat.get(version == CgroupVersion.V1 ? "total_inactive_file" : "inactive_file");
        return Math.max(0, usageBytes - (inactive == null ? 0 : inactive));
    }

    public static MemoryUsage read(Path cgroup, CgroupVersion version) throws IOException {
        return version == CgroupVersion.V1 ? v1(cgroup) : v2(cgroup);
    }

    private static MemoryUsage v1(Path cg) throws IOException {
        long usage = num(cg, "memory.usage_in_bytes");
        Long memsw = optNum(cg, "memory.memsw.usage_in_bytes");
        Map<String, Long> stat = keyed(Files.readString(cg.resolve("memory.stat")));
        long swap = stat.containsKey("swap") ? stat.get("swap") : memsw == null ? 0 : Math.max(0, memsw - usage);
        long limit = limit(Files.readString(cg.resolve(V1_LIMIT)));
        Long memswLimit = optNum(cg, V1_MEMSW_LIMIT);
        long swapLimit = memswLimit == null ? -1 : memswLimit >= (1L << 62) ? -1
                : Math.max(0, memswLimit - (limit < 0 ? 0 : limit));
        Map<String, Long> events = new LinkedHashMap<>();
        events.put("failcnt", num(cg, "memory.failcnt"));
        Long memswFail = optNum(cg, "memory.memsw.failcnt");
        if (memswFail != null) {
            events.put("memsw_failcnt", memswFail);
        }
        Map<String, Long> oom = keyed(Files.readString(cg.resolve("memory.oom_control")));
        events.put("oom_kill", oom.getOrDefault("oom_kill", 0L));
        events.put("under_oom", oom.getOrDefault("under_oom", 0L));
        return new MemoryUsage(CgroupVersion.V1, usage, swap, limit, swapLimit, -1, events, stat, null, pids(cg),
                peaks(cg, "memory.max_usage_in_bytes", "memory.memsw.max_usage_in_bytes"));
    }

    private static MemoryUsage v2(Path cg) throws IOException {
        long current = num(cg, "memory.current");
        Long swap = optNum(cg, "memory.swap.current");
        long max = limit(Files.readString(cg.resolve(MEMORY_MAX)));
        long high = limit(Files.readString(cg.resolve(MEMORY_HIGH)));
        Path swapMax = cg.resolve(MEMORY_SWAP_MAX);
        long swapLimit = Files.exists(swapMax) ? limit(Files.readString(swapMax)) : -1;
        Map<String, Long> events = keyed(Files.readString(cg.resolve("memory.events")));
        Map<String, Long> stat = keyed(Files.readString(cg.resolve("memory.stat")));
        Path p = cg.resolve("memory.pressure");
        Pressure pressure = Files.exists(p) ? Pressure.read(p) : null;
        return new MemoryUsage(CgroupVersion.V2, current, swap == null ? 0 : swap, max, swapLimit, high, events, stat,
                pressure, pids(cg), peaks(cg, "memory.peak", "memory.swap.peak"));
    }

    /** "max" → -1; a v1 unlimited (≥ 2^62) → -1. */
    static long limit(String text) {
        String s = text.strip();
        if (s.equals("max")) {
            return -1;
        }
        long v = Long.parseLong(s);
        return v >= (1L << 62) ? -1 : v;
    }

    private static long num(Path cg, String file) throws IOException {
        return Long.parseLong(Files.readString(cg.resolve(file)).strip());
    }

    private static Long optNum(Path cg, String file) throws IOException {
        try {
            return Long.parseLong(Files.readString(cg.resolve(file)).strip());
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /** "key value" lines (memory.stat, memory.events, memory.oom_control). */
    static Map<String, Long> keyed(String text) {
        // read every second for every container by the agent's loops: plain scanning, no regular expressions
        Map<String, Long> m = new LinkedHashMap<>();
        int at = 0;
        int n = text.length();
        while (at < n) {
            int end = text.indexOf('\n', at);
            if (end < 0) {
                end = n;
            }
            int k0 = skipSpace(text, at, end);
            int k1 = k0;
            while (k1 < end && !Character.isWhitespace(text.charAt(k1))) {
                k1++;
            }
            int v0 = skipSpace(text, k1, end);
            int v1 = v0;
            while (v1 < end && !Character.isWhitespace(text.charAt(v1))) {
                v1++;
            }
            if (k1 > k0 && v1 > v0 && skipSpace(text, v1, end) == end) {
                try {
                    m.put(text.substring(k0, k1), Long.parseLong(text, v0, v1, 10));
                } catch (NumberFormatException ignored) {
                    // not a counter line
                }
            }
            at = end + 1;
        }
        return m;
    }

    private static int skipSpace(String s, int from, int end) {
        while (from < end && Character.isWhitespace(s.charAt(from))) {
            from++;
        }
        return from;
    }

    private static Map<String, Long> peaks(Path cg, String... files) throws IOException {
        Map<String, Long> m = new LinkedHashMap<>();
        for (String f : files) {
            Long v = optNum(cg, f);
            if (v != null) {
                m.put(f, v);
            }
        }
        return m;
    }

    private static List<Long> pids(Path cg) throws IOException {
        Path procs = cg.resolve("cgroup.procs");
        if (!Files.exists(procs)) {
            return List.of();
        }
        return Files.readAllLines(procs).stream().map(String::strip).filter(s -> !s.isEmpty()).map(Long::parseLong).toList();
    }
}
