package io.memwarden.runner;

import io.memwarden.cgroup.CgroupReclaim;
import io.memwarden.cgroup.CgroupWriteException;
import io.memwarden.cgroup.CgroupWriter;
import io.memwarden.cgroup.HostFacts;
import io.memwarden.cgroup.MemoryUsage;
import io.memwarden.cgroup.NodeStats;
import io.memwarden.cgroup.Pressure;
import io.memwarden.cgroup.PsiMirror;
import io.memwarden.control.Clock;
import io.memwarden.control.ColdOffloader;
import io.memwarden.control.GuardAction;
import io.memwarden.control.NodeObservation;
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
                          Set<String> protectedPods, Path nodeCgroup, V1Offload v1Offload) {
        public Options(boolean guard, boolean throttle, boolean offload, boolean dryRun, PressureGuard.Config guardConfig,
                       Set<String> protectedPods, Path nodeCgroup) {
            this(guard, throttle, offload, dryRun, guardConfig, protectedPods, nodeCgroup, V1Offload.MADVISE);
        }

        public Options {
            if (v1Offload == null) {
                throw new IllegalArgumentException("v1Offload must be set (madvise or limit)");
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

        public static V1Offload parse(String s) {
            return switch (s) {
                case "madvise" -> MADVISE;
                case "limit" -> LIMIT;
                default -> throw new IllegalArgumentException("v1 offload method must be madvise or limit, got \""
                        + s + "\"");
            };
        }
    }

    /** One decision taken (or, in dry-run, that would have been taken). */
    public record ActionRecord(long atMillis, String loop, String pod, String container, String action, String trigger,
                               String result) {}

    private final HostFacts host;
    private final StandaloneRunner runner;
    private final Plan plan;
    private final List<PodSpec> pods;
    private final Options opt;
    private final Clock clock;
    private final Consumer<String> log;
    private final PressureGuard guard;
    private final ThrottleRelief relief;
    private final ColdOffloader offloader;
    private final RangeOffloader rangeOffloader;
    private PsiMirror psiMirror;
    private boolean psiMirrorTried;
    private String rangeOffloadRefused;
    private final List<ActionRecord> history = Collections.synchronizedList(new ArrayList<>());

    public ControlLoops(HostFacts host, StandaloneRunner runner, Plan plan, List<PodSpec> pods, Options opt, Clock clock,
                        Consumer<String> log) {
        this.host = host;
        this.runner = runner;
        this.plan = plan;
        this.pods = pods;
        this.opt = opt;
        this.clock = clock;
        this.log = log;
        this.guard = new PressureGuard(opt.guardConfig(), clock);
        this.relief = new ThrottleRelief(ThrottleRelief.Config.DEFAULTS, clock);
        this.offloader = new ColdOffloader(ColdOffloader.Config.DEFAULTS, clock);
        this.rangeOffloader = new RangeOffloader(RangeOffloader.Config.DEFAULTS, clock);
    }

    /** Removes what the loops created (the v1 PSI mirror), moving processes still in it back. */
    @Override
    public synchronized void close() throws IOException {
        if (psiMirror != null) {
            psiMirror.close();
            psiMirror = null;
        }
    }

    /** The v1 per-container PSI mirror, created on first use; null when the host cannot have one (then: none). */
    private PsiMirror psiMirror() {
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

    /** The container's cumulative anonymous refaults (memory.stat; v1 hierarchical total). */
    private static long refaults(MemoryUsage u) {
        return u.version() == CgroupVersion.V2 ? u.stat().getOrDefault("workingset_refault_anon", 0L)
                : u.stat().getOrDefault("total_workingset_refault_anon", u.stat().getOrDefault("workingset_refault_anon", 0L));
    }

    public List<ActionRecord> history() {
        synchronized (history) {
            return List.copyOf(history);
        }
    }

    /** One observe → decide → act round. */
    public synchronized void tick() throws IOException {
        List<ContainerStatus> snap = runner.snapshot().stream().filter(ContainerStatus::running).toList();
        NodeStats node = opt.nodeCgroup() == null ? NodeStats.read(host) : NodeStats.ofCgroup(host, opt.nodeCgroup());
        boolean swapRoom = node.swapTotal() > 0 && node.swapFree() > node.swapTotal() / 10;
        if (opt.guard()) {
            NodeObservation no = new NodeObservation(node.capacity(), node.workingSet(), node.swapTotal(), node.swapFree(),
                    node.swapInPages(), node.psi());
            PressureGuard.Decision d = guard.decide(no, podObservations(snap));
            for (GuardAction a : d.actions()) {
                act(a, snap);
            }
        }
        if (opt.throttle()) {
            List<ThrottleRelief.Observation> obs = new ArrayList<>();
            Map<String, ContainerStatus> byCgroup = new LinkedHashMap<>();
            for (ContainerStatus s : snap) {
                MemoryUsage u = s.usage();
                if (u == null) {
                    continue;
                }
                long declared = declaredLimit(s);
                boolean v2 = u.version() == CgroupVersion.V2;
                long high = v2 ? u.highBytes() : u.limitBytes();
                long max = v2 ? u.limitBytes() : declared;
                long planned = plannedHigh(s);
                long events = v2 ? u.events().getOrDefault("high", 0L) : u.events().getOrDefault("failcnt", 0L);
                double psi = u.pressure() == null ? -1 : u.pressure().someAvg10();
                obs.add(new ThrottleRelief.Observation(s.cgroup().toString(), u.usageBytes(), high, max, planned, events,
                        psi, swapRoom && u.swapLimitBytes() != 0));
                byCgroup.put(s.cgroup().toString(), s);
            }
            for (ThrottleRelief.Action a : relief.decide(obs)) {
                act(a, byCgroup.get(a.cgroup()));
            }
        }
        if (opt.offload()) {
            offload(snap, node);
        }
    }

    private void offload(List<ContainerStatus> snap, NodeStats node) {
        List<ColdOffloader.Observation> obs = new ArrayList<>();
        List<RangeOffloader.Observation> rangeObs = new ArrayList<>();
        List<Long> sampled = new ArrayList<>();
        Map<String, ContainerStatus> byCgroup = new LinkedHashMap<>();
        for (ContainerStatus s : snap) {
            MemoryUsage u = s.usage();
            if (u == null) {
                continue;
            }
            String key = s.cgroup().toString();
            byCgroup.put(key, s);
            long allowance = u.swapLimitBytes() < 0 ? -1 : Math.max(0, u.swapLimitBytes() - u.swapBytes());
            boolean ranges = u.version() == CgroupVersion.V1 && opt.v1Offload() == V1Offload.MADVISE
                    && rangeOffloadRefused == null;
            if (ranges) {
                if (!rangeOffloader.due(key)) {
                    continue;
                }
                Pressure own = allowance == 0 ? null : ownPressure(s);
                List<RangeOffloader.Range> rs = new ArrayList<>();
                if (allowance != 0 && node.swapTotal() > 0) {
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
                continue;
            }
            Pressure own = u.version() == CgroupVersion.V2 ? u.pressure() : allowance == 0 ? null : ownPressure(s);
            long psiTotal = own != null ? own.someTotalMicros() : node.psi() == null ? 0 : node.psi().someTotalMicros();
            long anon = u.version() == CgroupVersion.V2 ? u.stat().getOrDefault("anon", 0L)
                    : u.stat().getOrDefault("total_rss", u.stat().getOrDefault("rss", 0L));
            obs.add(new ColdOffloader.Observation(key, u.usageBytes(), anon, psiTotal, refaults(u), allowance,
                    node.swapFree(), node.swapTotal()));
        }
        for (ColdOffloader.Offload o : offloader.decide(obs)) {
            reclaim("offload", byCgroup.get(o.cgroup()), o.bytes(), o.trigger());
        }
        rangeOffloader.retain(byCgroup.keySet());
        for (RangeOffloader.Decision d : rangeOffloader.decide(rangeObs)) {
            pageout(byCgroup.get(d.cgroup()), d);
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

    private void pageout(ContainerStatus s, RangeOffloader.Decision d) {
        if (d.reclaimBytes() > 0) {
            reclaim("offload", s, d.reclaimBytes(), d.trigger());
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
                bytes += r.bytes();
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
                + (rangeOffloadRefused != null ? "; falling back to limit probing on cgroup v1" : "");
        record("offload", s.pod(), s.container(), action, d.trigger(), result);
    }

    private long declaredLimit(ContainerStatus s) {
        for (PodSpec p : pods) {
            if (p.key().equals(s.pod())) {
                for (var c : p.containers()) {
                    if (c.name().equals(s.container())) {
                        return c.resources().memoryLimitOrZero() == 0 ? -1 : c.resources().memoryLimitOrZero();
                    }
                }
            }
        }
        return -1;
    }

    private long plannedHigh(ContainerStatus s) {
        String v = s.applied().getOrDefault("memory.high", s.applied().get("memory.limit_in_bytes"));
        if (v == null || v.equals("max") || v.equals("-1")) {
            return -1;
        }
        return Long.parseLong(v);
    }

    private List<PodObservation> podObservations(List<ContainerStatus> snap) {
        List<PodObservation> out = new ArrayList<>();
        for (Plan.PodPlan pp : plan.pods()) {
            String key = pp.namespace() + "/" + pp.name();
            List<ContainerStatus> mine = snap.stream().filter(s -> s.pod().equals(key) && s.usage() != null).toList();
            if (mine.isEmpty()) {
                continue; // gone
            }
            PodSpec spec = pods.stream().filter(p -> p.key().equals(key)).findFirst().orElseThrow();
            long ws = 0;
            List<PodObservation.ContainerObservation> cs = new ArrayList<>();
            for (ContainerStatus s : mine) {
                MemoryUsage u = s.usage();
                ws += u.workingSetBytes();
                long allowance = u.swapLimitBytes() < 0 ? -1 : Math.max(0, u.swapLimitBytes() - u.swapBytes());
                long high = u.version() == CgroupVersion.V2 ? u.highBytes() : -2;
                cs.add(new PodObservation.ContainerObservation(s.container(), u.usageBytes(), allowance, high));
            }
            out.add(new PodObservation(spec, QosClass.fromApiName(pp.qosClass()), pp.memoryRequestBytes(), ws,
                    opt.protectedPods().contains(key) || Criticality.isCritical(spec), cs));
        }
        return out;
    }

    private void act(GuardAction a, List<ContainerStatus> snap) {
        switch (a) {
            case GuardAction.Reclaim r -> reclaim("guard", find(snap, r.pod(), r.container()), r.bytes(), r.trigger());
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
                        write(s.cgroup(), "memory.high", Long.toString(t.highBytes())));
            }
            case GuardAction.Evict e -> {
                String result;
                if (opt.dryRun()) {
                    result = "dry-run";
                } else {
                    int killed = 0;
                    StringBuilder errors = new StringBuilder();
                    for (ContainerStatus s : snap) {
                        if (!s.pod().equals(e.pod())) {
                            continue;
                        }
                        for (long pid : s.usage().pids()) {
                            try {
                                if (Pidfd.signal(pid, Pidfd.SIGKILL)) {
                                    killed++;
                                }
                            } catch (IOException ex) {
                                errors.append(ex.getMessage()).append("; ");
                            }
                        }
                    }
                    result = "killed " + killed + " process(es) with SIGKILL via pidfd (standalone: no Eviction API)"
                            + (errors.isEmpty() ? "" : "; errors: " + errors);
                }
                record("guard", e.pod(), null, "evict: " + e.message(), e.trigger(), result);
            }
        }
    }

    private void act(ThrottleRelief.Action a, ContainerStatus s) {
        if (s == null) {
            return;
        }
        switch (a) {
            case ThrottleRelief.Action.Reclaim r -> reclaim("throttle-relief", s, r.bytes(), r.trigger());
            case ThrottleRelief.Action.SetHigh h -> {
                String result;
                if (opt.dryRun()) {
                    result = "dry-run";
                } else if (s.usage().version() == CgroupVersion.V2) {
                    result = write(s.cgroup(), "memory.high", Long.toString(h.high()));
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

    private void reclaim(String loop, ContainerStatus s, long bytes, String trigger) {
        if (s == null) {
            return;
        }
        String result;
        if (opt.dryRun()) {
            result = "dry-run";
        } else {
            try {
                long got = CgroupReclaim.reclaim(s.cgroup(), s.usage().version(), bytes, host.pageSize());
                result = "reclaimed " + got + " bytes";
            } catch (IOException e) {
                result = "failed: " + e.getMessage();
            }
        }
        record(loop, s.pod(), s.container(), "reclaim " + bytes + " bytes", trigger, result);
    }

    private String write(Path cg, String file, String value) {
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

    private void record(String loop, String pod, String container, String action, String trigger, String result) {
        ActionRecord r = new ActionRecord(clock.millis(), loop, pod, container, action, trigger, result);
        history.add(r);
        log.accept(loop + ": " + pod + (container == null ? "" : "/" + container) + ": " + action + " (" + result
                + ") because " + trigger);
    }
}
