package io.memwarden.loops;

import io.memwarden.cgroup.HostFacts;
import io.memwarden.model.Clock;
import io.memwarden.control.BalloonWatch;
import io.memwarden.control.ColdOffloader;
import io.memwarden.control.KubeletEviction;
import io.memwarden.control.PressureGuard;
import io.memwarden.kernel.Balloon;
import io.memwarden.model.QosClass;
import io.memwarden.policy.NodeSwapCap;
import io.memwarden.policy.WardenConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The control loops over a managed workload: each {@link #tick()} is one {@link Round} (observe the workload's
 * cgroups and the node, or the cgroup standing in for it; let the pressure guard, throttle relief and cold offloader
 * decide; act through the {@link Actuator}, or in dry-run only record). Every action goes into the bounded
 * {@link ActionHistory} with its trigger. The loops' thread is a {@link LoopThread}.
 */
public final class ControlLoops implements AutoCloseable {
    /**
     * The loop name of a node action: a hypervisor's balloon grew by a large share ({@link ActionRecord#pod()} is
     * empty: it concerns the node).
     */
    public static final String BALLOON_LOOP = BalloonStep.LOOP;
    /** The action text of the pressure guard's direct kill starts so (then the kubelet-style message). */
    public static final String DIRECT_KILL = GuardStep.DIRECT_KILL;
    /** The result of a direct kill that ran starts so (metrics: result="direct_kill"). */
    public static final String KILLED_DIRECTLY = GuardStep.KILLED_DIRECTLY;

    private final HostFacts host;
    private final ManagedWorkload workload;
    private final Clock clock;
    private final ActionHistory history;
    private final GuardStep guard;
    private final ThrottleStep throttle;
    private final OffloadStep offload;
    private final ContainerPressure pressure;
    private final BalloonStep balloon;
    private final SwapCapStep swapCap = new SwapCapStep();
    private volatile LoopOptions opt;
    private volatile Evictor evictor = Evictor.SIGKILL;

    public ControlLoops(HostFacts host, ManagedWorkload workload, LoopOptions opt, Clock clock, Consumer<String> log) {
        this.host = host;
        this.workload = workload;
        this.opt = opt;
        this.clock = clock;
        this.history = new ActionHistory(clock, log);
        this.guard = new GuardStep(opt.guardConfig(), opt.kubeletEviction(), clock);
        this.throttle = new ThrottleStep(clock);
        this.pressure = new ContainerPressure(host, log);
        this.offload = new OffloadStep(pressure, clock, log);
        this.balloon = new BalloonStep(clock, log);
    }

    /** One round woken by the period. */
    public void tick() throws IOException {
        tick(null);
    }

    /**
     * One round woken early by {@code wokenBy} (e.g. "PSI trigger some 150000/2000000"; null: the period): every
     * action it records says so in its trigger.
     */
    public synchronized void tick(String wokenBy) throws IOException {
        LoopOptions o = opt;
        new Round(host, workload, o, new Round.Steps(guard, throttle, offload, balloon, swapCap),
                new Actuator(host.pageSize(), o.dryRun(), evictor), history, wokenBy).run();
    }

    /**
     * Replaces the options (a reloaded config). The pressure guard starts afresh (grace and cooldown timers) only
     * when its thresholds changed; the other loops keep their state.
     */
    public synchronized void reconfigure(LoopOptions next) {
        guard.reconfigure(opt.guardConfig(), next.guardConfig());
        guard.kubeletSettings(next.kubeletEviction());
        opt = next;
    }

    public LoopOptions options() {
        return opt;
    }

    // ------------------------------------------------------------------ settings beside the options

    /** Keep at most {@code limit} actions in {@link #history()} (the oldest are dropped). */
    public ControlLoops historyLimit(int limit) {
        history.limit(limit);
        return this;
    }

    /** The offload loop only considers containers of pods in these QoS classes (default: all). */
    public ControlLoops offloadClasses(Set<QosClass> classes) {
        offload.classes(classes);
        return this;
    }

    /**
     * Whether the offload loop may give v1 containers their own PSI through the {@link io.memwarden.cgroup.PsiMirror}
     * (default yes). The mirror moves the containers' processes into cgroup2 groups of memwarden's own: right for the
     * processes the standalone runner started, wrong for a runtime's containers, whose cgroup2 membership belongs to
     * systemd and the runtime. Without it, v1 offload backs off on the container's refaults and the node's PSI.
     */
    public ControlLoops perContainerPsiOnV1(boolean allowed) {
        pressure.allowMirror(allowed);
        return this;
    }

    /**
     * The offload loop's stall target per QoS class: microseconds of PSI some stall per 2 s interval it keeps under
     * (classes not named use the offloader's default, 20 000 µs = 1 %).
     */
    public ControlLoops offloadStallTargets(Map<QosClass, Long> micros) {
        offload.stallTargets(micros);
        return this;
    }

    /** Read the guest's balloon from {@code paths} (default: this machine's /proc and /sys). */
    public ControlLoops balloonPaths(Balloon.Paths paths) {
        balloon.paths(paths);
        return this;
    }

