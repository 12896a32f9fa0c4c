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
            return null;
        }
        if (!inRecord) {
            return null;
        }
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
        return new OomEvent(pid, process, container, victim, victim.equals("/"), constraint, r.timestampMicros());
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
