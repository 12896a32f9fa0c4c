package io.memwarden.kernel;

import com.google.re2j.Matcher;
import com.google.re2j.Pattern;
import io.memwarden.model.OomEvent;
import java.util.ArrayList;
import java.util.List;

/**
 * The kubelet's OOM parser (its in-tree fork of cadvisor's oomparser, kubelet-semantics.md §6), as a state machine
 * over kernel log messages. A line containing {@code invoked oom-killer:} starts a record (container "/", victim "/");
 * then, in order of preference:
 * <ol>
 *   <li>the ≥ 5.0 line {@code oom-kill:constraint=C,nodemask=N,cpuset=S,mems_allowed=M,oom_memcg=X,task_memcg=Y,
 *       task=T,pid=P,uid=U} sets constraint, victim = X, container = Y, name and pid, and finishes the record;</li>
 *   <li>the legacy {@code Task in A killed as a result of limit of B} sets container "/"+A and victim "/"+B;</li>
 *   <li>{@code Killed process <pid> (<name>)} sets pid and name (kept verbatim) and finishes.</li>
 * </ol>
 * A global OOM on ≥ 5.0 kernels prints {@code ...,global_oom,task_memcg=...} without {@code oom_memcg=}: (1) does
 * not match, (3) finishes, and the victim stays "/" — a system OOM. Same regular expressions, same greedy groups,
 * matched as Go does (RE2/J: linear time, {@code .} stops only at a newline); as in the kubelet, a record in
 * progress consumes every line until it finishes (a second "invoked oom-killer" line does not restart it).
 *
 * <p>Hostile input: a line of (1) or (3) whose pid is not a process id (1–2147483647, digits only) is skipped as a
 * whole, wherever it is, and reported ({@link #feed}); the state is then as if the line were absent. (The kubelet
 * would log the number error and keep (1)'s cgroups; nothing is half-applied here.)
 *
 * <p>Beyond the kubelet: the memory figures the kernel prints inside a record (before the finishing line) are kept in
 * {@link OomEvent#memory()}: the OOM cgroup's {@code memory: usage NkB, limit NkB}, v2 {@code swap: usage NkB, limit
 * NkB} or v1 {@code memory+swap: usage NkB, limit NkB}, {@code anon} (v2) or {@code total_rss}/{@code rss} (v1) of
 * the {@code Memory cgroup stats for …:} lines, and a global OOM's {@code Free swap}/{@code Total swap}. A figure
 * that is not a number in range is left unknown; it never changes which kills are reported.
 */
public final class OomParser {
    private static final Pattern CONTAINER = Pattern.compile(
            "oom-kill:constraint=(.*),nodemask=(.*),cpuset=(.*),mems_allowed=(.*),oom_memcg=(.*),task_memcg=(.*),task=(.*),pid=(.*),uid=(.*)");
    private static final Pattern LEGACY_CONTAINER = Pattern.compile("Task in (.*) killed as a result of limit of (.*)");
    private static final Pattern LAST_LINE = Pattern.compile("Killed process ([0-9]+) \\((.+)\\)");
    private static final String FIRST_LINE = "invoked oom-killer:";

    /** The largest pid accepted (pid_t is a signed 32-bit int; the kernel's own limit is far lower). */
    public static final long PID_MAX = Integer.MAX_VALUE;

    /** What {@link #feed} reports. */
    public interface Listener {
        /** A kill finished by the entry numbered {@code number}. */
        void kill(long number, OomEvent event);

        /** The entry numbered {@code number} was skipped. */
        void skipped(long number, BadKmsgRecord why);
    }

    private boolean inRecord;
    private long recordStart = -1;
    private String container;
    private String victim;
    private String constraint;
    private long pid;
    private String process;
    private final Figures figures = new Figures();

    /**
     * Feeds one entry: a bad entry, or an OOM line with a bad pid, is handed to {@link Listener#skipped} and has no
     * other effect; a finished kill goes to {@link Listener#kill}.
     */
    public void feed(KmsgEntry entry, Listener listener) {
        switch (entry.line()) {
            case BadKmsgRecord bad -> listener.skipped(entry.number(), bad);
            case KmsgRecord r -> {
                Object o = step(r, entry.number());
                if (o instanceof OomEvent e) {
                    listener.kill(entry.number(), e);
                } else if (o instanceof BadKmsgRecord bad) {
                    listener.skipped(entry.number(), bad);
                }
            }
        }
    }

