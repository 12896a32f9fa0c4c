package io.memwarden.kernel;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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
 * not match, (3) finishes, and the victim stays "/" — a system OOM. Same regular expressions, same greedy groups;
 * as in the kubelet, a record in progress consumes every line until it finishes (a second "invoked oom-killer" line
 * does not restart it).
 */
public final class OomParser {
    private static final Pattern CONTAINER = Pattern.compile(
            "oom-kill:constraint=(.*),nodemask=(.*),cpuset=(.*),mems_allowed=(.*),oom_memcg=(.*),task_memcg=(.*),task=(.*),pid=(.*),uid=(.*)");
    private static final Pattern LEGACY_CONTAINER = Pattern.compile("Task in (.*) killed as a result of limit of (.*)");
    private static final Pattern LAST_LINE = Pattern.compile("Killed process ([0-9]+) \\((.+)\\)");
    private static final String FIRST_LINE = "invoked oom-killer:";

    private boolean inRecord;
    private String container;
    private String victim;
    private String constraint;
    private long pid;
    private String process;

    /** Feeds one message; returns the finished event, or null. */
    public OomEvent accept(KmsgRecord record) {
        String line = record.message();
        if (!inRecord && line.contains(FIRST_LINE)) {
            inRecord = true;
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
        Matcher m = CONTAINER.matcher(line);
        if (m.find()) {
            constraint = m.group(1);
            victim = m.group(5);
            container = m.group(6);
            process = m.group(7);
            pid = parsePid(m.group(8));
            return finish(record);
        }
        m = LEGACY_CONTAINER.matcher(line);
        if (m.find()) {
            container = join(m.group(1));
            victim = join(m.group(2));
            return null;
        }
        m = LAST_LINE.matcher(line);
        if (m.find()) {
            pid = parsePid(m.group(1));
            process = m.group(2);
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

    private static long parsePid(String s) {
        try {
            return Long.parseLong(s.strip());
        } catch (NumberFormatException e) {
            return 0; // strconv.Atoi failure leaves pid 0
        }
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
