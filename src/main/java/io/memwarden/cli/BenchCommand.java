package io.memwarden.cli;

import io.memwarden.bench.DensityBench;
import io.memwarden.bench.OffloadBench;
import io.memwarden.bench.PressureBench;
import io.memwarden.bench.ThrottleBench;
import io.memwarden.cgroup.HostFacts;
import io.memwarden.cgroup.HostProbe;
import io.memwarden.kernel.Host;
import io.memwarden.kernel.SwapDeviceException;
import io.memwarden.kernel.SwapFiles;
import io.memwarden.runner.Leftovers;
import io.memwarden.runner.RunOwner;
import io.memwarden.input.InputException;
import io.memwarden.input.YamlDocs;
import io.memwarden.loops.LoopOptions;
import io.memwarden.model.KubeQuantity;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "bench", mixinStandardHelpOptions = true,
        footerHeading = "%nExamples:%n",
        footer = {"  memwarden bench pressure --out target/bench",
                "  memwarden bench density --node-size 1Gi --node-swap 1Gi \\",
                "      --policies none,limitedswap,memwarden"},
        description = "Real-kernel scenarios with real processes, each against baselines; writes JSON and PNG charts.",
        subcommands = {BenchCommand.Pressure.class, BenchCommand.Throttle.class, BenchCommand.Offload.class,
                BenchCommand.Density.class})
final class BenchCommand implements Runnable {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** What every scenario shares: policies, output directory, root and host checks, the JSON report. */
    abstract static class Scenario implements Callable<Integer> {
        @Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Option(names = "--out", defaultValue = "target/bench", paramLabel = "DIR",
                description = "Output directory (default ${DEFAULT-VALUE}).")
        Path out;

        abstract String name();

        abstract List<String> policies();

        abstract List<String> knownPolicies();

        /** Parses and checks the scenario's own options; throws InputException naming the option. */
        abstract void validate() throws InputException;

        /** An extra host requirement, or null. */
        String unmet(HostFacts host) {
            return null;
        }

        abstract Map<String, Object> run(HostFacts host, PrintWriter progress) throws Exception;

        @Override
        public Integer call() throws Exception {
            PrintWriter o = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            String prefix = "memwarden bench " + name() + ": ";
            HostFacts host;
            try {
                for (String p : policies()) {
                    if (!knownPolicies().contains(p)) {
                        throw new InputException("--policies: unknown policy \"" + p + "\" (" + String.join(", ",
                                knownPolicies()) + ")");
                    }
                }
                validate();
                host = NodeSource.host();
            } catch (InputException | IllegalArgumentException e) {
                err.println(prefix + e.getMessage());
                return ExitCodes.USAGE;
            }
            if (!Files.isWritable(host.ownMemoryCgroup())) {
                err.println(prefix + "needs root (cgroups under " + host.ownMemoryCgroup() + ")");
                return ExitCodes.FAILURE;
            }
            String unmet = unmet(host);
            if (unmet != null) {
                err.println(prefix + unmet);
                return ExitCodes.FAILURE;
            }
            Map<String, Object> report = run(host, o);
            Files.writeString(out.resolve(name() + ".json"), PlanOutput.JSON.writeValueAsString(report));
            o.println(PlanOutput.JSON.writeValueAsString(report.get("policies")));
            o.println("wrote " + out.resolve(name() + ".json") + " and " + out.resolve(name() + ".png"));
            return ExitCodes.OK;
        }
    }

    @Command(name = "pressure", mixinStandardHelpOptions = true,
            description = {"A protected Guaranteed service next to a BestEffort hog ramping its allocation until the"
                    + " (confined) node would OOM, repeated per policy: none (kernel OOM killer), kubelet (10 s period,"
                    + " memory.available < 100Mi, swap ignored), memwarden (pressure guard). Reports kernel OOM kills,"
                    + " protected kills and the action latency from the threshold crossing.",
                    "Needs root and a cgroup memory controller. Writes pressure.json and pressure.png to --out."})
    static final class Pressure extends Scenario {
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

        long node;

        @Override
        String name() {
            return "pressure";
        }

        @Override
        List<String> policies() {
            return policies;
        }

        @Override
        List<String> knownPolicies() {
            return List.of("none", "kubelet", "memwarden");
        }