    /** Feeds one message; returns the finished event, or null (also for a skipped line: see {@link #feed}). */
    public OomEvent accept(KmsgRecord record) {
        return step(record, 0) instanceof OomEvent e ? e : null;
    }

    /** The number of the entry that began the record in progress, or -1 when none is. */
    public long pendingSince() {
        return inRecord ? recordStart : -1;
    }

    /** The finished event, a reason to skip the line, or null. */
    private Object step(KmsgRecord record, long number) {
        String line = record.message();
        Matcher oomKill = null;
        if (line.contains("oom-kill:")) {
            oomKill = CONTAINER.matcher(line);
            if (!oomKill.find()) {
                oomKill = null;
            } else if (pid(oomKill.group(8)) < 0) {
                return new BadKmsgRecord("pid", oomKill.group(8), "not a process id (1–" + PID_MAX + ")");
            }
        }
        Matcher last = null;
        if (oomKill == null && line.contains("Killed process ")) {
            last = LAST_LINE.matcher(line);
            if (!last.find()) {
                last = null;
            } else if (pid(last.group(1)) < 0) {
                return new BadKmsgRecord("pid", last.group(1), "not a process id (1–" + PID_MAX + ")");
            }
        }
        if (!inRecord && line.contains(FIRST_LINE)) {
            inRecord = true;
            recordStart = number;
            container = "/";
            victim = "/";
            constraint = "";
            pid = 0;
            process = "";
            figures.reset();
            return null;
        }
        if (!inRecord) {
            return null;
        }
        figures.read(line);
        if (oomKill != null) {
            constraint = oomKill.group(1);
            victim = oomKill.group(5);
            container = oomKill.group(6);
            process = oomKill.group(7);
            pid = pid(oomKill.group(8));
            return finish(record);
        }
        Matcher m = LEGACY_CONTAINER.matcher(line);
        if (m.find()) {
            container = join(m.group(1));
            victim = join(m.group(2));
            return null;
        }
        if (last != null) {
            pid = pid(last.group(1));
            process = last.group(2);
            return finish(record);
        }
        return null;
    }

    /** Parses a whole log. */
    public static List<OomEvent> parseAll(List<KmsgRecord> records) {
        OomParser p = new OomParser();
        List<OomEvent> out = new ArrayList<>();
        for (KmsgRecord r : records) {
            OomEvent e = p.accept(r);
            if (e != null) {
                out.add(e);
            }
        }
        return out;
    }

    private OomEvent finish(KmsgRecord r) {
        inRecord = false;
        return new OomEvent(pid, process, container, victim, victim.equals("/"), constraint, r.timestampMicros(),
                figures.memory());
    }

    /** The memory figures of the record in progress (kB in the log, bytes here; -1 unknown). */
    private static final class Figures {
        /** A value of at least 2^50 kB (1 EiB) is the kernel's "no limit" (PAGE_COUNTER_MAX pages, printed in kB). */
        private static final long UNLIMITED_KB = 1L << 50;
        private static final long MAX_BYTES = Long.MAX_VALUE / 2;
        private long usage;
        private long limit;
        private long swapUsage;
        private long swapLimit;
        private long memswUsage;
        private long memswLimit;
        private long anon;
        private long rss;
        private long totalRss;
        private long swapTotal;
        private long swapFree;
        private boolean inStats;

        void reset() {
            usage = limit = swapUsage = swapLimit = memswUsage = memswLimit = anon = rss = totalRss = -1;
            swapTotal = swapFree = -1;
            inStats = false;
        }

        void read(String message) {
            // older kernels print the cgroup's stats as one message with newlines in it
            for (String line : message.split("\n", 256)) {
                line = line.strip();
                int close = line.indexOf("] ");
                if (line.startsWith("[") && close > 0 && close < 24) {
                    line = line.substring(close + 2).strip(); // plain dmesg: "[  208.183031] memory: usage …"
                }
                readLine(line);
            }
        }

