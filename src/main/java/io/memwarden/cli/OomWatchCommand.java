package io.memwarden.cli;

import io.memwarden.cgroup.HostFacts;
import io.memwarden.cgroup.HostProbe;
import io.memwarden.cgroup.NodeStats;
import io.memwarden.control.OomDiagnosis;
import io.memwarden.kernel.BadKmsgRecord;
import io.memwarden.kernel.KernelLogFile;
import io.memwarden.kernel.Kmsg;
import io.memwarden.kernel.KmsgEntry;
import io.memwarden.model.OomEvent;
import io.memwarden.kernel.OomParser;
import io.memwarden.loops.OomAttribution;
import java.io.FilterWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import tools.jackson.databind.SequenceWriter;

@Command(name = "oom-watch", mixinStandardHelpOptions = true,
        footerHeading = "%nExamples:%n",
        footer = {"  memwarden oom-watch",
                "  memwarden oom-watch --from /var/log/kern.log --once -o json"},
        description = {"Report kernel OOM kills from the kernel log, parsed exactly as the kubelet does (old and new"
                + " kernel line formats, memcg vs global OOM). A victim cgroup of \"/\" is a system OOM (the kubelet's"
                + " SystemOOM Node event).",
                "Without --once it follows /dev/kmsg from now on and prints each kill as it happens (JSON lines with -o"
                + " json) until interrupted.",
                "Each kill comes with a diagnosis from the kernel's own figures at the kill (the OOM cgroup's limit, anon"
                + " memory, swap use and swap limit) and, when following /dev/kmsg, the node's swap read right then:"
                + " e.g. \"OOM-killed at its memory limit 256Mi (anon 250Mi) while 1.9Gi of node swap was free: its"
                + " swap limit is 0\" (table: an indented line under the kill; JSON: diagnosis, diagnosisKind,"
                + " memory).",
                "A record that is not well-formed (an out-of-range number, a garbage field, a truncated header, bytes"
                + " that are not text, a line over 64 KiB) is skipped alone, with a warning on stderr naming its line"
                + " (or record) number, the field and the value; every other kill is still reported.",
                "",
                "Exit codes: 0 ok (also when records were skipped); 1 the log cannot be read (e.g. /dev/kmsg needs"
                + " root, or a read fails midway); 2 usage error, or a --from FILE that is missing, a directory,"
                + " unreadable or binary."})