        @Override
        void validate() throws InputException {
            node = KubeQuantity.parse(nodeSize).bytes();
            if (runs < 1 || step < 1) {
                throw new InputException("--runs and --step must be positive");
            }
        }

        @Override
        Map<String, Object> run(HostFacts host, PrintWriter progress) throws Exception {
            return PressureBench.run(host, new PressureBench.Options(runs, node, step, policies, out), progress);
        }
    }

    @Command(name = "throttle", mixinStandardHelpOptions = true,
            description = {"The memory.high stall: a container with memory.high 64M, a 512Mi limit and no swap allocates"
                    + " up to 384 MiB; compares allocation progress without an agent (none) and with memwarden's"
                    + " throttle relief (memwarden). Writes throttle.json and throttle.png to --out.",
                    "On cgroup v1 memory.high is projected onto the hard limit, so 'none' ends in an OOM kill."})
    static final class Throttle extends Scenario {
        @Option(names = "--duration", defaultValue = "30s", paramLabel = "DURATION",
                description = "Longest time per policy (default ${DEFAULT-VALUE}).")
        String duration;

        @Option(names = "--policies", split = ",", defaultValue = "none,memwarden",
                description = "Policies to compare (default ${DEFAULT-VALUE}).")
        List<String> policies;

        java.time.Duration d;

        @Override
        String name() {
            return "throttle";
        }

        @Override
        List<String> policies() {
            return policies;
        }

        @Override
        List<String> knownPolicies() {
            return List.of("none", "memwarden");
        }

        @Override
        void validate() {
            d = YamlDocs.goDuration(duration);
        }

        @Override
        Map<String, Object> run(HostFacts host, PrintWriter progress) throws Exception {
            return ThrottleBench.run(host, new ThrottleBench.Options(d, policies, out), progress);
        }
    }

    @Command(name = "offload", mixinStandardHelpOptions = true,
            description = {"Cold-memory offload: N workloads, each touching a hot set every 100 ms and holding a cold"
                    + " set it touched once, all allowed to swap, no memory pressure; compares no agent (none) with"
                    + " memwarden's cold offloader (on cgroup v1: --v1-method). Measures cold/hot bytes out of RAM from"
                    + " /proc/PID/pagemap, the"
                    + " swap-in rate and node PSI. Needs swap on. Writes offload.json and offload.png to --out."})
    static final class Offload extends Scenario {
        @Option(names = "--workloads", defaultValue = "2", description = "Workloads (default ${DEFAULT-VALUE}).")
        int workloads;

        @Option(names = "--hot", defaultValue = "32", paramLabel = "MIB",
                description = "Hot set per workload (default ${DEFAULT-VALUE} MiB).")
        int hot;

        @Option(names = "--cold", defaultValue = "96", paramLabel = "MIB",
                description = "Cold set per workload (default ${DEFAULT-VALUE} MiB).")
        int cold;

        @Option(names = "--duration", defaultValue = "180s", paramLabel = "DURATION",
                description = "Time per policy (default ${DEFAULT-VALUE}).")
        String duration;

        @Option(names = "--policies", split = ",", defaultValue = "none,memwarden",
                description = "Policies to compare (default ${DEFAULT-VALUE}).")
        List<String> policies;

        @Option(names = "--v1-method", defaultValue = "madvise", paramLabel = "METHOD",
                description = "How memwarden offloads on cgroup v1: madvise (page out the ranges clear_refs sampling"
                        + " finds cold, with process_madvise) or limit (limit probing) (default ${DEFAULT-VALUE}).")
        String v1Method;

        @Option(names = "--v2-method", defaultValue = "reclaim", paramLabel = "METHOD",
                description = "How memwarden offloads on cgroup v2: madvise (page out the ranges clear_refs sampling"
                        + " finds cold, with process_madvise) or reclaim (memory.reclaim under a PSI target)"
                        + " (default ${DEFAULT-VALUE}).")
        String v2Method;

        @Option(names = "--layout", defaultValue = "merged", paramLabel = "LAYOUT",
                description = "merged: each workload's hot and cold sets share one mapping (adjacent allocations, as"
                        + " the kernel merges them); separate: a module is loaded between the two allocations, so"
                        + " the cold set has mappings of its own (default ${DEFAULT-VALUE}).")
        String layout;

