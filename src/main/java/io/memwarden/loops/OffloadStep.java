package io.memwarden.loops;

import io.memwarden.cgroup.MemoryUsage;
import io.memwarden.cgroup.NodeStats;
import io.memwarden.model.Pressure;
import io.memwarden.model.Clock;
import io.memwarden.control.ColdOffloader;
import io.memwarden.control.OffloadRoute;
import io.memwarden.control.RangeOffloader;
import io.memwarden.kernel.ProcessPages;
import io.memwarden.model.CgroupVersion;
import io.memwarden.model.QosClass;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The round's offload step: containers whose cold ranges can be sampled (clear_refs) go to the
 * {@link RangeOffloader} and have their cold ranges paged out; the others to the {@link ColdOffloader}, which
 * reclaims under a PSI stall target (v2 memory.reclaim, v1 limit probing). It keeps each container's offloaded bytes
 * and working-set estimate for the status.
 */
final class OffloadStep implements AutoCloseable {
    static final String LOOP = "offload";

    private final ColdOffloader offloader;
    private final RangeOffloader rangeOffloader;
    private final ContainerPressure pressure;
    private final Consumer<String> log;
    private final Map<String, Long> offloaded = new ConcurrentHashMap<>();
    private final Map<String, ColdOffloader.WorkingSetEstimate> estimates = new ConcurrentHashMap<>();
    private volatile Set<QosClass> classes = EnumSet.allOf(QosClass.class);
    private volatile Map<QosClass, Long> stallTargets = Map.of();
    /** Why this host refused process_madvise (EPERM, ENOSYS): from then on the kernel's LRU instead; null: not. */
    private String rangeOffloadRefused;

    OffloadStep(ContainerPressure pressure, Clock clock, Consumer<String> log) {
        this.offloader = new ColdOffloader(ColdOffloader.Config.DEFAULTS, clock);
        this.rangeOffloader = new RangeOffloader(RangeOffloader.Config.DEFAULTS, clock);
        this.pressure = pressure;
        this.log = log;
    }

    void classes(Set<QosClass> classes) {
        this.classes = classes.isEmpty() ? EnumSet.noneOf(QosClass.class) : EnumSet.copyOf(classes);
    }

    void stallTargets(Map<QosClass, Long> micros) {
        this.stallTargets = Map.copyOf(micros);
    }

    Map<String, Long> offloadedBytes() {
        return Map.copyOf(offloaded);
    }

    Map<String, ColdOffloader.WorkingSetEstimate> workingSetEstimates() {
        return Map.copyOf(estimates);
    }

    /** What one round found: the containers it considers, by cgroup, split by how their cold memory leaves. */
    private static final class Sample {
        final Map<String, ContainerStatus> byCgroup = new LinkedHashMap<>();
        final List<String> limitProbed = new ArrayList<>();
        final List<RangeOffloader.Observation> ranges = new ArrayList<>();
        final List<Long> sampledPids = new ArrayList<>();
    }

    void run(Round round) {
        Map<String, QosClass> classOf = new HashMap<>();
        for (ManagedWorkload.ManagedPod mp : round.pods()) {
            classOf.put(mp.key(), QosClass.fromApiName(mp.plan().qosClass()));
        }
        Sample sample = sample(round, classOf);
        for (ColdOffloader.Offload o : offloader.decide(sample.limitProbed,
                key -> observe(sample.byCgroup.get(key), round.node(), classOf))) {
            ContainerStatus s = sample.byCgroup.get(o.cgroup());
            countOffloaded(s, round.reclaim(LOOP, s, o.bytes(), o.trigger()));
        }
        keepEstimates(sample.byCgroup.values());
        rangeOffloader.retain(sample.byCgroup.keySet());
        for (RangeOffloader.Decision d : rangeOffloader.decide(sample.ranges)) {
            pageout(sample.byCgroup.get(d.cgroup()), d, round);
        }
        // only now start the next sample: the LRU reclaim above relied on the accessed bits of the whole interval
        // to spare the hot pages (clearing them first would have left it nothing to tell hot from cold)
        for (long pid : sample.sampledPids) {
            try {
                ProcessPages.clearRefs(pid);
            } catch (IOException e) {
                log.accept("offload: cannot clear the referenced bits of pid " + pid + " (" + e.getMessage() + ")");
            }
        }
    }

