package io.memwarden.cgroup;

import static io.memwarden.model.CgroupFiles.*;

import io.memwarden.model.CgroupFiles;
import io.memwarden.model.CgroupVersion;
import io.memwarden.model.Pressure;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A snapshot of one memory cgroup, read from v1 or v2 files:
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
 * <p>
 * {@link #read} reads every file at once (the status API and the metrics scrape). {@link #lazy} reads each file the
 * first time one of its values is asked for and keeps it: the control loops' per-round view, which reads only what
 * the loops that can act need (docs/control-loops.md, "What a round reads"). A lazy read that fails (the cgroup was
 * removed meanwhile) throws {@link UncheckedIOException}.
 */
public final class MemoryUsage {
    private static final long UNREAD = Long.MIN_VALUE;

    private final CgroupVersion version;
    private final Path cg; // where lazy values come from; null when built from values
    private final HeldFiles held; // files kept open between rounds, or null
    private long usageBytes = UNREAD;
    private long swapBytes = UNREAD;
    private long limitBytes = UNREAD;
    private long swapLimitBytes = UNREAD;
    private long highBytes = UNREAD;
    private long failcnt = UNREAD;
    private Map<String, Long> events;
    private Map<String, Long> stat;
    private Pressure pressure;
    private boolean pressureRead;
    private List<Long> pids;
    private Map<String, Long> peaks;
    private final List<String> filesRead = new java.util.ArrayList<>(4);

    public MemoryUsage(CgroupVersion version, long usageBytes, long swapBytes, long limitBytes, long swapLimitBytes,
                       long highBytes, Map<String, Long> events, Map<String, Long> stat, Pressure pressure,
                       List<Long> pids, Map<String, Long> peaks) {
        this.version = version;
        this.cg = null;
        this.held = null;
        this.usageBytes = usageBytes;
        this.swapBytes = swapBytes;
        this.limitBytes = limitBytes;
        this.swapLimitBytes = swapLimitBytes;
        this.highBytes = highBytes;
        this.events = Collections.unmodifiableMap(new LinkedHashMap<>(events));
        this.stat = Collections.unmodifiableMap(new LinkedHashMap<>(stat));
        this.pressure = pressure;
        this.pressureRead = true;
        this.pids = List.copyOf(pids);
        this.peaks = Collections.unmodifiableMap(new LinkedHashMap<>(peaks));
        this.failcnt = this.events.getOrDefault("failcnt", 0L);
    }

    private MemoryUsage(CgroupVersion version, Path cg, HeldFiles held) {
        this.version = version;
        this.cg = cg;
        this.held = held;
    }

    /** Every file read now. */
    public static MemoryUsage read(Path cgroup, CgroupVersion version) throws IOException {
        MemoryUsage u = new MemoryUsage(version, cgroup, null);
        try {
            u.usageBytes();
            u.swapBytes();
            u.limitBytes();
            u.swapLimitBytes();
            u.highBytes();
            u.events();
            u.stat();
            u.pressure();
            u.pids();
            u.peaks();
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        return u;
    }

    /**
     * A view that reads each file when first asked (then keeps its value). For one round of one thread: the values
     * are as of their first use, not of one instant.
     */
    public static MemoryUsage lazy(Path cgroup, CgroupVersion version) {
        return new MemoryUsage(version, cgroup, null);
    }

    /**
     * As {@link #lazy(Path, CgroupVersion)}, reading through files kept open between rounds (not cgroup.procs);
     * only on the thread that owns {@code held}.
     */
    public static MemoryUsage lazy(Path cgroup, CgroupVersion version, HeldFiles held) {
        return new MemoryUsage(version, cgroup, held);
    }

    public CgroupVersion version() {
        return version;
    }

    /** v1 memory.usage_in_bytes, v2 memory.current. */
    public synchronized long usageBytes() {
        if (usageBytes == UNREAD) {
            usageBytes = num(version == CgroupVersion.V1 ? CgroupFiles.V1_USAGE : CgroupFiles.MEMORY_CURRENT);
        }
        return usageBytes;
    }

    /** v1 memory.stat swap (or memsw − usage), v2 memory.swap.current (0 without one). */
    public synchronized long swapBytes() {
        if (swapBytes == UNREAD) {
            if (version == CgroupVersion.V1) {
                Long s = stat().get("swap");
                if (s != null) {
                    swapBytes = s;
                } else {
                    Long memsw = optNum(CgroupFiles.V1_MEMSW_USAGE);
                    swapBytes = memsw == null ? 0 : Math.max(0, memsw - usageBytes());
                }
            } else {
                Long s = optNum(CgroupFiles.MEMORY_SWAP_CURRENT);
                swapBytes = s == null ? 0 : s;
            }
        }
        return swapBytes;
    }

    /** v1 memory.limit_in_bytes, v2 memory.max; -1 unlimited. */
    public synchronized long limitBytes() {
        if (limitBytes == UNREAD) {
            limitBytes = limitOf(version == CgroupVersion.V1 ? V1_LIMIT : MEMORY_MAX);
        }
        return limitBytes;
    }

    /** v1 memsw limit − limit, v2 memory.swap.max; -1 unlimited (or no swap accounting). */
    public synchronized long swapLimitBytes() {
        if (swapLimitBytes == UNREAD) {
            if (version == CgroupVersion.V1) {
                Long memswLimit = optNum(V1_MEMSW_LIMIT);
                swapLimitBytes = memswLimit == null ? -1 : memswLimit >= (1L << 62) ? -1
                        : Math.max(0, memswLimit - (limitBytes() < 0 ? 0 : limitBytes()));
            } else {
                try {
                    swapLimitBytes = limitOf(MEMORY_SWAP_MAX, true);
                } catch (MissingFile e) {
                    swapLimitBytes = -1;
                }
            }
        }
        return swapLimitBytes;
    }

    /** v2 memory.high; -1 unlimited, and always on v1. */
    public synchronized long highBytes() {
        if (highBytes == UNREAD) {
            highBytes = version == CgroupVersion.V1 ? -1 : limitOf(MEMORY_HIGH);
        }
        return highBytes;
    }

    /** v2 memory.events; v1 failcnt, memsw_failcnt, oom_kill, under_oom. */
    public synchronized Map<String, Long> events() {
        if (events == null) {
            Map<String, Long> m;
            if (version == CgroupVersion.V1) {
                m = new LinkedHashMap<>();
                m.put("failcnt", failcnt());
                Long memswFail = optNum(CgroupFiles.V1_MEMSW_FAILCNT);
                if (memswFail != null) {
                    m.put("memsw_failcnt", memswFail);
                }
                Map<String, Long> oom = keyedOf(CgroupFiles.V1_OOM_CONTROL);
                m.put("oom_kill", oom.getOrDefault("oom_kill", 0L));
                m.put("under_oom", oom.getOrDefault("under_oom", 0L));
            } else {
                m = keyedOf(CgroupFiles.MEMORY_EVENTS);
            }
            events = Collections.unmodifiableMap(m);
        }
        return events;
    }

    /**
     * One counter of {@link #events()} (0 when absent). On v1 {@code failcnt} reads memory.failcnt alone, not the
     * other event files.
     */
    public long event(String name) {
        if (version == CgroupVersion.V1 && name.equals("failcnt")) {
            return failcnt();
        }
        return events().getOrDefault(name, 0L);
    }

    private synchronized long failcnt() {
        if (failcnt == UNREAD) {
            failcnt = num(CgroupFiles.V1_FAILCNT);
        }
        return failcnt;
    }

    /** memory.stat. */
    public synchronized Map<String, Long> stat() {
        if (stat == null) {
            stat = Collections.unmodifiableMap(keyedOf(CgroupFiles.MEMORY_STAT));
        }
        return stat;
    }

    /** v2 memory.pressure where the kernel has it; null on v1. */
    public synchronized Pressure pressure() {
        if (!pressureRead) {
            if (version == CgroupVersion.V2) {
                try {
                    pressure = Pressure.parse(text(CgroupFiles.MEMORY_PRESSURE).toString());
                } catch (NoSuchFileException e) {
                    pressure = null;
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            pressureRead = true;
        }
        return pressure;
    }

    /** cgroup.procs (empty without one). */
    public synchronized List<Long> pids() {
        if (pids == null) {
            try {
                pids = List.copyOf(CgroupText.readLongLines(file(CgroupFiles.CGROUP_PROCS)));
            } catch (NoSuchFileException e) {
                pids = List.of();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return pids;
    }

    /** The kernel's high-water marks by file name (those it has). */
    public synchronized Map<String, Long> peaks() {
        if (peaks == null) {
            Map<String, Long> m = new LinkedHashMap<>();
            for (String f : version == CgroupVersion.V1
                    ? new String[] {CgroupFiles.V1_MAX_USAGE, CgroupFiles.V1_MEMSW_MAX_USAGE}
                    : new String[] {CgroupFiles.MEMORY_PEAK, CgroupFiles.MEMORY_SWAP_PEAK}) {
                Long v = optNum(f);
                if (v != null) {
                    m.put(f, v);
                }
            }
            peaks = Collections.unmodifiableMap(m);
        }
        return peaks;
    }

    /** The cadvisor/kubelet working set: usage − inactive_file (total_inactive_file on v1), floored at 0. */
    public long workingSetBytes() {
        Long inactive = stat().get(version == CgroupVersion.V1 ? "total_inactive_file" : "inactive_file");
        return Math.max(0, usageBytes() - (inactive == null ? 0 : inactive));
    }

    /** The files read so far, by name, in order (empty for one built from values). */
    public synchronized List<String> filesRead() {
        return List.copyOf(filesRead);
    }

    private Path file(String name) {
        filesRead.add(name);
        return cg.resolve(name);
    }

    private CharSequence text(String name) throws IOException {
        Path f = file(name);
        return held != null ? held.read(f) : CgroupText.read(f);
    }

    @Override
    public String toString() {
        return "MemoryUsage[" + version + (cg == null ? "" : " " + cg) + ", usage=" + (usageBytes == UNREAD ? "?"
                : usageBytes) + ", limit=" + (limitBytes == UNREAD ? "?" : limitBytes) + "]";
    }

    private static final class MissingFile extends RuntimeException {
        MissingFile() {
            super(null, null, false, false);
        }
    }

    private long num(String file) {
        try {
            return CgroupText.parseLong(cg.resolve(file), text(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Long optNum(String file) {
        try {
            return CgroupText.parseLong(cg.resolve(file), text(file));
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private long limitOf(String file) {
        return limitOf(file, false);
    }

    private long limitOf(String file, boolean optional) {
        try {
            return CgroupText.parseLimit(cg.resolve(file), text(file));
        } catch (NoSuchFileException e) {
            if (optional) {
                throw new MissingFile();
            }
            throw new UncheckedIOException(e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Map<String, Long> keyedOf(String file) {
        try {
            return keyed(text(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
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

    /** "key value" lines (memory.stat, memory.events, memory.oom_control). */
    static Map<String, Long> keyed(CharSequence text) {
        // read every second for every container by the agent's loops: plain scanning, no regular expressions
        Map<String, Long> m = new LinkedHashMap<>();
        int at = 0;
        int n = text.length();
        while (at < n) {
            int end = at;
            while (end < n && text.charAt(end) != '\n') {
                end++;
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
                    m.put(text.subSequence(k0, k1).toString(), Long.parseLong(text, v0, v1, 10));
                } catch (NumberFormatException ignored) {
                    // not a counter line
                }
            }
            at = end + 1;
        }
        return m;
    }

    private static int skipSpace(CharSequence s, int from, int end) {
        while (from < end && Character.isWhitespace(s.charAt(from))) {
            from++;
        }
        return from;
    }
}