        java.time.Duration d;
        LoopOptions.V1Offload method;
        LoopOptions.V2Offload method2;

        @Override
        String name() {
            return "offload";
        }

        @Override
        List<String> policies() {
            return policies;
        }

        @Override
        List<String> knownPolicies() {
            return List.of("none", "memwarden");
        }

        @Override
        void validate() throws InputException {
            d = YamlDocs.goDuration(duration);
            try {
                method = LoopOptions.V1Offload.parse(v1Method);
            } catch (IllegalArgumentException e) {
                throw new InputException("--v1-method: " + e.getMessage());
            }
            try {
                method2 = LoopOptions.V2Offload.parse(v2Method);
            } catch (IllegalArgumentException e) {
                throw new InputException("--v2-method: " + e.getMessage());
            }
            if (!layout.equals("merged") && !layout.equals("separate")) {
                throw new InputException("--layout: must be merged or separate, got \"" + layout + "\"");
            }
            if (workloads < 1 || hot < 1 || cold < 1) {
                throw new InputException("--workloads, --hot and --cold must be positive");
            }
        }

        @Override
        String unmet(HostFacts host) {
            return host.swapTotal() == 0
                    ? "no swap is on (e.g. bin/memwarden swap file create /var/tmp/bench.swap --size 1Gi)" : null;
        }

        @Override
        Map<String, Object> run(HostFacts host, PrintWriter progress) throws Exception {
            return OffloadBench.run(host, new OffloadBench.Options(workloads, hot, cold, d, policies, out, method,
                    method2, layout.equals("separate")),
                    progress);
        }
    }

    @Command(name = "density", mixinStandardHelpOptions = true,
            description = {"Pods at SLO: replicas of a workload with a hot set (touched every 100 ms) and a cold set"
                    + " (written once) start one by one in a confined node cgroup until the SLO breaks (a kernel OOM"
                    + " kill, a lost replica, or a replica's hot-loop rate below --slo-rate x a solo run). Policies:"
                    + " none (no swap), limitedswap (the kubelet's LimitedSwap proportional limit per container, no"
                    + " offload), memwarden (swap class, cold offload and pressure guard).",
                    "Needs root and a memory controller with swap accounting; creates a temporary swap file in"
                    + " /var/tmp when no swap is on and removes it at the end. Progress on stderr. Writes density.json"
                    + " and density.png to --out."})
    static final class Density extends Scenario {
        @Option(names = "--node-size", defaultValue = "1Gi", paramLabel = "SIZE",
                description = "Memory limit of the confined node cgroup (default ${DEFAULT-VALUE}).")
        String nodeSize;

        @Option(names = "--node-swap", defaultValue = "1Gi", paramLabel = "SIZE",
                description = "Swap the node may use, and LimitedSwap's swap capacity (default ${DEFAULT-VALUE}).")
        String nodeSwap;

        @Option(names = "--hot", defaultValue = "32Mi", paramLabel = "SIZE",
                description = "Hot set per replica (default ${DEFAULT-VALUE}).")
        String hot;

        @Option(names = "--cold", defaultValue = "64Mi", paramLabel = "SIZE",
                description = "Cold set per replica (default ${DEFAULT-VALUE}).")
        String cold;

        @Option(names = "--slo-rate", defaultValue = "0.95", paramLabel = "SHARE",
                description = "Each replica's hot-loop rate must stay at least this share of solo (default"
                        + " ${DEFAULT-VALUE}).")
        double sloRate;

        @Option(names = "--policies", split = ",", defaultValue = "none,limitedswap,memwarden",
                description = "Policies to compare (default ${DEFAULT-VALUE}).")
        List<String> policies;

        @Option(names = "--max-pods", defaultValue = "0", paramLabel = "N",
                description = "Most replicas per policy (default: the physical bound, node size / hot set).")
        int maxPods;

        @Option(names = "--step-seconds", defaultValue = "8", paramLabel = "S",
                description = "Seconds per step after a replica is ready: 40 %% settle, 60 %% measured (default"
                        + " ${DEFAULT-VALUE}).")
        int stepSeconds;

        DensityBench.Options opts;

