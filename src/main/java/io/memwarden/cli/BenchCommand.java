package io.memwarden.cli;

import io.memwarden.bench.PressureBench;
import io.memwarden.cgroup.HostFacts;
import io.memwarden.input.InputException;
import io.memwarden.model.KubeQuantity;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Real-kernel scenarios with real processes, each against baselines; writes JSON and PNG charts.",
        subcommands = {BenchCommand.Pressure.class, BenchCommand.Throttle.class})
final class BenchCommand implements Runnable {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "pressure", mixinStandardHelpOptions = true,
            description = {"A protected Guaranteed service next to a BestEffort hog ramping its allocation until the"
                    + " (confined) node would OOM, repeated per policy: none (kernel OOM killer), kubelet (10 s period,"
                    + " memory.available < 100Mi, swap ignored), memwarden (pressure guard). Reports kernel OOM kills,"
                    + " protected kills and the action latency from the threshold crossing.",
                    "Needs root and a cgroup memory controller. Writes pressure.json and pressure.png to --out."})
    static final class Pressure implements Callable<Integer> {
        @Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Option(names = "--runs", defaultValue = "5", description = "Runs per policy (default ${DEFAULT-VALUE}).")
        int runs;

        @Option(names = "--node-size", defaultValue = "600Mi", paramLabel = "SIZE",
                description = "Memory limit of the confined node cgroup (default ${DEFAULT-VALUE}).")
        String nodeSize;

        @Option(names = "--step", defaultValue = "8", paramLabel = "MIB",
                description = "MiB the hog allocates every 50 ms (default ${DEFAULT-VALUE}, ~160 MiB/s).")
        int step;

        @Option(names = "--policies", split = ",", defaultValue = "none,kubelet,memwarden",
                description = "Policies to compare (default ${DEFAULT-VALUE}).")
        List<String> policies;

        @Option(names = "--out", defaultValue = "target/bench", paramLabel = "DIR",
                description = "Output directory (default ${DEFAULT-VALUE}).")
        Path out;

        @Override
        public Integer call() throws Exception {
            PrintWriter o = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            long node;
            HostFacts host;
            try {
                node = KubeQuantity.parse(nodeSize).bytes();
                for (String p : policies) {
                    if (!List.of("none", "kubelet", "memwarden").contains(p)) {
                        throw new InputException("--policies: unknown policy \"" + p + "\" (none, kubelet, memwarden)");
                    }
                }
                if (runs < 1 || step < 1) {
                    throw new InputException("--runs and --step must be positive");
                }
                host = NodeSource.host();
            } catch (InputException | IllegalArgumentException e) {
                err.println("memwarden bench pressure: " + e.getMessage());
                return ExitCodes.USAGE;
            }
            if (!Files.isWritable(host.ownMemoryCgroup())) {
                err.println("memwarden bench pressure: needs root (cgroups under " + host.ownMemoryCgroup() + ")");
                return ExitCodes.FAILURE;
            }
            Map<String, Object> report = PressureBench.run(host, new PressureBench.Options(runs, node, step, policies, out), o);
            Files.writeString(out.resolve("pressure.json"), PlanOutput.JSON.writeValueAsString(report));
            o.println(PlanOutput.JSON.writeValueAsString(report.get("policies")));
            o.println("wrote " + out.resolve("pressure.json") + " and " + out.resolve("pressure.png"));
            return ExitCodes.OK;
        }
    }

    @Command(name = "throttle", mixinStandardHelpOptions = true,
            description = {"The memory.high stall: a container with memory.high 64M, a 512Mi limit and no swap allocates"
                    + " up to 384 MiB; compares allocation progress without an agent (none) and with memwarden's"
                    + " throttle relief (memwarden). Writes throttle.json and throttle.png to --out.",
                    "On cgroup v1 memory.high is projected onto the hard limit, so 'none' ends in an OOM kill."})
    static final class Throttle implements Callable<Integer> {
        @Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Option(names = "--duration", defaultValue = "30s", paramLabel = "DURATION",
                description = "Longest time per policy (default ${DEFAULT-VALUE}).")
        String duration;

        @Option(names = "--policies", split = ",", defaultValue = "none,memwarden",
                description = "Policies to compare (default ${DEFAULT-VALUE}).")
        List<String> policies;

        @Option(names = "--out", defaultValue = "target/bench", paramLabel = "DIR",
                description = "Output directory (default ${DEFAULT-VALUE}).")
        Path out;

        @Override
        public Integer call() throws Exception {
            PrintWriter o = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            java.time.Duration d;
            HostFacts host;
            try {
                d = io.memwarden.input.YamlDocs.goDuration(duration);
                for (String p : policies) {
                    if (!List.of("none", "memwarden").contains(p)) {
                        throw new InputException("--policies: unknown policy \"" + p + "\" (none, memwarden)");
                    }
                }
                host = NodeSource.host();
            } catch (InputException | IllegalArgumentException e) {
                err.println("memwarden bench throttle: " + e.getMessage());
                return ExitCodes.USAGE;
            }
            if (!Files.isWritable(host.ownMemoryCgroup())) {
                err.println("memwarden bench throttle: needs root (cgroups under " + host.ownMemoryCgroup() + ")");
                return ExitCodes.FAILURE;
            }
            Map<String, Object> report = io.memwarden.bench.ThrottleBench.run(host,
                    new io.memwarden.bench.ThrottleBench.Options(d, policies, out), o);
            Files.writeString(out.resolve("throttle.json"), PlanOutput.JSON.writeValueAsString(report));
            o.println(PlanOutput.JSON.writeValueAsString(report.get("policies")));
            o.println("wrote " + out.resolve("throttle.json") + " and " + out.resolve("throttle.png"));
            return ExitCodes.OK;
        }
    }
}
