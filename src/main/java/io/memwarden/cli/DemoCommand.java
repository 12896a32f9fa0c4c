package io.memwarden.cli;

import io.memwarden.cgroup.CgroupWriteException;
import io.memwarden.cgroup.HostFacts;
import io.memwarden.cgroup.HostProbe;
import io.memwarden.input.InputException;
import io.memwarden.input.KubeletConfigReader;
import io.memwarden.input.PodManifestReader;
import io.memwarden.input.WardenConfigReader;
import io.memwarden.input.YamlDocs;
import io.memwarden.kernel.Host;
import io.memwarden.kernel.SwapDeviceException;
import io.memwarden.kernel.SwapFiles;
import io.memwarden.model.CgroupFiles;
import io.memwarden.model.CgroupVersion;
import io.memwarden.model.KubeQuantity;
import io.memwarden.model.NodeFacts;
import io.memwarden.model.PodSpec;
import io.memwarden.policy.KubeletSettings;
import io.memwarden.policy.Plan;
import io.memwarden.policy.Planner;
import io.memwarden.policy.WardenConfig;
import io.memwarden.runner.Leftovers;
import io.memwarden.runner.RunOwner;
import io.memwarden.runner.RunView;
import io.memwarden.runner.StandaloneRunner;
import io.memwarden.runner.SwapDemo;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "demo", mixinStandardHelpOptions = true,
        footerHeading = "%nExamples:%n",
        footer = {"  memwarden demo",
                "  memwarden demo --swap-size 512Mi --timeout 90s"},
        description = {"The swap demo: one pod, three containers with a 100M limit each holding ~80 MiB, in three"
                + " swap classes — bronze (c0-lowprio), silver (c1-normal) and no swap (c2-noswap) — run for real in"
                + " cgroups on this host, then a verdict from their VmRSS/VmSwap. Creates a temporary swap file when"
                + " no swap is on, and removes everything it created at the end (also on Ctrl-C); at start, removes what a"
                + " demo or run killed with SIGKILL left (cgroups, processes, swap file).",
                "Needs root and a cgroup memory controller with swap accounting; without them it explains why and"
                + " shows the plan for the same pod.",
                "",
                "Exit codes: 0 the demo ran and its verdict holds (or the plan was shown instead); 1 the verdict does"
                + " not hold or a step failed."})
final class DemoCommand implements Callable<Integer> {

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** Where the temporary swap file goes. */
    static final Path SWAP_DIR = Path.of("/var/tmp");

    @Option(names = "--swap-size", defaultValue = "512Mi", paramLabel = "SIZE",
            description = "Size of the temporary swap file when no swap is on (default ${DEFAULT-VALUE}).")
    String swapSize;

    @Option(names = "--timeout", defaultValue = "90s", paramLabel = "DURATION",
            description = "How long the containers may take to fill their memory (default ${DEFAULT-VALUE}).")
    String timeout;

