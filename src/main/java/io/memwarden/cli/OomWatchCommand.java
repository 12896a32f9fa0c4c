package io.memwarden.cli;

import io.memwarden.kernel.Kmsg;
import io.memwarden.kernel.KmsgRecord;
import io.memwarden.kernel.OomEvent;
import io.memwarden.kernel.OomParser;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "oom-watch", mixinStandardHelpOptions = true,
        description = {"Report kernel OOM kills from the kernel log, parsed exactly as the kubelet does (old and new"
                + " kernel line formats, memcg vs global OOM). A victim cgroup of \"/\" is a system OOM (the kubelet's"
                + " SystemOOM Node event).",
                "Without --once it follows /dev/kmsg from now on and prints each kill as it happens (JSON lines with -o"
                + " json) until interrupted.",
                "",
                "Exit codes: 0 ok; 1 the log cannot be read (e.g. /dev/kmsg needs root); 2 usage error."})
final class OomWatchCommand implements Callable<Integer> {

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--from", paramLabel = "FILE",
            description = "Parse a saved log (kmsg records or `dmesg -r` lines) instead of /dev/kmsg; implies --once.")
    Path from;

    @Option(names = "--once", description = "Parse what the log holds now (from its start), print, and exit.")
    boolean once;

    @Option(names = {"-o", "--output"}, defaultValue = "table", paramLabel = "FORMAT",
            description = "json or table (default ${DEFAULT-VALUE}).")
    String output;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (!output.equals("json") && !output.equals("table")) {
            err.println("memwarden oom-watch: -o must be json or table, got \"" + output + "\"");
            return ExitCodes.USAGE;
        }
        boolean json = output.equals("json");
        try {
            if (from != null || once) {
                List<KmsgRecord> records = new ArrayList<>();
                if (from != null) {
                    for (String line : Files.readAllLines(from)) {
                        if (!line.isEmpty() && !line.startsWith(" ")) {
                            records.add(KmsgRecord.parse(line));
                        }
                    }
                } else {
                    try (Kmsg k = Kmsg.open(false)) {
                        records.addAll(k.drain());
                    }
                }
                List<OomEvent> events = OomParser.parseAll(records);
                if (json) {
                    out.println(PlanOutput.JSON.writeValueAsString(events.stream().map(OomWatchCommand::view).toList()));
                } else {
                    header(out);
                    events.forEach(e -> row(out, e));
                }
                return ExitCodes.OK;
            }
            try (Kmsg k = Kmsg.open(true)) {
                OomParser parser = new OomParser();
                if (!json) {
                    header(out);
                }
                out.flush();
                while (!Thread.currentThread().isInterrupted()) {
                    for (KmsgRecord r : k.drain()) {
                        OomEvent e = parser.accept(r);
                        if (e != null) {
                            if (json) {
                                out.println(JSON_LINE.writeValueAsString(view(e)));
                            } else {
                                row(out, e);
                            }
                            out.flush();
                        }
                    }
                    k.await(1000);
                }
            }
            return ExitCodes.OK;
        } catch (IOException e) {
            err.println("memwarden oom-watch: " + e.getMessage()
                    + (e.getMessage() != null && e.getMessage().contains("EACCES") || e.getMessage().contains("EPERM")
                    ? " (reading /dev/kmsg needs root)" : ""));
            return ExitCodes.FAILURE;
        }
    }

    private static final tools.jackson.databind.ObjectMapper JSON_LINE = tools.jackson.databind.json.JsonMapper.builder().build();

    static Map<String, Object> view(OomEvent e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("pid", e.pid());
        m.put("process", e.process());
        m.put("containerCgroup", e.containerCgroup());
        m.put("victimCgroup", e.victimCgroup());
        m.put("systemOom", e.systemOom());
        m.put("constraint", e.constraint());
        m.put("timestampMicros", e.timestampMicros());
        m.put("podUid", e.podUid());
        return m;
    }

    private static void header(PrintWriter out) {
        out.printf("%-10s %-8s %-16s %-7s %-18s %s%n", "TIME(s)", "PID", "PROCESS", "SYSTEM", "CONSTRAINT", "VICTIM CGROUP <- TASK CGROUP");
    }

    private static void row(PrintWriter out, OomEvent e) {
        out.printf("%-10s %-8d %-16s %-7s %-18s %s%n",
                e.timestampMicros() < 0 ? "-" : String.format("%.3f", e.timestampMicros() / 1e6), e.pid(), e.process(),
                e.systemOom() ? "yes" : "no", e.constraint().isEmpty() ? "-" : e.constraint(),
                e.victimCgroup() + (e.containerCgroup().equals(e.victimCgroup()) ? "" : " <- " + e.containerCgroup()));
    }
}
