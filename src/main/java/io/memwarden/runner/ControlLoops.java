package io.memwarden.runner;

import io.memwarden.cgroup.CgroupReclaim;
import io.memwarden.cgroup.CgroupWriteException;
import io.memwarden.cgroup.CgroupWriter;
import io.memwarden.cgroup.HostFacts;
import io.memwarden.cgroup.MemoryUsage;
import io.memwarden.cgroup.NodeStats;
import io.memwarden.model.Pressure;
import io.memwarden.cgroup.PsiMirror;
import io.memwarden.model.Clock;
import io.memwarden.control.ColdOffloader;
import io.memwarden.control.GuardAction;
import io.memwarden.control.NodeObservation;
import io.memwarden.control.OffloadRoute;
import io.memwarden.control.PodObservation;
import io.memwarden.control.PressureGuard;
import io.memwarden.control.RangeOffloader;
import io.memwarden.control.ThrottleRelief;
import io.memwarden.kernel.Libc;
import io.memwarden.kernel.Pidfd;
import io.memwarden.kernel.ProcessPages;
import io.memwarden.model.CgroupVersion;
import io.memwarden.model.PodSpec;
import io.memwarden.model.QosClass;
import io.memwarden.policy.Criticality;
import io.memwarden.policy.Plan;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Wires the control loops to a running workload: each {@link #tick()} observes the runner's cgroups and the node
 * (or the runner's root cgroup standing in for it), lets the pressure guard, throttle relief and cold offloader
 * decide, and acts — or, in dry-run, only logs. Every action is recorded with its trigger.
 */
public final class ControlLoops implements AutoCloseable {

    /**
     * @param nodeCgroup a cgroup that stands in for the node (capacity = its limit), or null for the host
     * @param protectedPods namespace/name of pods the guard never touches (critical pods never anyway)
     */
    public record Options(boolean guard, boolean throttle, boolean offload, boolean dryRun, PressureGuard.Config guardConfig,
                          Set<String> protectedPods, Path nodeCgroup, V1Offload v1Offload, V2Offload v2Offload) {
        public Options(boolean guard, boolean throttle, boolean offload, boolean dryRun, PressureGuard.Config guardConfig,
                       Set<String> protectedPods, Path nodeCgroup) {
            this(guard, throttle, offload, dryRun, guardConfig, protectedPods, nodeCgroup, V1Offload.DEFAULT,
                    V2Offload.DEFAULT);
        }

        public Options(boolean guard, boolean throttle, boolean offload, boolean dryRun, PressureGuard.Config guardConfig,
                       Set<String> protectedPods, Path nodeCgroup, V1Offload v1Offload) {
            this(guard, throttle, offload, dryRun, guardConfig, protectedPods, nodeCgroup, v1Offload, V2Offload.DEFAULT);
        }

        public Options {
            if (v1Offload == null) {
                throw new IllegalArgumentException("v1Offload must be set (madvise or limit)");
            }
            if (v2Offload == null) {
                throw new IllegalArgumentException("v2Offload must be set (madvise or reclaim)");
            }
        }
    }

    /**
     * How cold memory leaves RAM on cgroup v1 (no memory.reclaim there): page out the ranges found cold by
     * clear_refs sampling ({@link RangeOffloader}, falling back to limit probing where process_madvise is refused),
     * or limit probing only ({@link ColdOffloader} with {@link CgroupReclaim}).
     */
    public enum V1Offload {
        MADVISE, LIMIT;

        public static final V1Offload DEFAULT = MADVISE;

        public static V1Offload parse(String s) {
            return switch (s) {
                case "madvise" -> MADVISE;
                case "limit" -> LIMIT;
                default -> throw new IllegalArgumentException("v1 offload method must be madvise or limit, got \""
                        + s + "\"");
            };
        }
    }

    /**
     * How cold memory leaves RAM on cgroup v2: page out the ranges found cold by clear_refs sampling, as on v1
     * ({@link RangeOffloader}; falling back to {@code memory.reclaim} where process_madvise is refused or the
     * container's processes are not visible), or {@code memory.reclaim} under a PSI target only ({@link ColdOffloader}).
     */
    public enum V2Offload {
        MADVISE, RECLAIM;

        /**
         * memory.reclaim: with MGLRU on (distribution kernels) cold ranges met the hot-promotion goal in 1 of 7 VM runs;
         * with it off in 2 of 2 (docs/benchmarks.md).
         */
        public static final V2Offload DEFAULT = RECLAIM;

        public static V2Offload parse(String s) {
            return switch (s) {
                case "madvise" -> MADVISE;
                case "reclaim" -> RECLAIM;
                default -> throw new IllegalArgumentException("v2 offload method must be madvise or reclaim, got \""
                        + s + "\"");
            };
        }
    }

    /** One decision taken (or, in dry-run, that would have been taken). */
    public record ActionRecord(long atMillis, String loop, String pod, String container, String action, String trigger,
                               String result) {}

    /**
     * Takes a pod off the node for the pressure guard. The standalone default kills the pod's processes with SIGKILL
     * through pidfds; the node agent uses the Kubernetes Eviction API when it has one.
     */
    @FunctionalInterface
    public interface Evictor {
        /** @return the outcome, as recorded in the action's result */
        String evict(String podKey, String message, List<ContainerStatus> containers);
    }

    /** How many actions {@link #history()} keeps by default (the oldest are dropped first). */
    public static final int DEFAULT_HISTORY = 10_000;

    private final HostFacts host;
    private final ManagedWorkload workload;
    private volatile Options opt;
    private final Clock clock;
    private final Consumer<String> log;
    private volatile PressureGuard guard;
    private final ThrottleRelief relief;
    private final ColdOffloader offloader;
    private final java.util.ArrayDeque<ActionRecord> history = new java.util.ArrayDeque<>();
    private final Map<String, Long> offloaded = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile int historyLimit = DEFAULT_HISTORY;
    private volatile long dropped;
    private volatile Evictor evictor = ControlLoops::killWithPidfd;
    private volatile Consumer<ActionRecord> listener = r -> { };
    private final RangeOffloader rangeOffloader;
    private PsiMirror psiMirror;
    private boolean psiMirrorTried;
    private String rangeOffloadRefused;

    public ControlLoops(HostFacts host, StandaloneRunner runner, Plan plan, List<PodSpec> pods, Options opt, Clock clock,
                        Consumer<String> log) {
        this(host, ManagedWorkload.of(runner, plan, pods), opt, clock, log);
    }

    public ControlLoops(HostFacts host, ManagedWorkload workload, Options opt, Clock clock, Consumer<String> log) {
        this.host = host;
        this.workload = workload;
        this.opt = opt;
        this.clock = clock;
        this.log = log;
        this.guard = new PressureGuard(opt.guardConfig(), clock);
        this.relief = new ThrottleRelief(ThrottleRelief.Config.DEFAULTS, clock);
        this.offloader = new ColdOffloader(ColdOffloader.Config.DEFAULTS, clock);
        this.rangeOffloader = new RangeOffloader(RangeOffloader.Config.DEFAULTS, clock);
    }

    /**
     * Removes what the loops created (the v1 PSI mirror), moving processes still in it back, and closes the cgroup
     * files the workload kept open for the rounds.
     */
    @Override
    public synchronized void close() throws IOException {
        workload.closeHeldFiles();
        if (psiMirror != null) {
            psiMirror.close();
            psiMirror = null;
        }
    }

    /** The v1 per-container PSI mirror, created on first use; null when the host cannot have one (then: none). */
    private PsiMirror psiMirror() {
        if (!psiMirrorAllowed) {
            return null;
        }
        if (!psiMirrorTried) {
            psiMirrorTried = true;
            try {
                psiMirror = PsiMirror.create(host);
            } catch (IOException | RuntimeException e) {
                log.accept("offload: no per-container PSI on cgroup v1 (" + e.getMessage()
                        + "): refaults are the only back-off signal");
            }
        }
        return psiMirror;
    }

    /** The container's own PSI: v2 memory.pressure, v1 its PSI mirror group; null when it has none. */
    private Pressure ownPressure(ContainerStatus s) {
        MemoryUsage u = s.usage();
        if (u.pressure() != null) {
            return u.pressure();
        }
        PsiMirror m = psiMirror();
        if (m == null) {
            return null;
        }
        try {
            return m.pressure(s.cgroup().toString(), u.pids());
        } catch (IOException e) {
            log.accept("offload: " + s.pod() + "/" + s.container() + ": no PSI mirror reading (" + e.getMessage() + ")");
            return null;
        }
    }

    /** Bytes the container may still swap: -1 unlimited, 0 none. */
    private static long allowance(MemoryUsage u) {
        return u.swapLimitBytes() < 0 ? -1 : Math.max(0, u.swapLimitBytes() - u.swapBytes());
    }

    /** The container's cumulative anonymous refaults (memory.stat; v1 hierarchical total). */
    private static long refaults(MemoryUsage u) {
        return u.version() == CgroupVersion.V2 ? u.stat().getOrDefault("workingset_refault_anon", 0L)
                : u.stat().getOrDefault("total_workingset_refault_anon", u.stat().getOrDefault("workingset_refault_anon", 0L));
    }

    /** Keep at most {@code limit} actions in {@link #history()} (the oldest are dropped). */
    public ControlLoops historyLimit(int limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("history limit must be at least 1, got " + limit);
        }
        synchronized (history) {
            historyLimit = limit;
            trim();
        }
        return this;
    }

    private volatile Set<QosClass> offloadClasses = java.util.EnumSet.allOf(QosClass.class);

    /** The offload loop only considers containers of pods in these QoS classes (default: all). */
    public ControlLoops offloadClasses(Set<QosClass> classes) {
        this.offloadClasses = classes.isEmpty() ? java.util.EnumSet.noneOf(QosClass.class)
                : java.util.EnumSet.copyOf(classes);
        return this;
    }

    private volatile boolean psiMirrorAllowed = true;

    /**
     * Whether the offload loop may give v1 containers their own PSI through the {@link PsiMirror} (default yes).
     * The mirror moves the containers' processes into cgroup2 groups of memwarden's own: right for the processes
     * the standalone runner started, wrong for a runtime's containers, whose cgroup2 membership belongs to systemd
     * and the runtime. Without it, v1 offload backs off on the container's refaults and the node's PSI.
     */
    public ControlLoops perContainerPsiOnV1(boolean allowed) {
        this.psiMirrorAllowed = allowed;
        return this;
    }

    private volatile Map<QosClass, Long> stallTargets = Map.of();

    /**
     * The offload loop's stall target per QoS class: microseconds of PSI some stall per 2 s interval it keeps under
     * (classes not named use the offloader's default, 20 000 µs = 1 %).
     */
    public ControlLoops offloadStallTargets(Map<QosClass, Long> micros) {
        this.stallTargets = Map.copyOf(micros);
        return this;
    }

    /**
     * Each container's working-set estimate from the offload loop ("namespace/pod/container" → estimate); absent
     * until probing first met pressure for it.
     */
    public Map<String, ColdOffloader.WorkingSetEstimate> workingSetEstimates() {
        return Map.copyOf(estimates);
    }

    private final Map<String, ColdOffloader.WorkingSetEstimate> estimates =
            new java.util.concurrent.ConcurrentHashMap<>();

    /** Evict pods with {@code e} instead of SIGKILL via pidfd. */
    public ControlLoops evictWith(Evictor e) {
        this.evictor = e;
        return this;
    }

    /** Hands every recorded action to {@code l} (on the loops' thread; a failing listener is ignored). */
    public ControlLoops onAction(Consumer<ActionRecord> l) {
        this.listener = l;
        return this;
    }

    /**
     * Replaces the options (a reloaded config). The pressure guard starts afresh (grace and cooldown timers) only
     * when its thresholds changed; the other loops keep their state.
     */
    public synchronized void reconfigure(Options next) {
        if (!next.guardConfig().equals(opt.guardConfig())) {
            guard = new PressureGuard(next.guardConfig(), clock);
        }
        opt = next;
    }

    public Options options() {
        return opt;
    }

    /** The newest actions, oldest first (at most the history limit). */
    /** The clock that stamps {@link ActionRecord#atMillis()} (monotonic; surfaces convert to wall time). */
    public Clock clock() {
        return clock;
    }

    public List<ActionRecord> history() {
        synchronized (history) {
            return List.copyOf(history);
        }
    }

    /** The history and how many older actions it dropped, read together. */
    public record HistorySnapshot(List<ActionRecord> actions, long dropped) {}

    public HistorySnapshot historySnapshot() {
        synchronized (history) {
            return new HistorySnapshot(List.copyOf(history), dropped);
        }
    }

    /** Actions dropped from the history because it was full. */
    public long droppedActions() {
        return dropped;
    }

    /** Bytes each container ("namespace/pod/container") had offloaded by the offload loop so far. */
    public Map<String, Long> offloadedBytes() {
        return Map.copyOf(offloaded);
    }

    private void trim() {
        while (history.size() > historyLimit) {
            history.removeFirst();
            dropped++;
        }
    }

    /** What woke the current round (guarded by this), for its actions' triggers; null: the period. */
    private String wokenBy;

    /**
     * One round woken early by {@code wokenBy} (e.g. "PSI trigger some 150000/2000000"; null: the period): every
     * action it records says so in its trigger.
     */
    public synchronized void tick(String wokenBy) throws IOException {
        this.wokenBy = wokenBy;
        try {
            tick();
        } finally {
            this.wokenBy = null;
        }
    }

    /** One observe → decide → act round. */
    public synchronized void tick() throws IOException {
        Options opt = this.opt;
        PressureGuard guard = this.guard;
        // lazy where the workload can: each container's files are read only when a loop below asks for them
        List<ContainerStatus> snap = workload.lazySnapshot().stream().filter(ContainerStatus::running).toList();
        List<ManagedWorkload.ManagedPod> pods = workload.pods(); // once per round: a runtime's view may be costly
        NodeStats node = opt.nodeCgroup() == null ? NodeStats.read(host) : NodeStats.ofCgroup(host, opt.nodeCgroup());
        boolean swapRoom = node.swapTotal() > 0 && node.swapFree() > node.swapTotal() / 10;
        if (opt.guard()) {
            NodeObservation no = new NodeObservation(node.capacity(), node.workingSet(), node.swapTotal(), node.swapFree(),
                    node.swapInPages(), node.psi());
            // the pods' numbers only where they can change the decision (near or past a threshold)
            PressureGuard.Decision d = guard.decide(no, guard.needsPods(no) ? podObservations(snap, pods, opt)
                    : List.of());
            for (GuardAction a : d.actions()) {
                act(a, snap, opt);
            }
        }
        if (opt.throttle()) {
            List<ThrottleRelief.Observation> obs = new ArrayList<>();
            Map<String, ContainerStatus> byCgroup = new LinkedHashMap<>();
            Map<String, Long> declared = declaredLimits(pods);
            for (ContainerStatus s : snap) {
                MemoryUsage u = s.usage();
                if (u == null) {
                    continue;
                }
                ThrottleRelief.Observation o;
                try {
                    boolean v2 = u.version() == CgroupVersion.V2;
                    long high = v2 ? u.highBytes() : u.limitBytes();
                    long events = u.event(v2 ? "high" : "failcnt");
                    if (high < 0) {
                        // no throttle point: relief only keeps counting its events, so nothing else is read
                        o = new ThrottleRelief.Observation(s.cgroup().toString(), 0, high, -1, -1, events, -1, false);
                    } else {
                        long max = v2 ? u.limitBytes() : declared.getOrDefault(s.pod() + "/" + s.container(), -1L);
                        double psi = u.pressure() == null ? -1 : u.pressure().someAvg10();
                        o = new ThrottleRelief.Observation(s.cgroup().toString(), u.usageBytes(), high, max,
                                plannedHigh(s), events, psi, swapRoom && u.swapLimitBytes() != 0);
                    }
                } catch (java.io.UncheckedIOException e) {
                    continue; // removed during the round
                }
                obs.add(o);
                byCgroup.put(s.cgroup().toString(), s);
            }
            for (ThrottleRelief.Action a : relief.decide(obs)) {
                act(a, byCgroup.get(a.cgroup()), opt);
            }
        }
        if (opt.offload()) {
            offload(snap, pods, node, opt);
        }
    }

    private void offload(List<ContainerStatus> snap, List<ManagedWorkload.ManagedPod> pods, NodeStats node,
                         Options opt) {
        Map<String, QosClass> classOf = new java.util.HashMap<>();
        for (ManagedWorkload.ManagedPod mp : pods) {
            classOf.put(mp.key(), QosClass.fromApiName(mp.plan().qosClass()));
        }
        Set<QosClass> classes = offloadClasses;
        List<RangeOffloader.Observation> rangeObs = new ArrayList<>();
        List<Long> sampled = new ArrayList<>();
        Map<String, ContainerStatus> byCgroup = new LinkedHashMap<>();
        List<String> limitProbed = new ArrayList<>();
        for (ContainerStatus s : snap) {
            MemoryUsage u = s.usage();
            if (u == null || !classes.contains(classOf.getOrDefault(s.pod(), QosClass.BEST_EFFORT))) {
                continue;
            }
            String key = s.cgroup().toString();
            byCgroup.put(key, s);
            boolean madvise = (u.version() == CgroupVersion.V1 ? opt.v1Offload() == V1Offload.MADVISE
                    : opt.v2Offload() == V2Offload.MADVISE) && rangeOffloadRefused == null;
            if (!madvise) {
                limitProbed.add(key); // observed below, only when its interval has passed
                continue;
            }
            if (!rangeOffloader.due(key)) {
                continue; // nothing read until a sample is due
            }
            try {
                long allowance = allowance(u);
                boolean room = allowance != 0 && node.swapTotal() > 0; // else nothing can go out either way
                if (room && !OffloadRoute.ranges(u.version(), opt.v1Offload() == V1Offload.MADVISE,
                        opt.v2Offload() == V2Offload.MADVISE, rangeOffloadRefused != null, u.pids(),
                        OffloadRoute.PROC)) {
                    limitProbed.add(key); // its processes cannot be sampled from here: the kernel's LRU instead
                    continue;
                }
                Pressure own = allowance == 0 ? null : ownPressure(s);
                List<RangeOffloader.Range> rs = new ArrayList<>();
                if (room) {
                    for (long pid : u.pids()) {
                        try {
                            sampled.add(pid);
                            for (ProcessPages.Mapping m : ProcessPages.read(pid)) {
                                rs.add(new RangeOffloader.Range(pid, m.start(), m.end(), m.anonymousBytes(),
                                        m.referencedBytes()));
                            }
                        } catch (IOException e) {
                            log.accept("offload: " + s.pod() + "/" + s.container() + ": cannot sample pid " + pid
                                    + " (" + e.getMessage() + ")");
                        }
                    }
                }
                rangeObs.add(new RangeOffloader.Observation(key, rs, own == null ? -1 : own.someTotalMicros(),
                        refaults(u), allowance, node.swapFree(), node.swapTotal()));
            } catch (java.io.UncheckedIOException e) {
                // removed during the round
            }
        }
        java.util.function.Function<String, ColdOffloader.Observation> observe = key -> {
            ContainerStatus s = byCgroup.get(key);
            MemoryUsage u = s.usage();
            try {
                long allowance = allowance(u);
                Pressure own = u.version() == CgroupVersion.V2 ? u.pressure() : allowance == 0 ? null : ownPressure(s);
                long psiTotal = own != null ? own.someTotalMicros()
                        : node.psi() == null ? 0 : node.psi().someTotalMicros();
                long anon = u.version() == CgroupVersion.V2 ? u.stat().getOrDefault("anon", 0L)
                        : u.stat().getOrDefault("total_rss", u.stat().getOrDefault("rss", 0L));
                Long target = stallTargets.get(classOf.getOrDefault(s.pod(), QosClass.BEST_EFFORT));
                return new ColdOffloader.Observation(key, u.usageBytes(), anon, psiTotal, refaults(u), allowance,
                        node.swapFree(), node.swapTotal(), target == null ? -1 : target);
            } catch (java.io.UncheckedIOException e) {
                return null; // removed during the round
            }
        };
        for (ColdOffloader.Offload o : offloader.decide(limitProbed, observe)) {
            ContainerStatus s = byCgroup.get(o.cgroup());
            countOffloaded(s, reclaim("offload", s, o.bytes(), o.trigger(), opt));
        }
        java.util.Set<String> present = new java.util.HashSet<>();
        for (ContainerStatus s : byCgroup.values()) {
            String k = s.pod() + "/" + s.container();
            present.add(k);
            ColdOffloader.WorkingSetEstimate e = offloader.estimate(s.cgroup().toString());
            if (e != null) {
                estimates.put(k, e);
            }
        }
        estimates.keySet().retainAll(present);
        rangeOffloader.retain(byCgroup.keySet());
        for (RangeOffloader.Decision d : rangeOffloader.decide(rangeObs)) {
            pageout(byCgroup.get(d.cgroup()), d, opt);
        }
        // only now start the next sample: the LRU reclaim above relied on the accessed bits of the whole interval
        // to spare the hot pages (clearing them first would have left it nothing to tell hot from cold)
        for (long pid : sampled) {
            try {
                ProcessPages.clearRefs(pid);
            } catch (IOException e) {
                log.accept("offload: cannot clear the referenced bits of pid " + pid + " (" + e.getMessage() + ")");
            }
        }
    }

    private void countOffloaded(ContainerStatus s, long bytes) {
        if (s != null && bytes > 0) {
            offloaded.merge(s.pod() + "/" + s.container(), bytes, Long::sum);
        }
    }

    private void pageout(ContainerStatus s, RangeOffloader.Decision d, Options opt) {
        if (d.reclaimBytes() > 0) {
            countOffloaded(s, reclaim("offload", s, d.reclaimBytes(), d.trigger(), opt));
        }
        if (d.ranges().isEmpty()) {
            return;
        }
        String action = "page out " + d.ranges().size() + " cold range(s), ~" + d.estimatedBytes() + " bytes";
        if (opt.dryRun()) {
            record("offload", s.pod(), s.container(), action, d.trigger(), "dry-run");
            return;
        }
        Map<Long, List<RangeOffloader.Pageout>> byPid = new LinkedHashMap<>();
        for (RangeOffloader.Pageout p : d.ranges()) {
            byPid.computeIfAbsent(p.pid(), k -> new ArrayList<>()).add(p);
        }
        long bytes = 0;
        int skipped = 0;
        StringBuilder errors = new StringBuilder();
        for (var e : byPid.entrySet()) {
            long[] starts = e.getValue().stream().mapToLong(RangeOffloader.Pageout::start).toArray();
            long[] lengths = e.getValue().stream().mapToLong(RangeOffloader.Pageout::length).toArray();
            try {
                ProcessPages.Result r = ProcessPages.pageout(e.getKey(), s.cgroup().resolve("cgroup.procs"), starts,
                        lengths);
                bytes += r.bytes(); // address range processed: the kernel does not say how much it paged out
                skipped += r.skipped();
            } catch (Libc.ErrnoException ex) {
                errors.append(ex.getMessage()).append("; ");
                if (ex.errno() == 1 || ex.errno() == 38) { // EPERM, ENOSYS: this host will not let us
                    rangeOffloadRefused = ex.getMessage();
                }
            } catch (IOException ex) {
                errors.append(ex.getMessage()).append("; ");
            }
        }
        String result = "process_madvise(MADV_PAGEOUT) processed " + bytes + " bytes of address range"
                + (skipped > 0 ? ", " + skipped + " range(s) gone since the sample" : "")
                + (errors.isEmpty() ? "" : "; errors: " + errors)
                + (rangeOffloadRefused != null ? "; falling back to " + OffloadRoute.fallback(s.usage().version()) : "");
        record("offload", s.pod(), s.container(), action, d.trigger(), result);
    }

    /** "namespace/pod/container" → its declared memory limit (-1 none), the first declaration of each. */
    private static Map<String, Long> declaredLimits(List<ManagedWorkload.ManagedPod> pods) {
        Map<String, Long> out = new java.util.HashMap<>();
        for (ManagedWorkload.ManagedPod mp : pods) {
            PodSpec p = mp.spec();
            for (var c : p.containers()) {
                long limit = c.resources().memoryLimitOrZero();
                out.putIfAbsent(p.key() + "/" + c.name(), limit == 0 ? -1 : limit);
            }
        }
        return out;
    }

    private long plannedHigh(ContainerStatus s) {
        String v = s.applied().getOrDefault("memory.high", s.applied().get("memory.limit_in_bytes"));
        if (v == null || v.equals("max") || v.equals("-1")) {
            return -1;
        }
        return Long.parseLong(v);
    }

    private List<PodObservation> podObservations(List<ContainerStatus> snap, List<ManagedWorkload.ManagedPod> pods,
                                                 Options opt) {
        List<PodObservation> out = new ArrayList<>();
        for (ManagedWorkload.ManagedPod mp : pods) {
            Plan.PodPlan pp = mp.plan();
            String key = mp.key();
            List<ContainerStatus> mine = snap.stream().filter(s -> s.pod().equals(key) && s.usage() != null).toList();
            if (mine.isEmpty()) {
                continue; // gone
            }
            PodSpec spec = mp.spec();
            long ws = 0;
            List<PodObservation.ContainerObservation> cs = new ArrayList<>();
            for (ContainerStatus s : mine) {
                MemoryUsage u = s.usage();
                try {
                    long w = u.workingSetBytes();
                    long allowance = u.swapLimitBytes() < 0 ? -1 : Math.max(0, u.swapLimitBytes() - u.swapBytes());
                    long high = u.version() == CgroupVersion.V2 ? u.highBytes() : -2;
                    cs.add(new PodObservation.ContainerObservation(s.container(), u.usageBytes(), allowance, high));
                    ws += w;
                } catch (java.io.UncheckedIOException e) {
                    // removed during the round
                }
            }
            if (cs.isEmpty()) {
                continue;
            }
            out.add(new PodObservation(spec, QosClass.fromApiName(pp.qosClass()), pp.memoryRequestBytes(), ws,
                    isProtected(opt.protectedPods(), key) || Criticality.isCritical(spec), cs));
        }
        return out;
    }

    /**
     * Whether {@code podKey} ("namespace/name") is among the protected pods: exact keys or globs with {@code *}
     * (any run of characters) and {@code ?} (one character), e.g. {@code kube-system/coredns-*}.
     */
    public static boolean isProtected(Set<String> patterns, String podKey) {
        for (String p : patterns) {
            if (p.equals(podKey) || (p.indexOf('*') >= 0 || p.indexOf('?') >= 0) && glob(p, podKey)) {
                return true;
            }
        }
        return false;
    }

    private static boolean glob(String pattern, String text) {
        StringBuilder re = new StringBuilder();
        for (char c : pattern.toCharArray()) {
            switch (c) {
                case '*' -> re.append(".*");
                case '?' -> re.append('.');
                default -> re.append(java.util.regex.Pattern.quote(String.valueOf(c)));
            }
        }
        return text.matches(re.toString());
    }

    private void act(GuardAction a, List<ContainerStatus> snap, Options opt) {
        switch (a) {
            case GuardAction.Reclaim r -> reclaim("guard", find(snap, r.pod(), r.container()), r.bytes(), r.trigger(),
                    opt);
            case GuardAction.Throttle t -> {
                ContainerStatus s = find(snap, t.pod(), t.container());
                if (s == null) {
                    return;
                }
                if (s.usage().version() != CgroupVersion.V2) {
                    record("guard", t.pod(), t.container(), "throttle at " + t.highBytes(), t.trigger(),
                            "skipped: cgroup v1 has no memory.high (lowering the hard limit would OOM-kill)");
                    return;
                }
                record("guard", t.pod(), t.container(), "memory.high=" + t.highBytes(), t.trigger(),
                        write(s.cgroup(), "memory.high", Long.toString(t.highBytes()), opt));
            }
            case GuardAction.Evict e -> {
                String result;
                if (opt.dryRun()) {
                    result = "dry-run";
                } else {
                    List<ContainerStatus> podContainers = snap.stream().filter(s -> s.pod().equals(e.pod())).toList();
                    try {
                        result = evictor.evict(e.pod(), e.message(), podContainers);
                    } catch (RuntimeException ex) {
                        result = "failed: " + ex.getMessage();
                    }
                }
                record("guard", e.pod(), null, "evict: " + e.message(), e.trigger(), result);
            }
        }
    }

    /** The standalone eviction: SIGKILL every process of the pod's cgroups through pidfds. */
    public static String killWithPidfd(String podKey, String message, List<ContainerStatus> containers) {
        int killed = 0;
        StringBuilder errors = new StringBuilder();
        for (ContainerStatus s : containers) {
            if (s.usage() == null) {
                continue;
            }
            List<Long> pids;
            try {
                pids = s.usage().pids();
            } catch (java.io.UncheckedIOException e) {
                errors.append(s.pod()).append('/').append(s.container()).append(": ").append(e.getMessage())
                        .append("; ");
                continue;
            }
            for (long pid : pids) {
                try {
                    if (Pidfd.signal(pid, Pidfd.SIGKILL)) {
                        killed++;
                    }
                } catch (IOException ex) {
                    errors.append(ex.getMessage()).append("; ");
                }
            }
        }
        return "killed " + killed + " process(es) with SIGKILL via pidfd (no Eviction API)"
                + (errors.isEmpty() ? "" : "; errors: " + errors);
    }

    private void act(ThrottleRelief.Action a, ContainerStatus s, Options opt) {
        if (s == null) {
            return;
        }
        switch (a) {
            case ThrottleRelief.Action.Reclaim r -> reclaim("throttle-relief", s, r.bytes(), r.trigger(), opt);
            case ThrottleRelief.Action.SetHigh h -> {
                String result;
                if (opt.dryRun()) {
                    result = "dry-run";
                } else if (s.usage().version() == CgroupVersion.V2) {
                    result = write(s.cgroup(), "memory.high", Long.toString(h.high()), opt);
                } else {
                    // v1: the projected ceiling is memory.limit_in_bytes; keep the swap allowance above it
                    Map<String, String> files = new LinkedHashMap<>();
                    files.put("memory.limit_in_bytes", Long.toString(h.high()));
                    String memsw = s.applied().get("memory.memsw.limit_in_bytes");
                    String limit = s.applied().get("memory.limit_in_bytes");
                    if (memsw != null && !memsw.equals("-1") && limit != null) {
                        files.put("memory.memsw.limit_in_bytes",
                                Long.toString(h.high() + Long.parseLong(memsw) - Long.parseLong(limit)));
                    }
                    try {
                        new CgroupWriter(CgroupVersion.V1, host.pageSize()).apply(s.cgroup(), files);
                        result = "ok";
                    } catch (CgroupWriteException e) {
                        result = "failed: " + e.getMessage();
                    }
                }
                record("throttle-relief", s.pod(), s.container(), (s.usage().version() == CgroupVersion.V2
                        ? "memory.high=" : "memory.limit_in_bytes=") + h.high(), h.trigger(), result);
            }
        }
    }

    /** @return the bytes reclaimed (0 in dry-run or on failure) */
    private long reclaim(String loop, ContainerStatus s, long bytes, String trigger, Options opt) {
        if (s == null) {
            return 0;
        }
        String result;
        long got = 0;
        if (opt.dryRun()) {
            result = "dry-run";
        } else {
            try {
                got = CgroupReclaim.reclaim(s.cgroup(), s.usage().version(), bytes, host.pageSize());
                result = "reclaimed " + got + " bytes";
            } catch (IOException e) {
                result = "failed: " + e.getMessage();
            }
        }
        record(loop, s.pod(), s.container(), "reclaim " + bytes + " bytes", trigger, result);
        return got;
    }

    private String write(Path cg, String file, String value, Options opt) {
        if (opt.dryRun()) {
            return "dry-run";
        }
        try {
            Files.writeString(cg.resolve(file), value, java.nio.file.StandardOpenOption.WRITE);
            return "ok";
        } catch (IOException e) {
            return "failed: " + e.getMessage();
        }
    }

    private static ContainerStatus find(List<ContainerStatus> snap, String pod, String container) {
        return snap.stream().filter(s -> s.pod().equals(pod) && s.container().equals(container)).findFirst().orElse(null);
    }

    /**
     * Records an action another part took on a managed container (the standalone agent's plan writes): into the
     * history, to the listener and the log, like the loops' own.
     */
    public void recordAction(String loop, String pod, String container, String action, String trigger, String result) {
        record(loop, pod, container, action, trigger, result);
    }

    private void record(String loop, String pod, String container, String action, String trigger, String result) {
        if (wokenBy != null && Thread.holdsLock(this)) { // only the woken round's own actions
            trigger = trigger + "; woken by " + wokenBy;
        }
        ActionRecord r = new ActionRecord(clock.millis(), loop, pod, container, action, trigger, result);
        synchronized (history) {
            history.addLast(r);
            trim();
        }
        try {
            listener.accept(r);
        } catch (RuntimeException ignored) {
            // a listener's failure (e.g. an event sink) never stops the loops
        }
        log.accept(loop + ": " + pod + (container == null ? "" : "/" + container) + ": " + action + " (" + result
                + ") because " + trigger);
    }
}