    static String resource(String name) throws IOException {
        try (InputStream in = DemoCommand.class.getResourceAsStream("/io/memwarden/demo/" + name)) {
            if (in == null) {
                throw new IOException("demo resource " + name + " is missing from the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        PodSpec pod = PodManifestReader.parse("demo/pod.yaml", YamlDocs.readAll("demo/pod.yaml", resource("pod.yaml")))
                .pods().getFirst();
        KubeletSettings kubelet = KubeletConfigReader.parse("demo/kubelet-config.yaml",
                YamlDocs.readAll("demo/kubelet-config.yaml", resource("kubelet-config.yaml")).getFirst());
        WardenConfig config = WardenConfigReader.parse("demo/memwarden.yaml",
                YamlDocs.readAll("demo/memwarden.yaml", resource("memwarden.yaml")).getFirst());
        HostFacts host = HostProbe.probe();

        String cannot = null;
        if (host.memoryController() == null) {
            cannot = "this host has no cgroup memory controller";
        } else if (!Files.isWritable(host.ownMemoryCgroup())) {
            cannot = "creating cgroups under " + host.ownMemoryCgroup() + " needs root";
        } else if (!host.swapAccounting()) {
            cannot = "the memory controller does not account swap (no "
                    + (host.memoryController() == CgroupVersion.V1 ? "memory.memsw.* files" : CgroupFiles.MEMORY_SWAP_MAX) + ")";
        }
        if (cannot != null) {
            out.println("memwarden demo: cannot run the demo here: " + cannot + ".");
            out.println("Showing the plan for the demo pod instead (bin/memwarden plan -f examples/demo/pod.yaml"
                    + " --config examples/demo/memwarden.yaml ...):");
            out.println();
            NodeFacts nf = host.memoryController() != null ? host.toNodeFacts()
                    : new NodeFacts(host.memTotal() > 0 ? host.memTotal() : 16L << 30, 1L << 30, CgroupVersion.V2, true,
                    4096, null, host.kernelVersion());
            Plan plan = new Planner(nf, kubelet, config).plan(java.util.List.of(pod), null, java.util.List.of());
            PlanOutput.write(plan, PlanOutput.Format.table, out);
            return ExitCodes.OK;
        }

        long size;
        java.time.Duration wait;
        try {
            size = KubeQuantity.parse(swapSize).bytes();
            wait = YamlDocs.goDuration(timeout);
        } catch (IllegalArgumentException e) {
            err.println("memwarden demo: " + e.getMessage());
            return ExitCodes.USAGE;
        }
        AtomicReference<StandaloneRunner> runner = new AtomicReference<>();
        AtomicReference<Path> swapFile = new AtomicReference<>();
        SwapFiles swapFiles = new SwapFiles(Host.system());
        // what a demo or run killed with SIGKILL left: cgroups and processes below this cgroup, swap files
        java.util.List<String> reclaimed = new java.util.ArrayList<>(Leftovers.reclaimRuns(host.ownMemoryCgroup(),
                host.memoryController() == CgroupVersion.V2, Path.of("/proc")));
        reclaimed.addAll(Leftovers.reclaimSwapFiles(SWAP_DIR, swapFiles, Path.of("/proc")));
        for (String line : reclaimed) {
            err.println("memwarden demo: " + line);
        }
        err.flush();
        if (!reclaimed.isEmpty()) {
            host = HostProbe.probe(); // a swap file switched off changes the swap total
        }
        Runnable cleanup = () -> {
            StandaloneRunner r = runner.getAndSet(null);
            if (r != null) {
                try {
                    r.close();
                } catch (IOException e) {
                    System.err.println("memwarden demo: cleanup: " + e.getMessage());
                }
            }
            Path f = swapFile.getAndSet(null);
            if (f != null) {
                try {
                    swapFiles.remove(f);
                } catch (SwapDeviceException e) {
                    System.err.println("memwarden demo: cleanup: " + e.getMessage());
                }
            }
        };
        Thread hook = new Thread(cleanup, "memwarden-demo-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            out.println("host: " + host.describe().replace("\n", "\n      "));
            if (host.swapTotal() == 0) {
                // named after this process and its start time: the next demo can tell its owner is gone (Leftovers)
                Path f = SWAP_DIR.resolve(RunOwner.current().name(Leftovers.SWAP_PREFIX) + Leftovers.SWAP_SUFFIX);
                out.println("no swap is on: creating a temporary " + RunView.size(size) + " swap file " + f);
                try {
                    swapFiles.create(f, size, OptionalInt.empty());
                } catch (SwapDeviceException e) {
                    err.println("memwarden demo: cannot create a swap file: " + e.getMessage());
                    return ExitCodes.FAILURE;
                }
                swapFile.set(f);
                host = HostProbe.probe();
            }
            Plan plan = new Planner(host.toNodeFacts(), kubelet, config).plan(java.util.List.of(pod), null,
                    java.util.List.of());
            if (plan.hasErrors()) {
                plan.errors().forEach(e -> err.println("memwarden demo: " + e.message()));
                return ExitCodes.FAILURE;
            }
            out.println("running pod " + pod.key() + " (cgroup v" + host.memoryController().number() + ") ...");
            out.flush();
            SwapDemo.Result result = SwapDemo.run(host, plan, pod, wait, out, r -> runner.set(r.dieWithRunner(true)));
            runner.set(null);
            out.println();
            out.print(table(result));
            out.println();
            result.verdicts().forEach(out::println);
            out.println(result.holds() ? "verdict: the three swap classes behave as configured"
                    : "verdict: the swap classes did NOT behave as expected");
            return result.holds() ? ExitCodes.OK : ExitCodes.FAILURE;
        } catch (CgroupWriteException | IOException e) {
            err.println("memwarden demo: " + e.getMessage());
            return ExitCodes.FAILURE;
        } finally {
            cleanup.run();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs
            }
            out.println("cleaned up: cgroups removed" + " and temporary swap (if any) switched off and deleted");
            out.flush();
        }
    }

    static String table(SwapDemo.Result r) {
        StringBuilder b = new StringBuilder();
        b.append(String.format("%-11s %-7s %-14s %-10s %-10s %s%n", "CONTAINER", "CLASS", "SWAP", "VmRSS", "VmSwap",
                "CGROUP (as written)"));
        for (SwapDemo.Row row : r.rows()) {
            b.append(String.format("%-11s %-7s %-14s %-10s %-10s %s%n", row.container(),
                    row.memoryQosClass() == null ? "-" : row.memoryQosClass(), row.swapBehavior(),
                    RunView.size(row.rssBytes()), RunView.size(row.swapBytes()),
                    row.cgroup().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                            .collect(Collectors.joining(" "))));
        }
        return b.toString();
    }
}