final class OomWatchCommand implements Callable<Integer> {
    static final String PREFIX = "memwarden oom-watch: ";

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--from", paramLabel = "FILE",
            description = "Parse a saved log (kmsg records or `dmesg -r` lines) instead of /dev/kmsg; implies --once."
                    + " Read as a stream: any size, one line (at most 64 KiB) in memory at a time.")
    Path from;

    @Option(names = "--once", description = "Parse what the log holds now (from its start), print, and exit.")
    boolean once;

    @Option(names = {"-o", "--output"}, defaultValue = "table", paramLabel = "FORMAT",
            description = "json or table (default ${DEFAULT-VALUE}).")
    String output;

    @Option(names = "--max-warnings", defaultValue = "20", paramLabel = "N",
            description = "List at most N skipped records on stderr (default ${DEFAULT-VALUE}); the rest are only"
                    + " counted.")
    int maxWarnings;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (!output.equals("json") && !output.equals("table")) {
            err.println(PREFIX + "-o must be json or table, got \"" + output + "\"");
            return ExitCodes.USAGE;
        }
        if (maxWarnings < 0) {
            err.println(PREFIX + "--max-warnings must be 0 or more, got " + maxWarnings);
            return ExitCodes.USAGE;
        }
        boolean json = output.equals("json");
        if (from != null) {
            return fromFile(out, err, json);
        }
        Report report = new Report(out, err, json ? (once ? Format.JSON_ARRAY : Format.JSON_LINES) : Format.TABLE,
                Kmsg.PATH, "record", maxWarnings);
        if (!once) {
            // a kill as it happens: the node's swap read now is its swap at the kill (within the poll's second)
            // and at a parent's limit the killed task's own cgroup (if still there) says what it could swap
            HostFacts host = host();
            report.diagnose = e -> OomAttribution.diagnose(e, host == null ? -1
                    : OomAttribution.ownSwapLimit(e, host.memoryMount(), host.memoryController()), NodeStats::swapNow);
        }
        try (Kmsg k = Kmsg.open(!once)) {
            OomParser parser = new OomParser();
            report.begin();
            if (once) {
                while (true) {
                    var entries = k.drain();
                    entries.forEach(e -> parser.feed(e, report));
                    if (entries.size() < Kmsg.DRAIN_MAX) {
                        break;
                    }
                }
                report.end(parser.pendingSince());
                return ExitCodes.OK;
            }
            while (!Thread.currentThread().isInterrupted()) {
                for (KmsgEntry e : k.drain()) {
                    parser.feed(e, report);
                }
                k.await(1000);
            }
            return ExitCodes.OK;
        } catch (IOException e) {
            String m = e.getMessage() == null ? "input/output error" : e.getMessage();
            err.println(PREFIX + Kmsg.PATH + " cannot be read: " + m
                    + (m.contains("EACCES") || m.contains("EPERM") ? " (reading " + Kmsg.PATH + " needs root)" : ""));
            return ExitCodes.FAILURE;
        }
    }

    /** This host's memory cgroup facts, or null without a memory controller. */
    private static HostFacts host() {
        try {
            HostFacts h = HostProbe.probe();
            return h.memoryMount() == null || h.memoryController() == null ? null : h;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private int fromFile(PrintWriter out, PrintWriter err, boolean json) {
        KernelLogFile f;
        try {
            f = KernelLogFile.open(from);
        } catch (KernelLogFile.Unusable e) {
            err.println(PREFIX + "--from " + e.getMessage());
            return ExitCodes.USAGE;
        }
        try (f) {
            if (f.empty()) {
                err.println(PREFIX + "note: " + from + " is empty: no kernel log records, no OOM kills");
            }
            Report report = new Report(out, err, json ? Format.JSON_ARRAY : Format.TABLE, from.toString(), "line",
                    maxWarnings);
            report.begin();
            OomParser parser = new OomParser();
            KmsgEntry e;
            while ((e = f.next()) != null) {
                parser.feed(e, report);
            }
            report.end(parser.pendingSince());
            return ExitCodes.OK;
        } catch (IOException e) {
            out.flush();
            String reason = e.getMessage() == null ? "input/output error" : e.getMessage();
            err.println(PREFIX + from + ": read failed after line " + f.lineNumber() + ": " + reason);
            return ExitCodes.FAILURE;
        }
    }

    enum Format { TABLE, JSON_ARRAY, JSON_LINES }

    /** Prints kills as they are parsed (nothing is collected) and skipped records as warnings, the first N listed. */
    static final class Report implements OomParser.Listener {
        private final PrintWriter out;
        private final PrintWriter err;
        private final Format format;
        private final String source;
        private final String unit;
        private final int maxWarnings;
        private SequenceWriter array;
        private long skipped;
        private long kills;
        /** The diagnosis of a kill: from the kernel's figures alone unless set (node swap unknown). */
        Function<OomEvent, OomDiagnosis.Verdict> diagnose = e -> OomAttribution.Kill.unattributed(e).diagnosis();

        Report(PrintWriter out, PrintWriter err, Format format, String source, String unit, int maxWarnings) {
            this.out = out;
            this.err = err;
            this.format = format;
            this.source = source;
            this.unit = unit;
            this.maxWarnings = maxWarnings;
        }

        void begin() {
            switch (format) {
                case TABLE -> header(out);
                case JSON_ARRAY -> array = PlanOutput.JSON.writer().writeValuesAsArray(new FilterWriter(out) {
                    @Override
                    public void close() {
                        // the array ends; the command's stdout stays open
                    }
                });
                case JSON_LINES -> { }
            }
            out.flush();
        }

        @Override
        public void kill(long number, OomEvent e) {
            kills++;
            OomDiagnosis.Verdict v = diagnose.apply(e);
            switch (format) {
                case TABLE -> {
                    row(out, e);
                    out.println("  " + BadKmsgRecord.printableText(v.sentence()));
                }
                case JSON_ARRAY -> array.write(view(e, v));
                case JSON_LINES -> out.println(JSON_LINE.writeValueAsString(view(e, v)));
            }
            if (format != Format.JSON_ARRAY) {
                out.flush();
            }
        }

        @Override
        public void skipped(long number, BadKmsgRecord why) {
            skipped++;
            if (skipped <= maxWarnings) {
                err.println(PREFIX + "warning: " + source + " " + unit + " " + number + " skipped: " + why.describe());
                err.flush();
            }
        }

        /** Ends the output: closes the JSON array, counts what was skipped, notes a record the log ended inside. */
        void end(long pendingSince) {
            if (array != null) {
                array.close();
                out.println();
            }
            out.flush();
            if (skipped > maxWarnings) {
                err.println(PREFIX + "warning: " + source + ": " + skipped + " " + unit + "s skipped in all ("
                        + (maxWarnings == 0 ? "none" : "the first " + maxWarnings) + " listed; --max-warnings N lists more)");
            }
            if (pendingSince > 0) {
                err.println(PREFIX + "warning: " + source + " ends inside the OOM record begun at " + unit + " "
                        + pendingSince + " (no \"Killed process\" or \"oom-kill:\" line yet): not reported");
            }
            err.flush();
        }

        long skipped() {
            return skipped;
        }

        long kills() {
            return kills;
        }
    }

    private static final tools.jackson.databind.ObjectMapper JSON_LINE = tools.jackson.databind.json.JsonMapper.builder().build();

    /** A kill as JSON, diagnosed from the kernel's figures alone (as {@code --from} and {@code --once} do). */
    static Map<String, Object> view(OomEvent e) {
        return view(e, OomAttribution.Kill.unattributed(e).diagnosis());
    }

    static Map<String, Object> view(OomEvent e, OomDiagnosis.Verdict v) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("pid", e.pid());
        m.put("process", e.process());
        m.put("containerCgroup", e.containerCgroup());
        m.put("victimCgroup", e.victimCgroup());
        m.put("systemOom", e.systemOom());
        m.put("constraint", e.constraint());
        m.put("timestampMicros", e.timestampMicros());
        m.put("podUid", e.podUid());
        OomEvent.Memory mem = e.memory();
        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("usageBytes", mem.usageBytes());
        figures.put("limitBytes", mem.limitBytes());
        figures.put("swapUsageBytes", mem.swapUsageBytes());
        figures.put("swapLimitBytes", mem.swapLimitBytes());
        figures.put("anonBytes", mem.anonBytes());
        figures.put("nodeSwapTotalBytes", mem.nodeSwapTotalBytes());
        figures.put("nodeSwapFreeBytes", mem.nodeSwapFreeBytes());
        m.put("memory", figures);
        m.put("diagnosisKind", v.kind().name());
        m.put("diagnosis", v.sentence());
        return m;
    }

    private static void header(PrintWriter out) {
        out.printf("%-10s %-8s %-16s %-7s %-18s %s%n", "TIME(s)", "PID", "PROCESS", "SYSTEM", "CONSTRAINT", "VICTIM CGROUP <- TASK CGROUP");
    }

    private static void row(PrintWriter out, OomEvent e) {
        String victim = BadKmsgRecord.printableText(e.victimCgroup());
        String task = BadKmsgRecord.printableText(e.containerCgroup());
        out.printf("%-10s %-8d %-16s %-7s %-18s %s%n",
                e.timestampMicros() < 0 ? "-" : String.format("%.3f", e.timestampMicros() / 1e6), e.pid(),
                BadKmsgRecord.printableText(e.process()), e.systemOom() ? "yes" : "no",
                e.constraint().isEmpty() ? "-" : BadKmsgRecord.printableText(e.constraint()),
                victim + (task.equals(victim) ? "" : " <- " + task));
    }
}
