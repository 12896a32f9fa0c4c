package io.memwarden.nri;

import io.memwarden.model.ContainerSpec;
import io.memwarden.model.NodeFacts;
import io.memwarden.model.PodSpec;
import io.memwarden.model.QosClass;
import io.memwarden.nri.api.Container;
import io.memwarden.nri.api.PodSandbox;
import io.memwarden.nri.wire.RpcException;
import io.memwarden.nri.wire.StatusCode;
import io.memwarden.policy.KubeletSettings;
import io.memwarden.policy.Plan.ContainerPlan;
import io.memwarden.policy.Plan.PlanError;
import io.memwarden.policy.Planner;
import io.memwarden.policy.WardenConfig;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Plans one container: finds its pod's spec ({@link PodResolver}), plans the pod with the policy and picks the
 * container's plan, with its provenance and, in degraded mode, the files that depend on the unknown request.
 */
final class ContainerPlanning {
    /** A pod resolved and planned once for every container of a pass over the registry. */
    record PodPass(ResolvedPod resolved, PodSpec spec, List<String> notes, Planner.PodOutcome outcome,
                   boolean perPod) {}

    private final NodeFacts node;
    private final KubeletSettings kubelet;
    private final NriRegistry registry;
    private final PodResolver resolver;
    private volatile Planner planner;
    private volatile MemoryBackedVolumes volumes = MemoryBackedVolumes.NOT_DETECTED;

    /** @throws IllegalArgumentException when the kubelet config does not fit the node */
    ContainerPlanning(NodeFacts node, KubeletSettings kubelet, WardenConfig config, NriRegistry registry,
                      PodResolver resolver) {
        this.node = node;
        this.kubelet = kubelet;
        this.registry = registry;
        this.resolver = resolver;
        this.planner = new Planner(node, kubelet, config);
    }

    /** What the node offers for memory-backed volumes (tmpfs noswap), found by the caller at start. */
    void useVolumes(MemoryBackedVolumes v) {
        volumes = v;
    }

    /** Plans with {@code config} from now on. @throws IllegalArgumentException when it does not fit the node */
    void usePolicy(WardenConfig config) {
        planner = new Planner(node, kubelet, config);
    }

    /**
     * Plans {@code c} of {@code pod}.
     *
     * @param newLimit a resized memory limit from the runtime (UpdateContainer), applied over a manifest's
     * @param mayWait  wait (bounded) for a source that may learn the pod shortly
     * @throws RpcException (Unknown) with the policy's error text when the container cannot be planned
     */
    Planned plan(PodSandbox pod, Container c, Long newLimit, boolean mayWait) throws RpcException {
        return plan(pod, c, newLimit, mayWait, null);
    }

    /**
     * @param pass when not null, a pass over the registry's stored containers (Synchronize, reload): the pod's spec
     *             and plan are the same for each of its containers, so they are made once per pod, not once per
     *             container (a pod of n containers costs n container plans, not n²)
     */
    Planned plan(PodSandbox pod, Container c, Long newLimit, boolean mayWait, Map<String, PodPass> pass)
            throws RpcException {
        PodPass known = pass == null || newLimit != null ? null : pass.get(pod.getId());
        PodPass pp = known != null ? known : planPod(pod, c, newLimit, mayWait);
        if (pass != null && known == null && newLimit == null && pp.perPod()) {
            pass.put(pod.getId(), pp);
        }
        return pick(pp, c);
    }

    private PodPass planPod(PodSandbox pod, Container c, Long newLimit, boolean mayWait) {
        ResolvedPod rp = resolver.resolve(new PodQuery(pod, registry.containersOf(pod.getId(), c), c), mayWait);
        PodSpec spec = rp.spec();
        List<String> notes = new ArrayList<>(rp.notes());
        if (newLimit != null && !rp.degraded()) {
            spec = withLimit(spec, c.getName(), newLimit);
            notes.add("memory limit " + newLimit + " from the runtime's update (in-place resize) replaces "
                    + rp.source() + "'s");
        }
        // the same for each container of the pod unless the source has the pod but not this container
        return new PodPass(rp, spec, notes, planner.planPod(spec), resolver.samePerPod(rp));
    }

    /** The container's plan from its pod's, or its pod's errors that concern it. */
    private Planned pick(PodPass pp, Container c) throws RpcException {
        List<String> errors = new ArrayList<>();
        for (PlanError e : pp.outcome().errors()) {
            if (e.container() == null || e.container().equals(c.getName())) {
                errors.add(e.message());
            }
        }
        if (!errors.isEmpty()) {
            throw new RpcException(StatusCode.UNKNOWN, String.join("; ", errors));
        }
        PodSpec spec = pp.spec();
        ResolvedPod rp = pp.resolved();
        if (pp.outcome().plan() != null) {
            for (ContainerPlan cp : pp.outcome().plan().containers()) {
                if (cp.name().equals(c.getName())) {
                    List<String> reasons = new ArrayList<>(pp.notes());
                    reasons.addAll(cp.reasons());
                    NoswapMounts.Outcome mounts = NoswapMounts.decide(node.cgroupVersion(), cp, c, volumes);
                    reasons.addAll(mounts.reasons());
                    Set<String> dependent = rp.degraded() && spec.statusQosClass() == QosClass.BURSTABLE
                            ? requestDependentFiles(spec, c.getName(), cp) : Set.of();
                    return new Planned(cp, pp.outcome().plan(), spec, spec.key(), rp.source(), rp.degraded(),
                            dependent, reasons, mounts);
                }
            }
        }
        throw new RpcException(StatusCode.UNKNOWN, "no plan for container " + c.getName() + " of pod " + spec.key());
    }

    /**
     * The files of {@code cp} that change when the container's unknown memory request changes: plans the pod again
     * with other explicit requests for the container (none, and half its limit) and compares.
     */
    private Set<String> requestDependentFiles(PodSpec spec, String container, ContainerPlan cp) {
        Set<String> out = new HashSet<>();
        ContainerSpec mine = spec.containers().stream().filter(c -> c.name().equals(container)).findFirst().orElseThrow();
        Long limit = mine.resources().memoryLimit();
        long half = limit != null && limit > 1 ? limit / 2 : 256L << 20;
        for (long request : new long[] {0, half}) {
            Planner.PodOutcome o = planner.planPod(spec.withContainer(container, c -> c.withResources(
                    c.resources().withMemory(request, c.resources().memoryLimit()))));
            ContainerPlan other = o.plan() == null ? null : o.plan().containers().stream()
                    .filter(x -> x.name().equals(container)).findFirst().orElse(null);
            for (var e : cp.cgroup().entrySet()) {
                if (other == null || !e.getValue().equals(other.cgroup().get(e.getKey()))) {
                    out.add(e.getKey());
                }
            }
        }
        return out;
    }

    private static PodSpec withLimit(PodSpec spec, String container, long limit) {
        return spec.withContainer(container, c -> {
            Long req = c.resources().memoryRequest();
            return c.withResources(c.resources().withMemory(req != null && req > limit ? Long.valueOf(limit) : req,
                    limit));
        });
    }
}
