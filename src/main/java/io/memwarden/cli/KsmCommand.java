package io.memwarden.cli;

import io.memwarden.control.KsmDecision;
import io.memwarden.control.KsmPolicy;
import io.memwarden.control.KsmTuner;
import io.memwarden.control.Ksmtuned;
import io.memwarden.control.KubevirtKsm;
import io.memwarden.input.YamlDocs;
import io.memwarden.kernel.Ksm;
import io.memwarden.kernel.KsmCounters;
import io.memwarden.loops.KsmLoop;
import io.memwarden.model.Clock;
import io.memwarden.model.HumanBytes;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import tools.jackson.databind.json.JsonMapper;

/** {@code memwarden ksm}: KSM's profit and settings, and the KSM tuner by hand (docs/vm-nodes.md). Wiring only. */
@Command(name = "ksm", mixinStandardHelpOptions = true,
        footerHeading = "%nExamples:%n",
        footer = {"  memwarden ksm status -o json",
                "  memwarden ksm tune --once --dry-run"},
        description = {"Kernel samepage merging on this node: what it saves and costs, and the KSM tuner.",
                "",
                "Exit codes: 0 done; 1 runtime failure (no KSM, not root, a kernel write failed); 2 usage error."},
        subcommands = {KsmCommand.Status.class, KsmCommand.Tune.class})
