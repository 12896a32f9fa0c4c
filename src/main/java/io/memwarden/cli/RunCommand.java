package io.memwarden.cli;

import io.memwarden.api.ApiServer;
import io.memwarden.api.ListenAddress;
import io.memwarden.api.OomKillWatch;
import io.memwarden.api.RunStatus;
import io.memwarden.cgroup.CgroupWriteException;
import io.memwarden.cgroup.HostFacts;
import io.memwarden.input.InputException;
import io.memwarden.kernel.Kmsg;
import io.memwarden.kernel.PsiTrigger;
import io.memwarden.input.PodManifestReader;
import io.memwarden.input.YamlDocs;
import io.memwarden.model.NodeFacts;
import io.memwarden.policy.Plan;
import io.memwarden.policy.Planner;
import io.memwarden.model.Clock;
import io.memwarden.control.PressureGuard;
import io.memwarden.control.WakeUp;
import io.memwarden.runner.ContainerStatus;
import io.memwarden.runner.ControlLoops;
import io.memwarden.runner.Leftovers;
import io.memwarden.runner.LoopWakeUp;
import io.memwarden.runner.RunView;
import io.memwarden.runner.StandaloneRunner;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Run the pods of a workload file on this host under memwarden: plan them against the detected"
                + " node, create their cgroups under a parent memwarden owns (below its own cgroup), apply the plan,"
                + " start each container's command in its cgroup, and show a live table. When the containers end, on"
                + " --duration, or on SIGTERM/SIGINT (Ctrl-C), stop every process and remove every cgroup it created."
                + " At start, the cgroups and processes a run killed with SIGKILL left below the same cgroup are"
                + " reclaimed. docs/runner.md.",
                "",
                "Exit codes: 0 all containers ran (and exited 0 or were stopped, by --duration or a signal); 1 a pod"
                + " could not be planned, a cgroup write failed, or a container failed (non-zero exit, OOM kill); 2"
                + " usage or invalid input."})