        @Override
        String name() {
            return "density";
        }

        @Override
        List<String> policies() {
            return policies;
        }

        @Override
        List<String> knownPolicies() {
            return DensityBench.POLICIES;
        }

        @Override
        void validate() throws InputException {
            long node = size("--node-size", nodeSize);
            long swap = size("--node-swap", nodeSwap);
            long h = size("--hot", hot);
            long c = size("--cold", cold);
            if (h < (1 << 20) || h % (1 << 20) != 0) {
                throw new InputException("--hot: must be whole MiB, at least 1Mi, got " + hot);
            }
            if (c < (1 << 20) || c % (1 << 20) != 0) {
                throw new InputException("--cold: must be whole MiB, at least 1Mi, got " + cold);
            }
            if (!(sloRate > 0 && sloRate <= 1)) {
                throw new InputException("--slo-rate: must be in (0, 1], got " + sloRate);
            }
            if (maxPods < 0 || stepSeconds < 2) {
                throw new InputException("--max-pods must be >= 0 and --step-seconds >= 2");
            }
            if (node < h + c + (64L << 20)) {
                throw new InputException("--node-size: " + nodeSize + " does not hold one replica (hot + cold + 64Mi)");
            }
            opts = new DensityBench.Options(node, swap, (int) (h >> 20), (int) (c >> 20), sloRate, policies, maxPods,
                    java.time.Duration.ofSeconds(stepSeconds), out);
        }

        private static long size(String option, String value) throws InputException {
            try {
                return KubeQuantity.parse(value).bytes();
            } catch (IllegalArgumentException e) {
                throw new InputException(option + ": " + e.getMessage());
            }
        }

        @Override
        String unmet(HostFacts host) {
            return host.swapAccounting() ? null : "the memory controller does not account swap (no memsw/swap.max)";
        }

        @Override
        Map<String, Object> run(HostFacts host, PrintWriter ignored) throws Exception {
            PrintWriter err = spec.commandLine().getErr();
            Path dir = Path.of("/var/tmp");
            SwapFiles swapFiles = new SwapFiles(Host.system());
            for (String line : Leftovers.reclaimSwapFiles(dir, swapFiles, Path.of("/proc"))) {
                err.println("memwarden bench density: " + line);
            }
            Path created = null;
            Thread hook = null;
            try {
                HostFacts h = HostProbe.probe();
                if (h.swapTotal() == 0 && opts.nodeSwapBytes() > 0) {
                    Path f = dir.resolve(RunOwner.current().name(Leftovers.SWAP_PREFIX) + Leftovers.SWAP_SUFFIX);
                    err.println("memwarden bench density: no swap is on: creating a temporary "
                            + (opts.nodeSwapBytes() >> 20) + " MiB swap file " + f);
                    err.flush();
                    swapFiles.create(f, opts.nodeSwapBytes() + (64L << 20), OptionalInt.empty());
                    created = f;
                    Path toRemove = f;
                    hook = new Thread(() -> {
                        try {
                            swapFiles.remove(toRemove);
                        } catch (SwapDeviceException e) {
                            System.err.println("memwarden bench density: cleanup: " + e.getMessage());
                        }
                    }, "memwarden-bench-density-cleanup");
                    Runtime.getRuntime().addShutdownHook(hook);
                    h = HostProbe.probe();
                }
                DensityBench.Options o = opts;
                if (h.swapTotal() < o.nodeSwapBytes()) {
                    err.println("memwarden bench density: only " + (h.swapTotal() >> 20) + " MiB of swap is on: the"
                            + " node gets that, not --node-swap " + nodeSwap);
                    o = new DensityBench.Options(o.nodeBytes(), h.swapTotal(), o.hotMiB(), o.coldMiB(), o.sloRate(),
                            o.policies(), o.maxPods(), o.step(), o.out());
                }
                return DensityBench.run(h, o, err);
            } finally {
                if (created != null) {
                    swapFiles.remove(created);
                    try {
                        Runtime.getRuntime().removeShutdownHook(hook);
                    } catch (IllegalStateException shuttingDown) {
                        // the hook runs
                    }
                    err.println("memwarden bench density: temporary swap file switched off and removed");
                    err.flush();
                }
            }
        }
    }
}
