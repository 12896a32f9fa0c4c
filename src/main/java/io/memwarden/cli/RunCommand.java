package io.memwarden.cli;

import io.memwarden.api.ApiLimits;
import io.memwarden.api.ApiServer;
import io.memwarden.api.ListenAddress;
import io.memwarden.cgroup.CgroupWriteException;
import io.memwarden.cgroup.HostFacts;
import io.memwarden.model.Clock;
import io.memwarden.control.KubeletEviction;
import io.memwarden.control.PressureGuard;
import io.memwarden.input.InputException;
import io.memwarden.input.KubeletConfigReader;
import io.memwarden.input.PodManifestReader;
import io.memwarden.input.YamlDocs;
import io.memwarden.kernel.Kmsg;
import io.memwarden.kernel.PsiTrigger;
import io.memwarden.loops.ContainerStatus;
import io.memwarden.loops.ControlLoops;
import io.memwarden.loops.LoopOptions;
import io.memwarden.loops.LoopThread;
import io.memwarden.loops.OomAttribution;
import io.memwarden.loops.OomKillWatch;
import io.memwarden.loops.RunStatus;
import io.memwarden.model.CgroupVersion;
import io.memwarden.model.KubeQuantity;
import io.memwarden.model.NodeFacts;
import io.memwarden.policy.Plan;
import io.memwarden.policy.PlanWarnings;
import io.memwarden.policy.Planner;
import io.memwarden.control.WakeUp;
import io.memwarden.runner.Leftovers;
import io.memwarden.runner.RunView;
import io.memwarden.runner.StandaloneRunner;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.channels.ClosedByInterruptException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "run", mixinStandardHelpOptions = true,
        footerHeading = "%nExamples:%n",
        footer = {"  memwarden run -f examples/demo/pod.yaml \\",
                "      --config examples/demo/memwarden.yaml \\",
                "      --kubelet-config examples/demo/kubelet-config.yaml",
                "  memwarden run -f examples/demo/pod.yaml --duration 60s \\",
                "      --listen 127.0.0.1:9767",
                "  memwarden run -f examples/demo/pod.yaml --dry-run"},
        description = {"Run the pods of a workload file on this host under memwarden: plan them against the detected"
                + " node, create their cgroups under a parent memwarden owns (below its own cgroup), apply the plan,"
                + " start each container's command in its cgroup, and show a live table (on a terminal; otherwise the table"
                + " once, then one line per change). When the containers end, on"
                + " --duration, or on SIGTERM/SIGINT (Ctrl-C), stop every process and remove every cgroup it created."
                + " At start, the cgroups and processes a run killed with SIGKILL left below the same cgroup are"
                + " reclaimed. docs/runner.md.",
                "",
                "Exit codes: 0 all containers ran (and exited 0 or were stopped, by --duration or a signal); 1 a pod"
                + " could not be planned, a cgroup write failed, or a container failed (non-zero exit, OOM kill); 2"
                + " usage or invalid input."})