        private void readLine(String line) {
            if (inStats) {
                int sp = line.indexOf(' ');
                if (sp > 0 && sp == line.lastIndexOf(' ') && line.chars().limit(sp).allMatch(
                        c -> c >= 'a' && c <= 'z' || c == '_' || c >= '0' && c <= '9')) {
                    long v = bytes(line.substring(sp + 1));
                    switch (line.substring(0, sp)) {
                        case "anon" -> anon = first(anon, v);
                        case "rss" -> rss = first(rss, v);
                        case "total_rss" -> totalRss = first(totalRss, v);
                        default -> { }
                    }
                    return;
                }
                inStats = false;
            }
            if (line.startsWith("Memory cgroup stats for ")) {
                inStats = true;
            } else if (line.startsWith("memory: usage ")) {
                long[] ul = usageLimit(line.substring("memory: usage ".length()));
                usage = ul[0];
                limit = ul[1];
            } else if (line.startsWith("memory+swap: usage ")) {
                long[] ul = usageLimit(line.substring("memory+swap: usage ".length()));
                memswUsage = ul[0];
                memswLimit = ul[1];
            } else if (line.startsWith("swap: usage ")) {
                long[] ul = usageLimit(line.substring("swap: usage ".length()));
                swapUsage = ul[0];
                swapLimit = ul[1];
            } else if (line.startsWith("Free swap") && line.contains("= ")) {
                swapFree = kb(line.substring(line.indexOf("= ") + 2));
            } else if (line.startsWith("Total swap") && line.contains("= ")) {
                swapTotal = kb(line.substring(line.indexOf("= ") + 2));
            }
        }

        private static long first(long old, long v) {
            return old >= 0 ? old : v;
        }

        /** "NkB, limit NkB, failcnt N" → {usage, limit}. */
        private static long[] usageLimit(String rest) {
            int comma = rest.indexOf(", limit ");
            if (comma < 0) {
                return new long[] {-1, -1};
            }
            String lim = rest.substring(comma + ", limit ".length());
            int end = lim.indexOf(',');
            return new long[] {kb(rest.substring(0, comma)), kb(end < 0 ? lim : lim.substring(0, end))};
        }

        /** "NkB" → bytes; {@link OomEvent.Memory#UNLIMITED} for the kernel's no-limit value; -1 if not a number. */
        private static long kb(String s) {
            s = s.strip();
            if (!s.endsWith("kB")) {
                return -1;
            }
            long v = KmsgRecord.number(s.substring(0, s.length() - 2), Long.MAX_VALUE);
            if (v < 0) {
                return v == KmsgRecord.OUT_OF_RANGE ? OomEvent.Memory.UNLIMITED : -1;
            }
            return v >= UNLIMITED_KB ? OomEvent.Memory.UNLIMITED : v * 1024;
        }

        private static long bytes(String s) {
            long v = KmsgRecord.number(s, MAX_BYTES);
            return v >= 0 ? v : -1;
        }

        OomEvent.Memory memory() {
            long sUsage = swapUsage;
            long sLimit = swapLimit;
            if (sLimit < 0 && memswLimit >= 0 && limit >= 0) { // v1: memory+swap bounds both
                sLimit = memswLimit == OomEvent.Memory.UNLIMITED ? OomEvent.Memory.UNLIMITED
                        : limit == OomEvent.Memory.UNLIMITED ? -1 : Math.max(0, memswLimit - limit);
            }
            if (sUsage < 0 && memswUsage >= 0 && usage >= 0) {
                sUsage = Math.max(0, memswUsage - usage);
            }
            long a = anon >= 0 ? anon : totalRss >= 0 ? totalRss : rss;
            return new OomEvent.Memory(usage, limit, sUsage, sLimit, a, swapTotal, swapFree);
        }
    }

    /** A process id: ASCII digits, 1–{@link #PID_MAX}; else -1. */
    static long pid(String s) {
        long v = KmsgRecord.number(s, PID_MAX);
        return v >= 1 ? v : -1;
    }

    /** Go's path.Join("/", p): cleaned, absolute. */
    static String join(String p) {
        String joined = ("/" + p).replaceAll("/+", "/");
        List<String> parts = new ArrayList<>();
        for (String s : joined.split("/")) {
            if (s.isEmpty() || s.equals(".")) {
                continue;
            }
            if (s.equals("..")) {
                if (!parts.isEmpty()) {
                    parts.removeLast();
                }
                continue;
            }
            parts.add(s);
        }
        return "/" + String.join("/", parts);
    }
}
