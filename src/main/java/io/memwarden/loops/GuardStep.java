package io.memwarden.loops;

import io.memwarden.cgroup.MemoryUsage;
import io.memwarden.cgroup.NodeStats;
import io.memwarden.model.Clock;
import io.memwarden.control.BalloonWatch;
import io.memwarden.control.GuardAction;
import io.memwarden.control.NodeObservation;
import io.memwarden.control.PodObservation;
import io.memwarden.control.PressureGuard;
import io.memwarden.model.CgroupVersion;
import io.memwarden.model.PodSpec;
import io.memwarden.model.QosClass;
import io.memwarden.policy.Criticality;
import io.memwarden.policy.Plan;
import io.memwarden.control.KubeletEviction;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The round's pressure-guard step: the node's numbers (and the pods' near a threshold) → {@link PressureGuard}. */
final class GuardStep {
    static final String LOOP = "guard";
    /** The action text of a direct kill (followed by the kubelet-style message). */
    static final String DIRECT_KILL = "evict (direct kill, no Eviction API): ";
    /** The result of a direct kill starts so (metrics: result="direct_kill"). */
    static final String KILLED_DIRECTLY = "killed directly: ";

    private final Clock clock;
    /** the kubelet's thresholds and their state: kept when memwarden's own thresholds change */
    private final KubeletEviction kubelet;
    private volatile PressureGuard guard;

    GuardStep(PressureGuard.Config config, KubeletEviction.Settings kubeletSettings, Clock clock) {
        this.clock = clock;
        this.kubelet = new KubeletEviction(kubeletSettings);
        this.guard = new PressureGuard(config, kubelet, clock);
    }

    /** The thresholds the guard decided on in the last round (the options' until then). */
    PressureGuard.Config config() {
        return guard.config();
    }

    /** New thresholds: the guard starts afresh (grace and cooldown timers); the same ones keep its state. */
    void reconfigure(PressureGuard.Config previous, PressureGuard.Config next) {
        if (!next.equals(previous)) {
            guard = new PressureGuard(next, kubelet, clock);
        }
    }

    /** The kubelet's eviction settings changed: thresholds still configured keep their state. */
    void kubeletSettings(KubeletEviction.Settings next) {
        if (!next.equals(kubelet.settings())) {
            kubelet.settings(next);
        }
    }

    /** The guard's level and the kubelet's last pass (for the status). */
    PressureGuard.Level level() {
        return guard.level();
    }

    KubeletEviction kubelet() {
        return kubelet;
    }

    void run(Round round) {
        NodeStats node = round.node();
        PressureGuard.Config cfg = round.guardConfig();
        if (!cfg.equals(guard.config())) {
            guard.retune(cfg); // the balloon changed the capacity: same guard, thresholds on what is left
        }
        BalloonWatch.State balloon = round.options().nodeCgroup() == null ? round.balloon() : null;
        NodeObservation no = pods(round, new NodeObservation(node.capacity(), node.workingSet(), node.swapTotal(),
                node.swapFree(), node.swapInPages(), node.psi(),
                balloon == null ? 0 : Math.max(0, balloon.growthBytesPerSecond())));
        // the pods' numbers only where they can change the decision (near or past a threshold)
        PressureGuard.Decision d = guard.decide(no, guard.needsPods(no) ? podObservations(round) : List.of());
        for (GuardAction a : d.actions()) {
            act(a, round, guard);
        }
    }

    /**
     * The kubepods cgroup's numbers for allocatableMemory.available (kubelet-semantics §4: the same as memory.available,
     * on the pods system container): its memory limit as capacity, its working set; not observed without the cgroup,
     * without a limit on it, or when it cannot be read.
     */
    private static NodeObservation pods(Round round, NodeObservation node) {
        Path pods = round.options().podsCgroup();
        if (pods == null || round.options().kubeletEviction().thresholds().isEmpty()) {
            return node;
        }
        try {
            MemoryUsage u = MemoryUsage.read(pods, round.host().memoryController());
            long limit = u.limitBytes();
            return limit < 0 ? node : node.withPods(limit, u.workingSetBytes());
        } catch (IOException | UncheckedIOException e) {
            return node; // not there (yet), or gone: the signal is not observed this round
        }
    }

    private static List<PodObservation> podObservations(Round round) {
        List<PodObservation> out = new ArrayList<>();
        for (ManagedWorkload.ManagedPod mp : round.pods()) {
            Plan.PodPlan pp = mp.plan();
            String key = mp.key();
            List<ContainerStatus> mine = round.running().stream()
                    .filter(s -> s.pod().equals(key) && s.usage() != null).toList();
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
                } catch (UncheckedIOException e) {
                    // removed during the round
                }
            }
            if (cs.isEmpty()) {
                continue;
            }
            out.add(new PodObservation(spec, QosClass.fromApiName(pp.qosClass()), pp.memoryRequestBytes(), ws,
                    ProtectedPods.contains(round.options().protectedPods(), key) || Criticality.isCritical(spec), cs));
        }
        return out;
    }

    private static void act(GuardAction a, Round round, PressureGuard guard) {
        switch (a) {
            case GuardAction.Reclaim r -> round.reclaim(LOOP, round.find(r.pod(), r.container()), r.bytes(),
                    r.trigger(), r.acted());
            case GuardAction.Throttle t -> {
                ContainerStatus s = round.find(t.pod(), t.container());
                if (s == null) {
                    return;
                }
                if (s.usage().version() != CgroupVersion.V2) {
                    round.record(LOOP, t.pod(), t.container(), "throttle at " + t.highBytes(), t.trigger(),
                            "skipped: cgroup v1 has no memory.high (lowering the hard limit would OOM-kill)", t.acted(),
                            null);
                    return;
                }
                round.record(LOOP, t.pod(), t.container(), "memory.high=" + t.highBytes(), t.trigger(),
                        round.actuator().setHigh(s, t.highBytes()), t.acted(), null);
            }
            case GuardAction.Evict e -> {
                List<ContainerStatus> podContainers = round.running().stream()
                        .filter(s -> s.pod().equals(e.pod())).toList();
                Evictor.Result r = round.actuator().evict(e.pod(), e.message(), e.podGraceSeconds(), podContainers);
                guard.evictionOutcome(e.pod(), r.outcome(), r.text());
                round.record(LOOP, e.pod(), null, "evict: " + e.message(), e.trigger(), r.text(), e.acted(),
                        e.podGraceSeconds());
            }
            case GuardAction.Kill k -> {
                List<ContainerStatus> podContainers = round.running().stream()
                        .filter(s -> s.pod().equals(k.pod())).toList();
                String result = round.actuator().kill(k.pod(), k.message(), k.reason(), podContainers);
                round.record(LOOP, k.pod(), null, DIRECT_KILL + k.message(), k.trigger() + "; " + k.reason(),
                        result.equals("dry-run") || result.startsWith("failed") ? result : KILLED_DIRECTLY + result,
                        k.acted(), null);
            }
        }
    }
}