final class RunCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = {"-f", "--filename"}, required = true, paramLabel = "WORKLOAD.yaml",
            description = "Pod manifests whose containers have a command.")
    Path workload;

    @Option(names = "--node", defaultValue = "auto", paramLabel = "auto|NODE.yaml",
            description = "Node facts; 'auto' (default) detects this host. A file must match the host's cgroup version.")
    String node;

    @Option(names = "--kubelet-config", paramLabel = "KCFG.yaml", description = "A KubeletConfiguration document"
            + " (its memory.available eviction thresholds also drive the pressure guard).")
    Path kubeletConfig;

    /** the kubelet's eviction settings the guard acts on: from --kubelet-config, none without it */
    private KubeletEviction.Settings kubeletEviction = KubeletEviction.Settings.NONE;

    @Option(names = "--config", paramLabel = "CFG.yaml", description = "memwarden's config.")
    Path config;

    @Option(names = "--duration", paramLabel = "DURATION", description = "Stop after this long (e.g. 30s, 2m).")
    String duration;

    @Option(names = "--interval", paramLabel = "DURATION", defaultValue = "2s",
            description = "Refresh period of the table (or how often changes are looked for) (default ${DEFAULT-VALUE}).")
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
    private static final String PREFIX = "memwarden run: ";

    /** What the options and the host came to, checked before anything is created. */
    private record Inputs(HostFacts host, Plan plan, PodManifestReader.Result manifests, Duration every,
                          Duration limit, ListenAddress listen, PsiTrigger.Spec psiTrigger, Path logDir,
                          Set<String> loops, LoopOptions.V1Offload v1Method, LoopOptions.V2Offload v2Method,
                          long confineBytes) {}

    /** The run ends before it started: what to say and the exit code. */
    private static final class Refused extends Exception {
        final int exitCode;

        Refused(int exitCode, String message) {
            super(message, null, false, false);
            this.exitCode = exitCode;
        }
    }

    private PrintWriter out;
    private PrintWriter err;

    @Override
    public Integer call() throws Exception {
        out = spec.commandLine().getOut();
        err = spec.commandLine().getErr();
        Inputs in;
        try {
            in = inputs();
        } catch (Refused r) {
            err.println(PREFIX + r.getMessage());
            return r.exitCode;
        }
        reclaimLeftovers(in.host());
        return run(in);
    }

    /** 1. The options, the node, the plan; the checks before anything is created (exit 2, or 1). */
    private Inputs inputs() throws Refused, IOException {
        ListenAddress listenAddress = listenAddress();
        PsiTrigger.Spec psiSpec;
        try {
            psiSpec = "off".equals(psiTrigger.trim()) ? null : PsiTrigger.Spec.parse(psiTrigger);
        } catch (IllegalArgumentException e) {
            throw new Refused(ExitCodes.USAGE, "--psi-trigger " + e.getMessage() + " (or off)");
        }
        Duration every;
        Duration limit = null;
        HostFacts host;
        Planner planner;
        PodManifestReader.Result manifests;
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
            kubeletEviction = kubeletConfig == null ? KubeletEviction.Settings.NONE
                    : KubeletEviction.Settings.of(KubeletConfigReader.read(kubeletConfig));
            manifests = PodManifestReader.read(workload);
        } catch (InputException | IllegalArgumentException e) {
            throw new Refused(ExitCodes.USAGE, e.getMessage());
        }
        Plan plan = plan(planner, manifests);
        if (!Files.isWritable(host.ownMemoryCgroup())) {
            throw new Refused(ExitCodes.FAILURE, "cannot create cgroups under " + host.ownMemoryCgroup()
                    + " (not writable: run as root)");
        }
        Path logDir = logs != null ? logs : Files.createTempDirectory("memwarden-run-logs-");
        Set<String> loopSet = new HashSet<>(loops);
        for (String l : loopSet) {
            if (!Set.of("guard", "throttle", "offload", "none").contains(l)) {
                throw new Refused(ExitCodes.USAGE, "--loops: unknown loop \"" + l + "\" (guard, throttle, offload, none)");
            }
        }
        return new Inputs(host, plan, manifests, every, limit, listenAddress, psiSpec, logDir, loopSet,
                usage("--v1-offload: ", () -> LoopOptions.V1Offload.parse(v1Offload)),
                usage("--v2-offload: ", () -> LoopOptions.V2Offload.parse(v2Offload)),
                confine == null ? 0 : usage("--confine: ", () -> KubeQuantity.parse(confine).bytes()));
    }

    /** {@code --listen}: the address (null: off), with the API's limits configured. */
    private ListenAddress listenAddress() throws Refused {
        if (listen == null) {
            return null;
        }
        ListenAddress a = usage("--listen ", () -> ListenAddress.parse(listen));
        try {
            ApiLimits.configure();
        } catch (ApiLimits.Invalid e) {
            throw new Refused(ExitCodes.USAGE, "--listen: " + e.getMessage());
        }
        if (!a.loopback()) {
            err.println(PREFIX + "warning: --listen " + listen + " is not a loopback address: /metrics and"
                    + " /healthz are reachable from the network; /status "
                    + (statusFromNetwork ? "too (--status-from-network)" : "is served to loopback clients only"));
        }
        return a;
    }

    /** An option's value; its IllegalArgumentException is a usage error said after {@code option}. */
    private static <T> T usage(String option, Supplier<T> value) throws Refused {
        try {
            return value.get();
        } catch (IllegalArgumentException e) {
            throw new Refused(ExitCodes.USAGE, option + e.getMessage());
        }
    }

    /** The plan of the workload; its notes said, its errors refused (exit 1). */
    private Plan plan(Planner planner, PodManifestReader.Result manifests) throws Refused {
        Plan plan = planner.plan(manifests.pods(), null, manifests.errors());
        for (String w : plan.node().errors()) {
            err.println(PREFIX + "note: " + w);
        }
        if (plan.hasErrors()) {
            for (Plan.PlanError e : plan.errors()) {
                err.println(PREFIX + e.pod() + (e.container() == null ? "" : " container " + e.container()) + ": "
                        + e.message());
            }
            throw new Refused(ExitCodes.FAILURE,
                    "nothing started (fix the errors above; `memwarden plan` shows the full plan)");
        }
        // warnings before surprises (policy.PlanWarnings): said before any container starts, one line each
        for (PlanWarnings.Warning w : planner.warnings(manifests.pods().stream().map(planner::planPod).toList())) {
            err.println(PREFIX + "warning: " + w.message());
        }
        err.flush();
        return plan;
    }

    /** 2. What a run killed with SIGKILL left below this cgroup: its processes and cgroups (docs/runner.md). */
    private void reclaimLeftovers(HostFacts host) {
        for (String line : Leftovers.reclaimRuns(host.ownMemoryCgroup(),
                host.memoryController() == CgroupVersion.V2, Path.of("/proc"))) {
            err.println(PREFIX + line);
        }
        err.flush();
    }

    /** 3. Start the containers, then watch, serve and loop until they end, --duration or a signal; then clean up. */
    private int run(Inputs in) throws IOException {
        StandaloneRunner runner = new StandaloneRunner(in.host(), in.plan(), in.manifests().pods(), in.logDir())
                .confineTo(in.confineBytes()).dieWithRunner(true);
        AtomicReference<ControlLoops> controlRef = new AtomicReference<>();
        Thread hook = cleanupHook(runner, controlRef);
        // SIGTERM/SIGINT stop the run as --duration does (StopSignals); while the containers start (init containers
        // run to completion) the start is interrupted instead, and cleans up after itself
        Thread main = Thread.currentThread();
        AtomicBoolean starting = new AtomicBoolean(true);
        StopSignals signals = StopSignals.install(PREFIX, err, () -> {
            synchronized (starting) {
                if (starting.get()) {
                    main.interrupt();
                }
            }
        });
        ApiServer api = null;
        OomKillWatch oomWatch = null;
        try {
            // the watch first: it reads the kernel log from its end, and a container can be OOM-killed at once
            oomWatch = watchOomKills(in.host(), runner);
            start(runner, starting, in.logDir());
            ControlLoops control = controlLoops(in, runner);
            controlRef.set(control);
            api = listen(in, runner, control, oomWatch);
            LoopThread loopThread = in.loops().stream().anyMatch(l -> !l.equals("none"))
                    ? startLoops(control, in.psiTrigger()) : null;
            showUntilDone(runner, signals, in);
            if (loopThread != null) {
                loopThread.stop(Duration.ofSeconds(2)); // its PSI wait ends within one slice (250 ms)
            }
            return finalState(runner);
        } catch (InterruptedException e) {
            // a stop signal while the containers started: start() removed what it had created (said below)
            return ExitCodes.OK;
        } catch (CgroupWriteException e) {
            err.println(PREFIX + e.getMessage() + " (nothing left behind)");
            return ExitCodes.FAILURE;
        } catch (IOException | IllegalArgumentException e) {
            if (signals.received() != null && e instanceof ClosedByInterruptException) {
                return ExitCodes.OK; // the signal's interrupt ended a file operation of the start
            }
            err.println(PREFIX + e.getMessage() + " (nothing left behind)");
            return ExitCodes.FAILURE;
        } finally {
            tearDown(api, oomWatch, runner, controlRef.get(), hook, signals);
        }
    }

    /** On a JVM exit before the end (a second signal): stop the processes, remove the cgroups. */
    private static Thread cleanupHook(StandaloneRunner runner, AtomicReference<ControlLoops> controlRef) {
        Thread hook = new Thread(() -> {
            try {
                runner.close();
                if (controlRef.get() != null) {
                    controlRef.get().close();
                }
            } catch (IOException e) {
                System.err.println(PREFIX + "cleanup: " + e.getMessage());
            }
        }, "memwarden-run-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
        return hook;
    }

    private void start(StandaloneRunner runner, AtomicBoolean starting, Path logDir) throws IOException, CgroupWriteException,
            InterruptedException {
        try {
            runner.start();
        } finally {
            synchronized (starting) {
                starting.set(false);
                Thread.interrupted(); // a signal's interrupt that came as the start ended
            }
        }
        out.println(PREFIX + "cgroups under " + runner.root() + ", logs in " + logDir);
        out.flush();
    }

    private ControlLoops controlLoops(Inputs in, StandaloneRunner runner) {
        long capacity = in.confineBytes() > 0 ? in.confineBytes() : in.host().memTotal();
        return new ControlLoops(in.host(), runner.workload(), new LoopOptions(in.loops().contains("guard"),
                in.loops().contains("throttle"), in.loops().contains("offload"), dryRun,
                PressureGuard.Config.defaults(capacity), new HashSet<>(protect),
                in.confineBytes() > 0 ? runner.root() : null, in.v1Method(), in.v2Method())
                .withKubelet(kubeletEviction, null), Clock.SYSTEM, this::say);
    }

    /**
     * The OOM watch: every kernel OOM kill is logged (with the pod and container when it is one of ours) and counted
     * for /metrics; null when the kernel log cannot be read.
     */
    private OomKillWatch watchOomKills(HostFacts host, StandaloneRunner runner) {
        try {
            return OomKillWatch.start(k -> say("OOM kill: " + k.describe()), w -> say("OOM watch: " + w),
                    OomAttribution.over(runner.workload(), host.memoryMount()));
        } catch (IOException e) {
            err.println(PREFIX + "note: kernel OOM kills are not watched (" + Kmsg.PATH + ": " + e.getMessage() + ")");
            return null;
        }
    }

    /** {@code --listen}: the API over the run's status; null when off. */
    private ApiServer listen(Inputs in, StandaloneRunner runner, ControlLoops control, OomKillWatch oomWatch)
            throws IOException {
        if (in.listen() == null) {
            return null;
        }
        ApiServer api;
        try {
            api = ApiServer.start(in.listen().address(), new RunStatus(in.host(), runner.workload(), control,
                    in.confineBytes() > 0 ? runner.root() : null, oomWatch)::status, true, statusFromNetwork);
        } catch (IOException e) {
            throw new IOException("--listen " + listen + ": " + e.getMessage(), e);
        }
        out.println(PREFIX + "serving " + api.url() + "/metrics, /status, /healthz");
        out.flush();
        return api;
    }

    private LoopThread startLoops(ControlLoops control, PsiTrigger.Spec psiTrigger) {
        LoopThread.Pace pace = new LoopThread.Pace(LOOP_PERIOD_MILLIS, psiTrigger);
        return LoopThread.start(() -> pace, control::tick, this::say,
                e -> err.println(PREFIX + "control loops: " + e.getMessage()));
    }

    /**
     * The live table on a terminal, refreshed every --interval, else one line per change ({@link RunDisplay}), until
     * the containers end, --duration passes or a signal comes.
     */
    private void showUntilDone(StandaloneRunner runner, StopSignals signals, Inputs in) throws InterruptedException {
        RunDisplay display = new RunDisplay(out, OutputTarget.detect().terminal(), LocalTime::now);
        long end = in.limit() == null ? Long.MAX_VALUE : System.nanoTime() + in.limit().toNanos();
        while (!runner.finished() && System.nanoTime() < end && signals.received() == null) {
            long until = System.nanoTime() + Math.min(in.every().toNanos(), Math.max(1, end - System.nanoTime()));
            while (!runner.finished() && System.nanoTime() < until
                    && !signals.awaitStop(Math.clamp((until - System.nanoTime()) / 1_000_000, 1, 50))) {
                // the table's refresh period, ended early by the containers' end or a stop signal
            }
            display.show(runner.snapshot());
        }
    }

    /** The last table; exit 1 when a container failed. */
    private int finalState(StandaloneRunner runner) {
        List<ContainerStatus> last = runner.snapshot();
        out.println("final state:");
        out.print(RunView.table(last));
        boolean failed = last.stream().anyMatch(c -> !c.running() && c.exitCode() != 0);
        return failed ? ExitCodes.FAILURE : ExitCodes.OK;
    }

    /** Stops what runs, kills every process it started and removes every cgroup it created. */
    private void tearDown(ApiServer api, OomKillWatch oomWatch, StandaloneRunner runner, ControlLoops control,
                          Thread hook, StopSignals signals) throws IOException {
        if (api != null) {
            api.close();
        }
        if (oomWatch != null) {
            oomWatch.close();
        }
        runner.close();
        if (control != null) {
            try {
                control.close();
            } catch (IOException e) {
                err.println(PREFIX + "cleanup: " + e.getMessage());
            }
        }
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running
        }
        if (signals.received() != null) {
            err.println(PREFIX + "stopped by " + signals.received() + ": every process it started killed,"
                    + " every cgroup it created removed");
        }
        signals.close();
        out.flush();
        err.flush();
    }

    /** One line on stderr, at once. */
    private void say(String line) {
        err.println(PREFIX + line);
        err.flush();
    }
}
