package io.memwarden.agent;

import io.memwarden.api.ApiServer;
import io.memwarden.api.ListenAddress;
import io.memwarden.cgroup.HostFacts;
import io.memwarden.model.Clock;
import io.memwarden.control.WakeUp;
import io.memwarden.kernel.PsiTrigger;
import io.memwarden.input.ConfigFileWatch;
import io.memwarden.control.KubeletEviction;
import io.memwarden.k8s.ClusterActions;
import io.memwarden.model.Printable;
import io.memwarden.loops.ActionRecord;
import io.memwarden.loops.ContainerStatus;
import io.memwarden.loops.ControlLoops;
import io.memwarden.loops.Evictor;
import io.memwarden.loops.LoopOptions;
import io.memwarden.kernel.Ksm;
import io.memwarden.loops.LoopThread;
import io.memwarden.loops.ManagedWorkload;
import io.memwarden.loops.OomAttribution;
import io.memwarden.loops.OomKillWatch;
import io.memwarden.loops.RunStatus;
import io.memwarden.model.NodeFacts;
import io.memwarden.model.QosClass;
import io.memwarden.nri.NriPlugin;
import io.memwarden.nri.PodSpecSource;
import io.memwarden.policy.KubeletSettings;
import io.memwarden.policy.Plan;
import io.memwarden.policy.Planner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.function.LongSupplier;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node agent: one daemon that wires the pod-spec source, the policy, the NRI plugin, the control loops, the OOM
 * watch, the Kubernetes side ({@link ClusterActions}) and the read-only status API (docs/agent.md).
 * <p>
 * Two ways to reach the containers: as an NRI plugin of the runtime (the default), or standalone
 * ({@link Setup#standalone()}, docs/agent-standalone.md) for runtimes without NRI: a {@link StandaloneApplier} finds
 * the containers in the kubelet's cgroup tree and writes their plans itself, each loop period before the loops run.
 * <p>
 * State: none of its own that matters for correctness. On (re)start the runtime's Synchronize tells the plugin every
 * container (standalone: the first scan finds them), which it plans again; the loops observe the cgroups as they
 * are. On stop it closes its connections and threads and writes nothing: every container keeps the values it has
 * (nothing is unlimited on exit).
 */
public final class Agent implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Agent.class);

    /**
     * @param nriSocket   the runtime's NRI socket
     * @param configPath  the config file (watched for changes), or null for the defaults
     * @param podSource   where pod specs come from first (Kubernetes API cache, manifest), or null for NRI-only
     * @param cluster     the Kubernetes side ({@link ClusterActions#NONE} without one)
     * @param listen      the status API address, or null for none
     * @param standalone  run without NRI (then {@code nriSocket}, {@code pluginOptions} and {@code podSource} are
     *                    unused), or null for the NRI plugin
     */
    public record Setup(HostFacts host, NodeFacts node, KubeletSettings kubelet, AgentConfig config, Path configPath,
                        Path nriSocket, NriPlugin.Options pluginOptions, PodSpecSource podSource, ClusterActions cluster, ListenAddress listen,
                        boolean watchKernelLog, Clock clock, Standalone standalone) {

        /** The NRI plugin's setup. */
        public Setup(HostFacts host, NodeFacts node, KubeletSettings kubelet, AgentConfig config, Path configPath,
                     Path nriSocket, NriPlugin.Options pluginOptions, PodSpecSource podSource, ClusterActions cluster,
                     ListenAddress listen, boolean watchKernelLog, Clock clock) {
            this(host, node, kubelet, config, configPath, nriSocket, pluginOptions, podSource, cluster, listen,
                    watchKernelLog, clock, null);
        }

        /** The memory root the agent looks under: the standalone one, else the host's memory mount. */
        Path memoryRoot() {
            return standalone != null && standalone.memoryRoot() != null ? standalone.memoryRoot()
                    : host.memoryMount();
        }
    }

    /**
     * Standalone mode.
     *
     * @param pods       where the pods of the cgroups found are looked up by uid
     * @param memoryRoot the memory controller's root holding kubepods (null: the host's memory mount); tests point
     *                   it at a tree of their own
     */
    public record Standalone(PodsByUid pods, Path memoryRoot) {}

    private final Setup setup;
    private final NriPlugin plugin;
    private final StandaloneApplier applier;
    private final Supplier<List<NriPlugin.ManagedContainer>> managed;
    private final ManagedWorkload workload;
    private final ControlLoops loops;
    private final AgentMetrics metrics;
    private final PlanWarningWatch warnings;
    /** The node's swap total now; the swap the agent started with unless {@link #swapTotalFrom} says otherwise */
    private volatile LongSupplier swapTotal;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile AgentConfig config;
    private volatile boolean offloadPossible;
    private volatile boolean stopping;
    private Thread nriThread;
    private Thread driftThread;
    private LoopThread loopThread;
    private KsmTuning ksm;
    private ApiServer api;
    private OomKillWatch oomWatch;
    private ConfigFileWatch configWatch;

    /**
     * Builds the agent (nothing runs yet).
     *
     * @throws IllegalArgumentException when the kubelet config does not fit the node
     */
    public Agent(Setup setup, boolean offloadPossible) {
        this.setup = setup;
        this.config = setup.config();
        this.offloadPossible = offloadPossible;
        if (setup.standalone() == null) {
            this.plugin = new NriPlugin(setup.pluginOptions(), setup.node(), setup.kubelet(), setup.config().policy(),
                    setup.podSource());
            this.applier = null;
            this.managed = plugin::managed;
        } else {
            this.plugin = null;
            this.applier = new StandaloneApplier(setup.memoryRoot(), setup.host().memoryController(),
                    setup.host().pageSize(), new Planner(setup.node(), setup.kubelet(), setup.config().policy()),
                    setup.standalone().pods(), this::recordApply);
            this.managed = applier::managed;
        }
        this.workload = new NriWorkload(managed, setup.memoryRoot(), setup.host().memoryController());
        this.metrics = new AgentMetrics();
        this.warnings = new PlanWarningWatch(setup.cluster(), line -> LOG.warn("{}", line));
        this.swapTotal = setup.node()::swapCapacity;
        this.loops = new ControlLoops(setup.host(), workload, loopOptions(config), setup.clock(),
                line -> LOG.info("{}", line));
        applyLoopSettings(config);
        // never move the runtime's processes into memwarden's own cgroup2 groups (the v1 PSI mirror)
        loops.perContainerPsiOnV1(false);
        loops.onAction(this::announce);
        if (plugin != null) {
            plugin.onRequest(metrics::nriRequest);
            plugin.onPlanFailure(this::planFailed);
            plugin.onMounts(metrics::memoryBackedMounts);
        }
    }

    /** The NRI plugin; null in standalone mode. */
    public NriPlugin plugin() {
        return plugin;
    }

    /** The standalone applier; null in NRI mode. */
    public StandaloneApplier applier() {
        return applier;
    }

    public ControlLoops loops() {
        return loops;
    }

    public ManagedWorkload workload() {
        return workload;
    }

    public AgentConfig config() {
        return config;
    }

    /** The status API's address, or null when it is off. */
    public ApiServer api() {
        return api;
    }

    /**
     * Starts every part; returns once they run (the NRI connection is made in the background, with retries; the
     * standalone applier's first round runs on the loops' thread right away).
     */
    public void start() throws IOException {
        startNri();
        startRest();
    }

    /** Starts the NRI plugin's connection (in the background, with retries); nothing without a plugin. */
    public void startNri() {
        // the runtime first: registration has a deadline (5 s in containerd), the rest has none
        if (plugin != null) {
            nriThread = Thread.ofPlatform().name("memwarden-nri").start(() -> {
                try {
                    plugin.runExternal(setup.nriSocket());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }
    }

    /**
     * Waits until the runtime has synchronized the NRI plugin once, at most {@code timeout}; true at once without
     * a plugin (standalone). A daemon calls this between {@link #startNri()} and {@link #startRest()}: the rest
     * competes with the registration for the CPU, and the registration has a deadline.
     */
    public boolean awaitFirstSync(Duration timeout) throws InterruptedException {
        return plugin == null || plugin.awaitFirstSync(timeout);
    }

    /** Starts the OOM watch, the status API, the node label, the config watch and the loops. */
    public void startRest() throws IOException {
        if (setup.watchKernelLog()) {
            try {
                oomWatch = OomKillWatch.start(this::oomKill, w -> LOG.warn("OOM watch: {}", w),
                        OomAttribution.over(workload, setup.memoryRoot()));
            } catch (IOException e) {
                LOG.warn("kernel OOM kills are not watched (/dev/kmsg: {})", e.getMessage());
            }
        }
        if (config.loops().ksm().enabled()) {
            Ksm k = Ksm.system();
            if (k.available()) {
                ClusterActions cluster = setup.cluster();
                ksm = KsmTuning.start(k, config.loops().ksm(), config.loops().dryRun(), setup.clock(),
                        line -> LOG.info("{}", line), cluster::nodeMetadata);
                LOG.info("KSM tuner on: policy {}, every {}", config.loops().ksm().policy(),
                        config.loops().ksm().period());
            } else {
                LOG.warn("loops.ksm is enabled but this kernel has no KSM ({}): not tuned", k.dir());
            }
        }
        if (setup.listen() != null) {
            api = ApiServer.start(setup.listen().address(),
                    new RunStatus(setup.host(), workload, loops, null, oomWatch)::status, true,
                    config.agent().statusFromNetwork());
            metrics.register(api.registry(), loops, setup.cluster(), workload);
            metrics.registerWarnings(api.registry(), warnings::counts);
            if (ksm != null) {
                ksm.register(api.registry());
            }
            LOG.info("serving {}/metrics, /status, /healthz", api.url());
        }
        markNode(config);
        if (setup.cluster() != ClusterActions.NONE) {
            LauncherDrift drift = new LauncherDrift(setup.cluster(), setup.node().architecture(),
                    line -> LOG.info("kubevirt: {}", line));
            driftThread = Thread.ofVirtual().name("memwarden-kubevirt-drift").start(() -> driftPasses(drift));
        }
        if (setup.configPath() != null) {
            configWatch = ConfigFileWatch.start(setup.configPath(), AgentConfigReader::read,
                    this::reload, this::rejected);
        }
        loopThread = LoopThread.start(this::pace, this::round, line -> LOG.info("{}", line),
                e -> LOG.warn("control loops: {}", e.toString()));
    }

    /** The loops' period and PSI trigger, read before every round (a reload may change them). */
    private LoopThread.Pace pace() {
        AgentConfig.Loops l = config.loops();
        return new LoopThread.Pace(l.period().toMillis(), l.psiTrigger());
    }

    /** One round of the loops' thread: the standalone applier's scan, late pod specs, then the control loops. */
    private void round(String wokenBy) throws IOException {
        AgentConfig c = config;
        if (applier != null) {
            try {
                applier.round(c.loops().dryRun());
            } catch (IOException | RuntimeException e) {
                LOG.warn("standalone: scanning the kubelet's cgroups under {}: {}", setup.memoryRoot(), e.toString());
            }
        }
        try {
            if (plugin != null && plugin.hasDegraded()) {
                plugin.refreshDegraded().whenComplete((failed, e) -> {
                    if (e != null) {
                        LOG.warn("updating containers whose pod spec arrived late: {}", e.getMessage());
                    }
                });
            }
        } catch (RuntimeException e) {
            // never the end of the loops' thread: the loops keep running, the next round tries again
            LOG.warn("planning again the containers whose pod spec arrived late: {}", e.toString());
        }
        checkWarnings(c);
        if (c.loops().guard().enabled() || c.loops().throttle() || c.loops().offload().enabled() && offloadPossible) {
            long t0 = System.nanoTime();
            try {
                loops.tick(wokenBy);
                metrics.loopTick(System.nanoTime() - t0, false);
            } catch (IOException | RuntimeException e) {
                metrics.loopTick(System.nanoTime() - t0, true);
                throw e; // the loop thread logs it and goes on
            }
        }
    }

    /**
     * Where the node's swap total is read each round, so swapon/swapoff re-evaluate the warnings before surprises
     * (the daemon on this host: /proc/meminfo); by default the swap of the node facts the agent started with.
     */
    public void swapTotalFrom(LongSupplier s) {
        this.swapTotal = s;
    }

    /** The warnings before surprises, re-evaluated when the pods or the swap changed (PlanWarningWatch). */
    private void checkWarnings(AgentConfig c) {
        try {
            warnings.check(setup.node(), setup.kubelet(), c.policy(), workload.pods().stream()
                    .map(ManagedWorkload.ManagedPod::spec).toList(), swapTotal.getAsLong(), c.kubernetes().events());
        } catch (RuntimeException e) {
            LOG.warn("warnings before surprises: {}", e.toString());
        }
    }

    private void recordApply(String loop, String pod, String container, String action, String trigger, String result) {
        loops.recordAction(loop, pod, container, action, trigger, result);
    }

    /** Blocks until {@link #close()} (or a signal's shutdown hook) stops the agent. */
    public void awaitStop() throws InterruptedException {
        stopped.await();
    }

    // ------------------------------------------------------------------ configuration

    private LoopOptions loopOptions(AgentConfig c) {
        AgentConfig.Loops l = c.loops();
        return new LoopOptions(l.guard().enabled(), l.throttle(), l.offload().enabled() && offloadPossible,
                l.dryRun(), l.guard().resolve(setup.host().memTotal()), c.agent().protect(), null,
                l.offload().v1Method(), l.offload().v2Method())
                .withKubelet(KubeletEviction.Settings.of(setup.kubelet()), podsCgroup(setup.memoryRoot()));
    }

    /**
     * The kubelet's pods cgroup under {@code memoryRoot} (allocatableMemory.available is observed on it):
     * kubepods.slice (systemd driver) when present, else kubepods (cgroupfs); a missing one is not observed.
     */
    static Path podsCgroup(Path memoryRoot) {
        if (memoryRoot == null) {
            return null;
        }
        Path slice = memoryRoot.resolve("kubepods.slice");
        return Files.isDirectory(slice) ? slice : memoryRoot.resolve("kubepods");
    }

    private void applyLoopSettings(AgentConfig c) {
        loops.historyLimit(c.agent().history());
        loops.offloadClasses(c.loops().offload().qosClasses());
        Map<QosClass, Long> micros = new EnumMap<>(QosClass.class);
        // percent of the offloader's 2 s decision interval
        c.loops().offload().stallTargets().forEach((q, pct) -> micros.put(q, Math.round(pct / 100 * 2_000_000)));
        loops.offloadStallTargets(micros);
        // swap.nodeCap / swap.systemReserved: the workloads' swap together, on kubepods (docs/policy.md §15)
        loops.nodeSwapCap(setup.memoryRoot(), c.policy().swap());
        ClusterActions cluster = setup.cluster();
        if (cluster != ClusterActions.NONE && c.kubernetes().evictions()) {
            loops.evictWith(new ApiEvictor(cluster, () -> config.kubernetes().events()));
        } else {
            loops.evictWith(Evictor.SIGKILL);
        }
    }

    /** A changed config file that parsed: applies it everywhere it matters. */
    void reload(AgentConfig next) {
        AgentConfig prev = config;
        config = next;
        if (!next.agent().listen().equals(prev.agent().listen())) {
            LOG.warn("agent.listen changed to {}: takes effect at the next start", next.agent().listen());
        }
        loops.reconfigure(loopOptions(next));
        applyLoopSettings(next);
        markNode(next);
        if (plugin != null) {
            plugin.reconfigure(next.policy()).whenComplete((failed, e) -> {
                if (e != null) {
                    LOG.warn("config applied to new containers; running ones not updated: {}", e.getMessage());
                } else {
                    LOG.info("config applied; {} running container(s) the runtime could not update", failed.size());
                }
            });
        } else {
            // the next round re-plans every container and writes what changed
            applier.replan(new Planner(setup.node(), setup.kubelet(), next.policy()));
            LOG.info("config applied; the standalone applier re-plans every container in its next round");
        }
        metrics.configReloaded(true);
    }

    /** A changed config file that did not parse: the old one stays, and the operator is told. */
    void rejected(String message) {
        LOG.error("config file changed but is invalid, keeping the previous config: {}", message);
        metrics.configReloaded(false);
        if (!config.kubernetes().events()) {
            return;
        }
        setup.cluster().nodeEvent("Warning", "MemwardenConfigRejected", "memwarden kept its previous config: "
                + message);
    }

    private void markNode(AgentConfig c) {
        String behavior = new Planner(setup.node(), setup.kubelet(), c.policy()).plan(List.of(), null, List.of()).node()
                .swapBehavior();
        setup.cluster().markNode(behavior, setup.node().swapOn(), c.kubernetes().nodeLabel(),
                c.kubernetes().taintSwapNodes());
    }

    // ------------------------------------------------------------------ actions to the cluster

    /** Each loop action becomes an event on its pod (the cluster side aggregates and rate-limits them). */
    private void announce(ActionRecord r) {
        if (!config.kubernetes().events() || r.result().equals("dry-run")
                || r.result().startsWith("evicted through the Eviction API") // the cluster side announced it
                || r.action().startsWith(ControlLoops.DIRECT_KILL)) { // ApiEvictor announced it
            return;
        }
        if (r.loop().equals(ControlLoops.BALLOON_LOOP)) {
            // a node action: the hypervisor took a large share of the node's memory
            setup.cluster().nodeEvent("Warning", BALLOON_INFLATED, r.trigger() + " (" + r.result() + ")");
            return;
        }
        if (r.loop().equals(StandaloneApplier.LOOP) && !r.result().startsWith("failed")) {
            return; // the plan written: the normal case, in the log and /status (NRI adjustments are not announced)
        }
        String[] nsName = r.pod().split("/", 2);
        if (nsName.length < 2) {
            return;
        }
        String who = r.container() == null ? "" : "container " + r.container() + ": ";
        if (r.loop().equals(StandaloneApplier.LOOP) && r.action().equals(StandaloneApplier.PLAN)) {
            setup.cluster().podEvent(nsName[0], nsName[1], "Warning", PLAN_FAILED, who + "not planned, left with the"
                    + " values it has: " + r.trigger());
            return;
        }
        boolean failed = r.result().startsWith("failed") || r.result().startsWith("not evicted");
        String reason = switch (r.loop()) {
            case "guard" -> !r.action().startsWith("evict") ? "MemwardenPressureGuard"
                    : failed ? "MemwardenEvictionFailed" : "MemwardenEvicting";
            case "throttle-relief" -> "MemwardenThrottleRelief";
            case "offload" -> "MemwardenOffload";
            case StandaloneApplier.LOOP -> "MemwardenApplyFailed";
            default -> "Memwarden";
        };
        String message = r.loop().equals("offload")
                // one message per container so the cluster side aggregates repeats into a count
                ? who + "cold memory offloaded to swap (" + r.trigger() + ")"
                : who + r.action() + " because " + r.trigger() + " (" + r.result() + ")";
        setup.cluster().podEvent(nsName[0], nsName[1], failed || reason.equals("MemwardenEvicting") ? "Warning"
                : "Normal", reason, message);
    }

    /**
     * Compares KubeVirt's published overheads of the virt-launcher pods here with memwarden's computation, 5 s after
     * the start and then every 30 s (only pods not compared yet cost an API call), until the agent stops.
     */
    private void driftPasses(LauncherDrift drift) {
        try {
            for (long wait = 5; !stopped.await(wait, TimeUnit.SECONDS); wait = 30) {
                try {
                    drift.pass(workload.pods(), config.kubernetes().events());
                } catch (RuntimeException e) {
                    LOG.warn("kubevirt: comparing published VM overheads failed: {}", Printable.of(
                            String.valueOf(e.getMessage()), 300));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The node event reason when a hypervisor's balloon grew by a large share (docs/vm-nodes.md). */
    static final String BALLOON_INFLATED = "MemwardenBalloonInflated";

    /** The event reason of a pod memwarden cannot plan (bad annotations, say): it alone is left alone. */
    static final String PLAN_FAILED = "MemwardenPlanFailed";

    /** A container the NRI plugin could not plan: a warning event on its pod (the correlator folds repeats). */
    private void planFailed(String namespace, String pod, String uid, String container, String message) {
        if (config.kubernetes().events()) {
            setup.cluster().podEvent(namespace, pod, uid, "Warning", PLAN_FAILED, "container " + container
                    + ": not planned: " + message);
        }
    }

    private void oomKill(OomAttribution.Kill k) {
        LOG.warn("OOM kill: {}", k.describe());
        OomReport.send(k, setup.cluster(), config.kubernetes().events(), uidOf(k.victim()));
    }

    /** The pod's uid when its spec has one (saves the event an API read), else null. */
    private String uidOf(OomAttribution.Victim v) {
        if (v == null) {
            return null;
        }
        for (ManagedWorkload.ManagedPod p : workload.pods()) {
            if (p.key().equals(v.pod())) {
                return p.spec().uid();
            }
        }
        return null;
    }

    // ------------------------------------------------------------------ shutdown

    /** Stops every part; leaves every container's cgroup values as they are. Idempotent. */
    @Override
    public synchronized void close() {
        if (stopping) {
            return;
        }
        stopping = true;
        LOG.info("stopping: containers keep their cgroup values");
        stopped.countDown();
        if (plugin != null) {
            plugin.stop();
        }
        if (configWatch != null) {
            configWatch.close();
        }
        join(nriThread);
        join(driftThread);
        if (loopThread != null) {
            loopThread.stop(Duration.ofSeconds(5));
        }
        try {
            loops.close();
        } catch (IOException e) {
            LOG.warn("closing the control loops: {}", e.getMessage());
        }
        if (ksm != null) {
            ksm.close(); // restores the KSM settings memwarden changed
        }
        if (api != null) {
            api.close();
        }
        if (oomWatch != null) {
            oomWatch.close();
        }
        setup.cluster().close();
    }

    private static void join(Thread t) {
        if (t != null) {
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The node plan for no pods: node-level errors and warnings for the start-up checks. */
    public static Plan.NodePlan nodePlan(NodeFacts node, KubeletSettings kubelet, AgentConfig c) {
        return new Planner(node, kubelet, c.policy()).plan(List.of(), null, List.of()).node();
    }
}