    /** When a balloon's growth is reported (a share of physical memory) and over how long its rate is measured. */
    public ControlLoops balloonConfig(BalloonWatch.Config config) {
        balloon.config(config);
        return this;
    }

    /**
     * Cap the workloads' swap together on the kubepods cgroup below {@code memoryRoot} ({@code kubepods.slice} or
     * {@code kubepods}) by {@code config}'s {@code nodeCap}/{@code systemReserved}, each round on the swap total
     * observed ({@link NodeSwapCap}); a null root or a config without them: off (the default).
     */
    public ControlLoops nodeSwapCap(Path memoryRoot, WardenConfig.SwapConfig config) {
        swapCap.configure(memoryRoot, config);
        return this;
    }

    /**
     * The node swap cap as the last round computed it: the kubepods cgroup, the decision (cap, files, reasons) and what
     * became of it ("ok", "in place", "not written: …", "failed: …"); null when it is off.
     */
    public NodeSwapCapState nodeSwapCapState() {
        SwapCapStep.State s = swapCap.last();
        return s == null ? null : new NodeSwapCapState(s.kubepods(), s.decision(), s.result());
    }

    /** What {@link #nodeSwapCapState()} returns. */
    public record NodeSwapCapState(Path kubepods, NodeSwapCap.Decision decision,
                                   String result) {}

    /** Evict pods with {@code e} instead of SIGKILL via pidfd ({@link Evictor#SIGKILL}). */
    public ControlLoops evictWith(Evictor e) {
        this.evictor = e;
        return this;
    }

    /** Hands every recorded action to {@code l} (on the recording thread; a failing listener is ignored). */
    public ControlLoops onAction(Consumer<ActionRecord> l) {
        history.onAction(l);
        return this;
    }

    // ------------------------------------------------------------------ what the loops did

    /** The clock that stamps {@link ActionRecord#atMillis()} (monotonic; surfaces convert to wall time). */
    public Clock clock() {
        return clock;
    }

    /** The newest actions, oldest first (at most the history limit). */
    public List<ActionRecord> history() {
        return history.list();
    }

    /** The history and how many older actions it dropped, read together. */
    public ActionHistory.Snapshot historySnapshot() {
        return history.snapshot();
    }

    /** Actions dropped from the history because it was full. */
    public long droppedActions() {
        return history.dropped();
    }

    /**
     * The hypervisor's balloon as the last round saw it (physical and effective capacity, size, growth rate, free
     * page reporting), or null before the first round or where it cannot be read.
     */
    public BalloonWatch.State balloon() {
        return balloon.last();
    }

    /** The managed pods' memory requests at the balloon's last reading (docs/vm-nodes.md). */
    public long balloonPodRequests() {
        return balloon.podRequests();
    }

    /**
     * The pressure guard's thresholds as the last round used them: the options' config, scaled to the effective
     * capacity where a balloon took memory.
     */
    public PressureGuard.Config guardConfig() {
        return guard.config();
    }

    /**
     * The pressure guard's state after the last round: its level and the kubelet's MemoryPressure condition (with the
     * transition period's hysteresis), the kubelet thresholds met; times converted with {@code loopClockToEpoch}.
     */
    public NodeStatus.Guard guardState(long loopClockToEpoch) {
        KubeletEviction k = guard.kubelet();
        KubeletEviction.Pass p = k.last();
        long now = clock.millis();
        List<String> met = p.met().stream().map(m -> m.name() + (m.onlyByReclaim() ? " (until its minimum reclaim "
                + PressureGuard.human(m.minReclaimBytes()) + " is reclaimed)" : "") + (m.acting() ? ": acting"
                : ": within its grace period (" + (now - m.sinceMillis()) / 1000 + " of "
                + m.threshold().gracePeriod().toSeconds() + " s)")).toList();
        return new NodeStatus.Guard(guard.level().name(), p.memoryPressure(), p.memoryPressure()
                ? "KubeletHasInsufficientMemory" : "KubeletHasSufficientMemory",
                p.pressureLastObservedMillis() < 0 ? null : p.pressureLastObservedMillis() + loopClockToEpoch,
                k.settings().transitionPeriod().toSeconds(), met, k.lastAllocatableAvailable());
    }

    /** Bytes each container ("namespace/pod/container") had offloaded by the offload loop so far. */
    public Map<String, Long> offloadedBytes() {
        return offload.offloadedBytes();
    }

    /**
     * Each container's working-set estimate from the offload loop ("namespace/pod/container" → estimate); absent
     * until probing first met pressure for it.
     */
    public Map<String, ColdOffloader.WorkingSetEstimate> workingSetEstimates() {
        return offload.workingSetEstimates();
    }

    /**
     * Records an action another part took on a managed container (the standalone agent's plan writes): into the
     * history, to the listener and the log, like the loops' own.
     */
    public void recordAction(String loop, String pod, String container, String action, String trigger, String result) {
        history.record(loop, pod, container, action, trigger, result);
    }

    /**
     * Removes what the loops created (the v1 PSI mirror), moving processes still in it back, and closes the cgroup
     * files the workload kept open for the rounds.
     */
    @Override
    public synchronized void close() throws IOException {
        workload.closeHeldFiles();
        offload.close();
    }
}