final class RunCommand implements Callable<Integer> {

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = {"-f", "--filename"}, required = true, paramLabel = "WORKLOAD.yaml",
            description = "Pod manifests whose containers have a command.")
    Path workload;

    @Option(names = "--node", defaultValue = "auto", paramLabel = "auto|NODE.yaml",
            description = "Node facts; 'auto' (default) detects this host. A file must match the host's cgroup version.")
    String node;

    @Option(names = "--kubelet-config", paramLabel = "KCFG.yaml", description = "A KubeletConfiguration document.")
    Path kubeletConfig;

    @Option(names = "--config", paramLabel = "CFG.yaml", description = "memwarden's config.")
    Path config;

    @Option(names = "--duration", paramLabel = "DURATION", description = "Stop after this long (e.g. 30s, 2m).")
    String duration;

    @Option(names = "--interval", paramLabel = "DURATION", defaultValue = "2s",
            description = "Refresh period of the table (default ${DEFAULT-VALUE}).")
    String interval;

    @Option(names = "--logs", paramLabel = "DIR", description = "Directory for container logs (default: a temp dir).")
    Path logs;

    @Option(names = "--loops", paramLabel = "LIST", split = ",", defaultValue = "guard,throttle,offload",
            description = "Control loops to run: guard (pressure guard), throttle (memory.high relief), offload (cold"
                    + " memory offload), or none (default: ${DEFAULT-VALUE}).")
    List<String> loops;

    @Option(names = "--v1-offload", paramLabel = "METHOD", defaultValue = "madvise",
            description = "How the offload loop moves cold memory out on cgroup v1: madvise (page out what clear_refs"
                    + " sampling finds cold) or limit (limit probing) (default: ${DEFAULT-VALUE}).")
    String v1Offload;

    @Option(names = "--v2-offload", paramLabel = "METHOD", defaultValue = "reclaim",
            description = "How the offload loop moves cold memory out on cgroup v2: madvise (page out what clear_refs"
                    + " sampling finds cold; memory.reclaim where that cannot work) or reclaim (memory.reclaim under"
                    + " a PSI target) (default: ${DEFAULT-VALUE}).")
    String v2Offload;

    @Option(names = "--dry-run", description = "Control loops log what they would do and do nothing.")
    boolean dryRun;

    @Option(names = "--confine", paramLabel = "SIZE",
            description = "Give the whole workload's cgroup this memory limit and let it stand in for the node (the"
                    + " pressure guard's capacity), so pressure scenarios never touch the host's memory.")
    String confine;

    @Option(names = "--protect", paramLabel = "NS/NAME", split = ",",
            description = "Pods the pressure guard never evicts (critical pods never are anyway).")
    List<String> protect = List.of();

    @Option(names = "--listen", paramLabel = "[HOST:]PORT",
            description = "Serve GET /metrics (Prometheus), /status (JSON) and /healthz on this address for the run's"
                    + " lifetime, e.g. 127.0.0.1:9767. Without a host: 127.0.0.1. Off by default.")
    String listen;

    @Option(names = "--status-from-network",
            description = "Serve GET /status (every pod's plan) to clients that are not on loopback too (default:"
                    + " loopback only; /metrics and /healthz are served wherever --listen binds).")
    boolean statusFromNetwork;

    @Option(names = "--psi-trigger", paramLabel = "SPEC|off", defaultValue = "some 150000 2000000",
            description = "PSI trigger on /proc/pressure/memory that wakes the control loops before their period"
                    + " ends: \"some|full <stall us> <window us>\", the window a multiple of 2 s up to 10 s; off: the"
                    + " fixed period only (default: ${DEFAULT-VALUE}).")
    String psiTrigger;

    /** The loops' fixed period. */
    static final long LOOP_PERIOD_MILLIS = 200;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Duration every;
        Duration limit = null;
        HostFacts host;
        Planner planner;
        PodManifestReader.Result manifests;
        ListenAddress listenAddress = null;
        if (listen != null) {
            try {
                listenAddress = ListenAddress.parse(listen);
            } catch (IllegalArgumentException e) {
                err.println("memwarden run: --listen " + e.getMessage());
                return ExitCodes.USAGE;
            }
            try {
                io.memwarden.api.ApiLimits.configure();
            } catch (io.memwarden.api.ApiLimits.Invalid e) {
                err.println("memwarden run: --listen: " + e.getMessage());
                return ExitCodes.USAGE;
            }
            if (!listenAddress.loopback()) {
                err.println("memwarden run: warning: --listen " + listen + " is not a loopback address: /metrics and"
                        + " /healthz are reachable from the network; /status "
                        + (statusFromNetwork ? "too (--status-from-network)" : "is served to loopback clients only"));
            }
        }
        PsiTrigger.Spec psiSpec;
        try {
            psiSpec = "off".equals(psiTrigger.trim()) ? null : PsiTrigger.Spec.parse(psiTrigger);
        } catch (IllegalArgumentException e) {
            err.println("memwarden run: --psi-trigger " + e.getMessage() + " (or off)");
            return ExitCodes.USAGE;
        }
        try {
            every = YamlDocs.goDuration(interval);
            if (duration != null) {
                limit = YamlDocs.goDuration(duration);
            }
            host = NodeSource.host();
            NodeFacts nf = NodeSource.node(node, host);
            if (nf.cgroupVersion() != host.memoryController()) {
                throw new InputException("--node " + node + " says cgroup v" + nf.cgroupVersion().number()
                        + " but this host's memory controller is cgroup v" + host.memoryController().number());
            }
            planner = NodeSource.planner(nf, kubeletConfig, config);
            manifests = PodManifestReader.read(workload);
        } catch (InputException | IllegalArgumentException e) {
            err.println("memwarden run: " + e.getMessage());
            return ExitCodes.USAGE;
        }
        Plan plan = planner.plan(manifests.pods(), null, manifests.errors());
        for (String w : plan.node().errors()) {
            err.println("memwarden run: note: " + w);
        }
        if (plan.hasErrors()) {
            for (Plan.PlanError e : plan.errors()) {
                err.println("memwarden run: " + e.pod() + (e.container() == null ? "" : " container " + e.container())
                        + ": " + e.message());
            }
            err.println("memwarden run: nothing started (fix the errors above; `memwarden plan` shows the full plan)");
            return ExitCodes.FAILURE;
        }
        if (!Files.isWritable(host.ownMemoryCgroup())) {
            err.println("memwarden run: cannot create cgroups under " + host.ownMemoryCgroup()
                    + " (not writable: run as root)");
            return ExitCodes.FAILURE;
        }
        Path logDir = logs != null ? logs : Files.createTempDirectory("memwarden-run-logs-");
        java.util.Set<String> loopSet = new java.util.HashSet<>(loops);
        for (String l : loopSet) {
            if (!java.util.Set.of("guard", "throttle", "offload", "none").contains(l)) {
                err.println("memwarden run: --loops: unknown loop \"" + l + "\" (guard, throttle, offload, none)");
                return ExitCodes.USAGE;
            }
        }
        ControlLoops.V1Offload v1Method;
        try {
            v1Method = ControlLoops.V1Offload.parse(v1Offload);
        } catch (IllegalArgumentException e) {
            err.println("memwarden run: --v1-offload: " + e.getMessage());
            return ExitCodes.USAGE;
        }
        ControlLoops.V2Offload v2Method;
        try {
            v2Method = ControlLoops.V2Offload.parse(v2Offload);
        } catch (IllegalArgumentException e) {
            err.println("memwarden run: --v2-offload: " + e.getMessage());
            return ExitCodes.USAGE;
        }
        long confineBytes = 0;
        if (confine != null) {
            try {
                confineBytes = io.memwarden.model.KubeQuantity.parse(confine).bytes();
            } catch (IllegalArgumentException e) {
                err.println("memwarden run: --confine: " + e.getMessage());
                return ExitCodes.USAGE;
            }
        }
        // what a run killed with SIGKILL left below this cgroup: its processes and cgroups (docs/runner.md)
        for (String line : Leftovers.reclaimRuns(host.ownMemoryCgroup(),
                host.memoryController() == io.memwarden.model.CgroupVersion.V2, Path.of("/proc"))) {
            err.println("memwarden run: " + line);
        }
        err.flush();
        StandaloneRunner runner = new StandaloneRunner(host, plan, manifests.pods(), logDir).confineTo(confineBytes)
                .dieWithRunner(true);
        java.util.concurrent.atomic.AtomicReference<ControlLoops> controlRef = new java.util.concurrent.atomic.AtomicReference<>();
        Thread hook = new Thread(() -> {
            try {
                runner.close();
                if (controlRef.get() != null) {
                    controlRef.get().close();
                }
            } catch (IOException e) {
                System.err.println("memwarden run: cleanup: " + e.getMessage());
            }
        }, "memwarden-run-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
        // SIGTERM/SIGINT stop the run as --duration does (StopSignals); while the containers start (init containers
        // run to completion) the start is interrupted instead, and cleans up after itself
        Thread main = Thread.currentThread();
        java.util.concurrent.atomic.AtomicBoolean starting = new java.util.concurrent.atomic.AtomicBoolean(true);
        StopSignals signals = StopSignals.install("memwarden run: ", err, () -> {
            synchronized (starting) {
                if (starting.get()) {
                    main.interrupt();
                }
            }
        });
        ApiServer api = null;
        OomKillWatch oomWatch = null;
        try {
            try {
                runner.start();
            } finally {
                synchronized (starting) {
                    starting.set(false);
                    Thread.interrupted(); // a signal's interrupt that came as the start ended
                }
            }
            out.println("memwarden run: cgroups under " + runner.root() + ", logs in " + logDir);
            out.flush();
            boolean tty = System.console() != null && spec.commandLine().getOut() != null;
            long capacity = confineBytes > 0 ? confineBytes : host.memTotal();
            ControlLoops control = new ControlLoops(host, runner, plan, manifests.pods(), new ControlLoops.Options(
                    loopSet.contains("guard"), loopSet.contains("throttle"), loopSet.contains("offload"), dryRun,
                    PressureGuard.Config.defaults(capacity), new java.util.HashSet<>(protect),
                    confineBytes > 0 ? runner.root() : null, v1Method, v2Method), Clock.SYSTEM, line -> {
                        err.println("memwarden run: " + line);
                        err.flush();
                    });
            controlRef.set(control);
            // OOM watch: every kernel OOM kill is logged (with the pod and container when it is one of ours) and
            // counted for /metrics
            String rootRel = "/" + host.memoryMount().relativize(runner.root());
            try {
                oomWatch = OomKillWatch.start(e -> {
                    String where = e.systemOom() ? "system OOM (" + e.systemOomMessage() + ")" : "cgroup "
                            + e.victimCgroup();
                    String ours = "";
                    if (e.containerCgroup().startsWith(rootRel + "/")) {
                        for (var s : runner.snapshot()) {
                            if (e.containerCgroup().equals("/" + host.memoryMount().relativize(s.cgroup()))) {
                                ours = " in " + s.pod() + " container " + s.container();
                            }
                        }
                    }
                    err.println("memwarden run: OOM kill: pid " + e.pid() + " (" + e.process() + ")" + ours + ", " + where
                            + ", constraint " + (e.constraint().isEmpty() ? "-" : e.constraint()));
                    err.flush();
                }, w -> {
                    err.println("memwarden run: OOM watch: " + w);
                    err.flush();
                });
            } catch (IOException e) {
                err.println("memwarden run: note: kernel OOM kills are not watched (" + Kmsg.PATH + ": "
                        + e.getMessage() + ")");
            }
            if (listenAddress != null) {
                try {
                    api = ApiServer.start(listenAddress.address(), new RunStatus(host, runner, plan, control,
                            confineBytes > 0 ? runner.root() : null, oomWatch), true, statusFromNetwork);
                } catch (IOException e) {
                    throw new IOException("--listen " + listen + ": " + e.getMessage(), e);
                }
                out.println("memwarden run: serving " + api.url() + "/metrics, /status, /healthz");
                out.flush();
            }
            boolean anyLoop = loopSet.stream().anyMatch(l -> !l.equals("none"));
            // a platform thread: the PSI trigger's poll(2) through FFM would pin a virtual thread's carrier
            Thread loopThread = Thread.ofPlatform().daemon().name("memwarden-loops").start(() -> {
                if (!anyLoop) {
                    return;
                }
                try (LoopWakeUp wake = LoopWakeUp.open(psiSpec, PsiTrigger.SYSTEM_MEMORY, RunCommand::sleep,
                        () -> Thread.currentThread().isInterrupted(), line -> {
                            err.println("memwarden run: " + line);
                            err.flush();
                        })) {
                    String wokenBy = null;
                    while (!Thread.currentThread().isInterrupted()) {
                        try {
                            control.tick(wokenBy);
                        } catch (IOException | RuntimeException e) {
                            err.println("memwarden run: control loops: " + e.getMessage());
                        }
                        WakeUp.Reason r = wake.await(LOOP_PERIOD_MILLIS);
                        if (r == WakeUp.Reason.STOPPED) {
                            return;
                        }
                        wokenBy = wake.wokenBy(r);
                    }
                }
            });
            long end = limit == null ? Long.MAX_VALUE : System.nanoTime() + limit.toNanos();
            while (!runner.finished() && System.nanoTime() < end && signals.received() == null) {
                long until = System.nanoTime() + Math.min(every.toNanos(), Math.max(1, end - System.nanoTime()));
                while (!runner.finished() && System.nanoTime() < until
                        && !signals.awaitStop(Math.clamp((until - System.nanoTime()) / 1_000_000, 1, 50))) {
                    // the table's refresh period, ended early by the containers' end or a stop signal
                }
                List<ContainerStatus> s = runner.snapshot();
                if (tty) {
                    out.print("\033[H\033[2J");
                }
                out.println(LocalTime.now().truncatedTo(ChronoUnit.SECONDS) + "  (Ctrl-C stops and cleans up)");
                out.print(RunView.table(s));
                out.flush();
            }
            loopThread.interrupt();
            try {
                loopThread.join(2000); // its PSI wait ends within one slice (250 ms)
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            List<ContainerStatus> last = runner.snapshot();
            out.println("final state:");
            out.print(RunView.table(last));
            boolean failed = last.stream().anyMatch(c -> !c.running() && c.exitCode() != 0);
            return failed ? ExitCodes.FAILURE : ExitCodes.OK;
        } catch (InterruptedException e) {
            // a stop signal while the containers started: start() removed what it had created (said below)
            return ExitCodes.OK;
        } catch (CgroupWriteException e) {
            err.println("memwarden run: " + e.getMessage() + " (nothing left behind)");
            return ExitCodes.FAILURE;
        } catch (IOException | IllegalArgumentException e) {
            if (signals.received() != null && e instanceof java.nio.channels.ClosedByInterruptException) {
                return ExitCodes.OK; // the signal's interrupt ended a file operation of the start
            }
            err.println("memwarden run: " + e.getMessage() + " (nothing left behind)");
            return ExitCodes.FAILURE;
        } finally {
            if (api != null) {
                api.close();
            }
            if (oomWatch != null) {
                oomWatch.close();
            }
            runner.close();
            if (controlRef.get() != null) {
                try {
                    controlRef.get().close();
                } catch (IOException e) {
                    err.println("memwarden run: cleanup: " + e.getMessage());
                }
            }
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running
            }
            if (signals.received() != null) {
                err.println("memwarden run: stopped by " + signals.received() + ": every process it started killed,"
                        + " every cgroup it created removed");
            }
            signals.close();
            out.flush();
            err.flush();
        }
    }

    /** The loops' sleep without a trigger: true when interrupted (the run is ending). */
    private static boolean sleep(long millis) {
        try {
            Thread.sleep(millis);
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return true;
        }
    }
}