final class KsmCommand implements Runnable {
    static final String PREFIX = "memwarden ksm: ";

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static final class Roots {
        @Option(names = "--procfs", paramLabel = "DIR", defaultValue = "/proc",
                description = "The proc filesystem (default: ${DEFAULT-VALUE}), like node_exporter's --path.procfs.")
        Path procfs;

        @Option(names = "--sysfs", paramLabel = "DIR", defaultValue = "/sys",
                description = "The sys filesystem (default: ${DEFAULT-VALUE}), like node_exporter's --path.sysfs.")
        Path sysfs;

        Ksm ksm() {
            return new Ksm(procfs, sysfs);
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "KSM's counters, settings, profit and ksmd's CPU time.")
    static final class Status implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        Roots roots = new Roots();

        @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table",
                description = "Output format: json, yaml or table (default: ${DEFAULT-VALUE}).")
        PlanOutput.Format output;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            Ksm ksm = roots.ksm();
            Map<String, Object> doc = new LinkedHashMap<>();
            try {
                KsmCounters c = ksm.read();
                doc.put("run", c.run());
                doc.put("pagesToScan", c.pagesToScan());
                doc.put("sleepMillisecs", c.sleepMillisecs());
                doc.put("advisorMode", c.advisorMode());
                doc.put("pagesShared", c.pagesShared());
                doc.put("pagesSharing", c.pagesSharing());
                doc.put("pagesUnshared", c.pagesUnshared());
                doc.put("pagesVolatile", c.pagesVolatile());
                doc.put("zeroPages", c.zeroPages());
                doc.put("fullScans", c.fullScans());
                doc.put("rmapItems", c.rmapItems());
                doc.put("savedBytes", c.savedBytes());
                doc.put("metadataBytes", c.metadataBytes());
                doc.put("profitBytes", c.profitBytes());
                doc.put("profitFrom", c.generalProfit() != Long.MIN_VALUE ? "general_profit" : "formula");
                int pid = ksm.ksmdPid();
                doc.put("ksmdCpuSeconds", pid > 0 ? ksm.cpuSeconds(pid) : null);
                doc.put("files", c.raw());
            } catch (IOException e) {
                err.println(PREFIX + e.getMessage());
                return ExitCodes.FAILURE;
            }
            switch (output) {
                case json -> out.println(PlanOutput.JSON.writeValueAsString(doc));
                case yaml -> out.print(PlanOutput.YAML.writeValueAsString(doc));
                case table -> doc.forEach((k, v) -> {
                    if (!k.equals("files")) {
                        // byte counts for people (HumanBytes); -o json and -o yaml keep the bytes
                        out.printf("%-16s %s%n", k, v == null ? "-"
                                : k.endsWith("Bytes") && v instanceof Long b ? HumanBytes.of(b) : v);
                    }
                });
            }
            out.flush();
            return ExitCodes.OK;
        }
    }

    @Command(name = "tune", mixinStandardHelpOptions = true,
            description = {"The KSM tuner: observe, decide, write; with --once one pass (values left as written),"
                    + " else every --period until SIGTERM/SIGINT, then the values it changed are restored.",
                    "KSM running before it starts is left alone (observed only) unless --take-over."})
    static final class Tune implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        Roots roots = new Roots();

        @Option(names = "--once", description = "Make exactly one pass.")
        boolean once;

        @Option(names = "--policy", paramLabel = "POLICY", defaultValue = "kubevirt",
                description = "kubevirt (virt-handler's algorithm) or ksmtuned (default: ${DEFAULT-VALUE}).")
        String policy;

        @Option(names = "--set", paramLabel = "NAME=VALUE",
                description = "A kubevirt override as virt-handler's node annotation names it without the prefix"
                        + " and suffix: pages-boost, pages-decay, pages-min, pages-max, pages-init,"
                        + " sleep-ms-baseline, free-percent.")
        List<String> overrides = new ArrayList<>();

        @Option(names = "--dry-run", description = "Decide and print, write nothing.")
        boolean dryRun;

        @Option(names = "--take-over", description = "Tune KSM even if it was running before.")
        boolean takeOver;

        @Option(names = "--period", paramLabel = "DURATION", defaultValue = "60s",
                description = "Time between passes without --once (default: ${DEFAULT-VALUE}).")
        String period;

        @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table",
                description = "json (one object per pass) or table (default: ${DEFAULT-VALUE}).")
        PlanOutput.Format output;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            KsmPolicy p;
            Duration every;
            try {
                p = policy(policy, overrides);
                every = YamlDocs.goDuration(period);
                if (every.toMillis() < 100) {
                    throw new IllegalArgumentException("--period: must be at least 100ms, got " + period);
                }
            } catch (IllegalArgumentException e) {
                err.println(PREFIX + e.getMessage());
                return ExitCodes.USAGE;
            }
            KsmLoop loop = new KsmLoop(roots.ksm(), new KsmTuner(p, KsmTuner.Config.DEFAULTS, Clock.SYSTEM),
                    new KsmLoop.Options(dryRun, takeOver, Ksmtuned.QEMU), Clock.SYSTEM);
            if (once) {
                try {
                    print(loop.pass(), out);
                    return ExitCodes.OK;
                } catch (IOException e) {
                    err.println(PREFIX + e.getMessage());
                    return ExitCodes.FAILURE;
                }
            }
            StopSignals signals = StopSignals.install(PREFIX, err, () -> { });
            int code = ExitCodes.OK;
            try (signals) {
                do {
                    try {
                        print(loop.pass(), out);
                    } catch (IOException e) {
                        err.println(PREFIX + e.getMessage());
                        code = ExitCodes.FAILURE;
                        break;
                    }
                } while (!signals.awaitStop(every.toMillis()));
            } finally {
                try {
                    for (String r : loop.restore()) {
                        err.println(PREFIX + "restored " + r);
                    }
                } catch (IOException e) {
                    err.println(PREFIX + "restoring: " + e.getMessage());
                    code = ExitCodes.FAILURE;
                }
                err.flush();
            }
            return code;
        }

        private void print(KsmLoop.Pass pass, PrintWriter out) {
            KsmDecision d = pass.decision();
            String reason = d.reason() + (pass.observeOnly() != null ? " (not written: " + pass.observeOnly() + ")"
                    : dryRun ? " (dry run: nothing written)" : "");
            if (output == PlanOutput.Format.table) {
                out.println("run=" + dash(d.run()) + " pages_to_scan=" + dash(d.pagesToScan()) + " sleep_millisecs="
                        + dash(d.sleepMillisecs()) + " pressure=" + d.pressure() + ": " + reason);
            } else {
                Map<String, Object> doc = new LinkedHashMap<>();
                doc.put("run", d.run());
                doc.put("pagesToScan", d.pagesToScan());
                doc.put("sleepMillisecs", d.sleepMillisecs());
                doc.put("pressure", d.pressure());
                doc.put("reason", reason);
                out.println(ONE_LINE.writeValueAsString(doc));
            }
            out.flush();
        }

        private static String dash(Object o) {
            return o == null ? "-" : o.toString();
        }
    }

    /** Keeps nulls (a setting not written is null), one object per line. */
    static final JsonMapper ONE_LINE = JsonMapper.builder().build();

    /** The policy by name, kubevirt overrides applied and checked against virt-handler's bounds. */
    static KsmPolicy policy(String name, List<String> overrides) {
        return switch (name) {
            case "kubevirt" -> {
                Map<String, String> ann = new LinkedHashMap<>();
                for (String o : overrides) {
                    int eq = o.indexOf('=');
                    String key = eq < 0 ? o : o.substring(0, eq);
                    String full = KubevirtKsm.ANNOTATION_PREFIX + key + "-override";
                    if (eq < 0 || !KubevirtKsm.annotationNames().contains(full)) {
                        throw new IllegalArgumentException("--set: \"" + o + "\" is not NAME=VALUE with NAME one of"
                                + " pages-boost, pages-decay, pages-min, pages-max, pages-init, sleep-ms-baseline,"
                                + " free-percent");
                    }
                    ann.put(full, o.substring(eq + 1));
                }
                List<String> notes = new ArrayList<>();
                KubevirtKsm.Settings s = KubevirtKsm.Settings.fromAnnotations(ann, notes);
                if (!notes.isEmpty()) {
                    throw new IllegalArgumentException("--set: " + notes.getFirst());
                }
                yield new KubevirtKsm(s);
            }
            case "ksmtuned" -> {
                if (!overrides.isEmpty()) {
                    throw new IllegalArgumentException("--set: only the kubevirt policy takes overrides");
                }
                yield new Ksmtuned();
            }
            default -> throw new IllegalArgumentException("--policy: \"" + name
                    + "\" is not one of kubevirt, ksmtuned");
        };
    }
}
