package io.memwarden.loops;

import io.memwarden.cgroup.HostFacts;
import io.memwarden.cgroup.MemoryUsage;
import io.memwarden.cgroup.NodeStats;
import io.memwarden.control.BalloonWatch;
import io.memwarden.control.ColdOffloader;
import io.memwarden.model.CgroupVersion;
import io.memwarden.policy.Plan;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The status of a managed workload ({@code memwarden run}'s processes, the agent's containers), read per scrape or
 * status request: every container's cgroup numbers and plan, the node's (or the confining cgroup's)
 * {@link NodeStats} (with what a hypervisor's balloon left, as the loops' last round saw it), the control loops'
 * actions and offload numbers, and the OOM kills seen. The status API serves it
 * ({@code RunStatus::status} is its status source).
 */
public final class RunStatus {
    private final HostFacts host;
    private final ManagedWorkload workload;
    private final ControlLoops loops;
    private final Path nodeCgroup;
    private final OomKillWatch oomKills;

    /**
     * @param loops      null when no control loops run
     * @param nodeCgroup a cgroup that stands in for the node ({@code --confine}), or null for the host
     * @param oomKills   the kernel-log OOM watch, or null when the kernel log is not read
     */
    public RunStatus(HostFacts host, ManagedWorkload workload, ControlLoops loops, Path nodeCgroup,
                     OomKillWatch oomKills) {
        this.host = host;
        this.workload = workload;
        this.loops = loops;
        this.nodeCgroup = nodeCgroup;
        this.oomKills = oomKills;
    }

    public NodeStatus status() throws IOException {
        NodeStats n = nodeCgroup == null ? NodeStats.read(host) : NodeStats.ofCgroup(host, nodeCgroup);
        // the loops stamp actions with their own monotonic clock; the status shows wall-clock epoch millis
        long now = System.currentTimeMillis();
        long loopClockToEpoch = loops == null ? 0 : now - loops.clock().millis();
        ActionHistory.Snapshot history = loops == null ? null : loops.historySnapshot();
        List<NodeStatus.LoopAction> actions = history == null ? List.of() : history.actions().stream()
                .map(r -> action(r, loopClockToEpoch)).toList();
        List<NodeStatus.Container> containers = new ArrayList<>();
        Map<String, Plan.PodPlan> plans = new HashMap<>();
        Map<String, Long> offloaded = loops == null ? Map.of() : loops.offloadedBytes();
        Map<String, ColdOffloader.WorkingSetEstimate> estimates = loops == null ? Map.of()
                : loops.workingSetEstimates();
        for (ManagedWorkload.ManagedPod mp : workload.pods()) {
            plans.put(mp.key(), mp.plan());
        }
        for (ContainerStatus s : workload.lazySnapshot()) { // only the files the status shows
            String[] nsName = s.pod().split("/", 2);
            Plan.PodPlan pp = plans.get(s.pod());
            Plan.ContainerPlan cp = pp == null ? null : pp.containers().stream()
                    .filter(c -> c.name().equals(s.container())).findFirst().orElse(null);
            NodeStatus.LoopAction last = null;
            for (NodeStatus.LoopAction a : actions) {
                if (a.namespace().equals(nsName[0]) && a.pod().equals(nsName[1])
                        && (a.container() == null || a.container().equals(s.container()))) {
                    last = a;
                }
            }
            containers.add(new NodeStatus.Container(nsName[0], nsName[1], s.container(), s.init(),
                    pp == null ? "" : pp.qosClass(), s.swapBehavior(), s.running(), s.exitCode(), memory(s.usage()),
                    last, cp, offload(s.pod() + "/" + s.container(), offloaded, estimates, loopClockToEpoch)));
        }
        BalloonWatch.State b = loops == null ? null : loops.balloon();
        NodeStatus.Balloon balloon = b == null || b.driver().equals("none") ? null : new NodeStatus.Balloon(b.driver(),
                b.physicalBytes(), b.balloonBytes(), b.effectiveBytes(), b.growthBytesPerSecond(),
                b.freePageReporting(), b.source(), loops.balloonPodRequests());
        if (balloon != null && nodeCgroup == null && b.insideMemTotal()) {
            // a balloon that still counts in MemTotal (the loops' round takes it out the same way)
            n = n.lessBalloon(b.balloonBytes(), host);
        }
        return new NodeStatus(now, new NodeStatus.Node(n.capacity(), n.memoryAvailable(),
                n.swapTotal(), n.swapFree(), n.swapInPages(), n.psi(), balloon,
                loops == null || !loops.options().guard() ? null : loops.guardState(loopClockToEpoch)), containers, actions,
                oomKills == null ? null : oomKills.counts(podsOnNode(plans.keySet(), containers)),
                history == null ? 0 : history.dropped());
    }

    /** The pods on the node: the managed ones and those of the containers seen ("namespace/name"). */
    static Set<String> podsOnNode(Set<String> managed, List<NodeStatus.Container> containers) {
        Set<String> pods = new HashSet<>(managed);
        containers.forEach(c -> pods.add(c.namespace() + "/" + c.pod()));
        return pods;
    }

    /** The offload loop's numbers for the container {@code NS/POD/NAME}; null when it has none. */
    static NodeStatus.Offload offload(String key, Map<String, Long> offloaded,
                                      Map<String, ColdOffloader.WorkingSetEstimate> estimates, long loopClockToEpoch) {
        Long bytes = offloaded.get(key);
        ColdOffloader.WorkingSetEstimate e = estimates.get(key);
        if (bytes == null && e == null) {
            return null;
        }
        return new NodeStatus.Offload(bytes == null ? 0 : bytes, e == null ? null : e.bytes(),
                e == null ? null : e.atMillis() + loopClockToEpoch, e == null ? null : e.how());
    }

    static NodeStatus.Memory memory(MemoryUsage u) {
        if (u == null) {
            return null;
        }
        try {
            return memoryOf(u);
        } catch (UncheckedIOException e) {
            return null; // the cgroup went away while it was read
        }
    }

    private static NodeStatus.Memory memoryOf(MemoryUsage u) {
        return new NodeStatus.Memory(u.version() == CgroupVersion.V1 ? 1 : 2, u.usageBytes(), u.workingSetBytes(),
                u.swapBytes(), u.limitBytes(), u.swapLimitBytes(), u.version() == CgroupVersion.V1 ? -1 : u.highBytes(),
                u.events());
    }

    /** @param loopClockToEpoch added to the record's loop-clock millis gives epoch millis */
    static NodeStatus.LoopAction action(ActionRecord r, long loopClockToEpoch) {
        String[] nsName = r.pod().split("/", 2);
        return new NodeStatus.LoopAction(r.atMillis() + loopClockToEpoch, r.loop(), nsName[0], nsName.length > 1 ? nsName[1] : "",
                r.container(), r.action(), r.trigger(), r.result(), r.actedOn());
    }
}