    /** The containers of the offloaded classes; the range-sampled ones read when their sample is due. */
    private Sample sample(Round round, Map<String, QosClass> classOf) {
        Set<QosClass> classes = this.classes;
        LoopOptions opt = round.options();
        NodeStats node = round.node();
        Sample out = new Sample();
        for (ContainerStatus s : round.running()) {
            MemoryUsage u = s.usage();
            if (u == null || !classes.contains(classOf.getOrDefault(s.pod(), QosClass.BEST_EFFORT))) {
                continue;
            }
            String key = s.cgroup().toString();
            out.byCgroup.put(key, s);
            boolean madvise = (u.version() == CgroupVersion.V1 ? opt.v1Offload() == LoopOptions.V1Offload.MADVISE
                    : opt.v2Offload() == LoopOptions.V2Offload.MADVISE) && rangeOffloadRefused == null;
            if (!madvise) {
                out.limitProbed.add(key); // observed by the offloader, only when its interval has passed
                continue;
            }
            if (!rangeOffloader.due(key)) {
                continue; // nothing read until a sample is due
            }
            try {
                long allowance = allowance(u);
                boolean room = allowance != 0 && node.swapTotal() > 0; // else nothing can go out either way
                if (room && !OffloadRoute.ranges(u.version(), opt.v1Offload() == LoopOptions.V1Offload.MADVISE,
                        opt.v2Offload() == LoopOptions.V2Offload.MADVISE, rangeOffloadRefused != null, u.pids(),
                        ProcessPages::visible)) {
                    out.limitProbed.add(key); // its processes cannot be sampled from here: the kernel's LRU instead
                    continue;
                }
                Pressure own = allowance == 0 ? null : pressure.of(s);
                List<RangeOffloader.Range> rs = room ? ranges(s, u, out.sampledPids) : new ArrayList<>();
                out.ranges.add(new RangeOffloader.Observation(key, rs, own == null ? -1 : own.someTotalMicros(),
                        refaults(u), allowance, node.swapFree(), node.swapTotal()));
            } catch (UncheckedIOException e) {
                // removed during the round
            }
        }
        return out;
    }

    /** Every mapping of the container's processes with its anonymous and referenced bytes. */
    private List<RangeOffloader.Range> ranges(ContainerStatus s, MemoryUsage u, List<Long> sampledPids) {
        List<RangeOffloader.Range> rs = new ArrayList<>();
        for (long pid : u.pids()) {
            try {
                sampledPids.add(pid);
                for (ProcessPages.Mapping m : ProcessPages.read(pid)) {
                    rs.add(new RangeOffloader.Range(pid, m.start(), m.end(), m.anonymousBytes(), m.referencedBytes()));
                }
            } catch (IOException e) {
                log.accept("offload: " + s.pod() + "/" + s.container() + ": cannot sample pid " + pid + " ("
                        + e.getMessage() + ")");
            }
        }
        return rs;
    }

    /** A limit-probed container's numbers, when the offloader asks; null when it was removed during the round. */
    private ColdOffloader.Observation observe(ContainerStatus s, NodeStats node, Map<String, QosClass> classOf) {
        MemoryUsage u = s.usage();
        try {
            long allowance = allowance(u);
            Pressure own = u.version() == CgroupVersion.V2 ? u.pressure() : allowance == 0 ? null : pressure.of(s);
            long psiTotal = own != null ? own.someTotalMicros()
                    : node.psi() == null ? 0 : node.psi().someTotalMicros();
            long anon = u.version() == CgroupVersion.V2 ? u.stat().getOrDefault("anon", 0L)
                    : u.stat().getOrDefault("total_rss", u.stat().getOrDefault("rss", 0L));
            Long target = stallTargets.get(classOf.getOrDefault(s.pod(), QosClass.BEST_EFFORT));
            return new ColdOffloader.Observation(s.cgroup().toString(), u.usageBytes(), anon, psiTotal, refaults(u),
                    allowance, node.swapFree(), node.swapTotal(), target == null ? -1 : target);
        } catch (UncheckedIOException e) {
            return null;
        }
    }

    private void keepEstimates(Iterable<ContainerStatus> considered) {
        Set<String> present = new HashSet<>();
        for (ContainerStatus s : considered) {
            String k = s.pod() + "/" + s.container();
            present.add(k);
            ColdOffloader.WorkingSetEstimate e = offloader.estimate(s.cgroup().toString());
            if (e != null) {
                estimates.put(k, e);
            }
        }
        estimates.keySet().retainAll(present);
    }

    private void pageout(ContainerStatus s, RangeOffloader.Decision d, Round round) {
        if (d.reclaimBytes() > 0) {
            countOffloaded(s, round.reclaim(LOOP, s, d.reclaimBytes(), d.trigger()));
        }
        if (d.ranges().isEmpty()) {
            return;
        }
        String action = "page out " + d.ranges().size() + " cold range(s), ~" + d.estimatedBytes() + " bytes";
        Actuator.PagedOut p = round.actuator().pageout(s, d.ranges());
        if (p.refusal() != null) {
            rangeOffloadRefused = p.refusal();
        }
        String result = p.result().equals("dry-run") || rangeOffloadRefused == null ? p.result()
                : p.result() + "; falling back to " + OffloadRoute.fallback(s.usage().version());
        round.record(LOOP, s.pod(), s.container(), action, d.trigger(), result);
    }

    private void countOffloaded(ContainerStatus s, long bytes) {
        if (s != null && bytes > 0) {
            offloaded.merge(s.pod() + "/" + s.container(), bytes, Long::sum);
        }
    }

    /** Bytes the container may still swap: -1 unlimited, 0 none. */
    private static long allowance(MemoryUsage u) {
        return u.swapLimitBytes() < 0 ? -1 : Math.max(0, u.swapLimitBytes() - u.swapBytes());
    }

    /** The container's cumulative anonymous refaults (memory.stat; v1 hierarchical total). */
    private static long refaults(MemoryUsage u) {
        return u.version() == CgroupVersion.V2 ? u.stat().getOrDefault("workingset_refault_anon", 0L)
                : u.stat().getOrDefault("total_workingset_refault_anon",
                        u.stat().getOrDefault("workingset_refault_anon", 0L));
    }

    /** Removes the v1 PSI mirror, if one was made. */
    @Override
    public void close() throws IOException {
        pressure.close();
    }
}
