package io.memwarden.density;

import io.memwarden.model.CgroupFiles;
import io.memwarden.model.CgroupVersion;
import io.memwarden.model.ClusterNode;
import io.memwarden.model.ContainerSpec;
import io.memwarden.model.NodeFacts;
import io.memwarden.model.PodSpec;
import io.memwarden.model.QosClass;
import io.memwarden.model.Scheduling;
import io.memwarden.model.Usage;
import io.memwarden.model.VmiSpec;
import io.memwarden.model.WorkloadSpec;
import io.memwarden.policy.KubeVirtConfig;
import io.memwarden.policy.KubeVirtResources;
import io.memwarden.policy.KubeletSettings;
import io.memwarden.policy.Plan;
import io.memwarden.policy.Planner;
import io.memwarden.policy.WardenConfig;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Packs a cluster's workloads onto its nodes under each scenario (docs/density.md): {@code requested} (the
 * manifests as written), {@code right-sized} (memory requests from observed working sets plus a margin, cold memory
 * left to swap where memwarden's plan lets the container swap), {@code vm-overcommit} (KubeVirt VMs sized with a
 * memoryOvercommit ratio; only when there are VMs). Pure: inputs in, a {@link DensityReport} out.
 */
public final class DensityPlanner {

    public static final String REQUESTED = "requested";
    public static final String RIGHT_SIZED = "right-sized";
    public static final String VM_OVERCOMMIT = "vm-overcommit";

    /** At most this many per-pod warnings of one kind per scenario; the rest are counted. */
    static final int WARNINGS_PER_KIND = 10;

    /**
     * @param nodes               in any order (placed in name order)
     * @param usage               observed working sets, null when none
     * @param marginPercent       right-sized request = hot working set × (100 + margin) / 100
     * @param vmOvercommitPercent memoryOvercommit of the vm-overcommit scenario
     */
    public record Inputs(List<ClusterNode> nodes, List<WorkloadSpec> workloads, List<VmiSpec> vms, Usage usage,
                         KubeletSettings kubelet, WardenConfig config, KubeVirtConfig kubevirt, int marginPercent,
                         int vmOvercommitPercent) {
        public Inputs {
            nodes = nodes.stream().sorted(Comparator.comparing(ClusterNode::name)).toList();
            workloads = List.copyOf(workloads);
            vms = List.copyOf(vms);
            if (marginPercent < 0) {
                throw new IllegalArgumentException("margin must not be negative, got " + marginPercent);
            }
        }
    }

    /** The default right-sizing margin: 15 %, the Vertical Pod Autoscaler recommender's safety margin. */
    public static final int DEFAULT_MARGIN_PERCENT = 15;
    /** The default vm-overcommit ratio: 150 %, OpenShift's documented setting with swap. */
    public static final int DEFAULT_VM_OVERCOMMIT_PERCENT = 150;

    /** DaemonSet pods tolerate these taints by default (the DaemonSet controller adds the tolerations). */
    static final List<Scheduling.Toleration> DAEMONSET_TOLERATIONS = List.of(
            new Scheduling.Toleration("node.kubernetes.io/not-ready", true, null, Scheduling.TaintEffect.NoExecute),
            new Scheduling.Toleration("node.kubernetes.io/unreachable", true, null, Scheduling.TaintEffect.NoExecute),
            new Scheduling.Toleration("node.kubernetes.io/disk-pressure", true, null, Scheduling.TaintEffect.NoSchedule),
            new Scheduling.Toleration("node.kubernetes.io/memory-pressure", true, null,
                    Scheduling.TaintEffect.NoSchedule),
            new Scheduling.Toleration("node.kubernetes.io/pid-pressure", true, null, Scheduling.TaintEffect.NoSchedule),
            new Scheduling.Toleration(NodeFilters.UNSCHEDULABLE, true, null, Scheduling.TaintEffect.NoSchedule));

    private final Inputs in;
    private final boolean podLevel;
    private final List<String> warnings = new ArrayList<>();
    private final Map<NodeFacts, Planner> planners = new HashMap<>();
    private final Map<PodKey, PodFacts> podFacts = new HashMap<>();
    private final NodeFacts swapNode;

    private DensityPlanner(Inputs in) {
        this.in = in;
        this.podLevel = in.kubelet().podLevelResourcesGate();
        NodeFacts best = null;
        for (ClusterNode n : in.nodes()) {
            if (n.swapCapacity() > 0 && (best == null || n.swapCapacity() > best.swapCapacity())) {
                best = facts(n);
            }
        }
        swapNode = best;
    }

    /**
     * Plans every scenario.
     *
     * @throws IllegalArgumentException when a node's facts contradict the kubelet config (reservations above
     *                                  capacity)
     */
    public static DensityReport plan(Inputs in) {
        return new DensityPlanner(in).run();
    }

    /** One pod of the queue, in every scenario's shape. */
    private record Member(String namespace, String name, String workload, PodSpec pod, Scheduling scheduling,
                          String pinnedNode, int priority, boolean daemon, int order, boolean vm, VmiSpec vmi) {
        String key() {
            return namespace + "/" + name;
        }
    }

    private DensityReport run() {
        List<Member> members = expand();
        Map<String, Usage.PodUsage> usage = in.usage() == null ? Map.of() : in.usage().pods();
        if (in.usage() != null) {
            java.util.Set<String> known = new java.util.HashSet<>();
            for (Member m : members) {
                known.add(m.key());
                known.add(m.namespace() + "/" + m.workload());
            }
            for (String k : usage.keySet()) {
                if (!known.contains(k)) {
                    warnings.add("usage: no pod or workload " + k + " in the workloads: its entry is not used");
                }
            }
        }
        List<DensityReport.Scenario> scenarios = new ArrayList<>();
        Scenario requested = scenario(REQUESTED, members, m -> m.pod());
        scenarios.add(requested.report(requested.outcome.placed()));
        int base = requested.outcome.placed();
        List<String> reqSwap = new ArrayList<>();
        for (int i = 0; i < requested.queue.size(); i++) {
            Member m = requested.queue.get(i);
            int at = requested.outcome.nodeOf()[i];
            Usage.PodUsage u = usageOf(m, usage);
            if (at < 0 || u == null) {
                continue;
            }
            long req = EffectiveRequest.of(m.pod(), podLevel).memory();
            if (u.workingSet() > req) {
                PodFacts f = podFacts(m.pod(), facts(in.nodes().get(at)));
                if (f.swapAllowance() > 0) {
                    reqSwap.add(m.key() + " on " + in.nodes().get(at).name() + ": working set " + Bytes.text(
                            u.workingSet()) + " exceeds its request by " + Bytes.text(u.workingSet() - req)
                            + "; under node memory pressure up to " + Bytes.text(Math.min(u.workingSet() - req,
                            f.swapAllowance())) + " of it would swap");
                }
            }
        }
        perPod(REQUESTED, "pods would swap", reqSwap);
        if (in.usage() != null) {
            List<String> coldInSwap = new ArrayList<>();
            Map<String, PodSpec> rightSized = new HashMap<>();
            for (Member m : members) {
                Usage.PodUsage u = usageOf(m, usage);
                if (u != null && !m.vm()) {
                    rightSized.put(m.key(), rightSize(m, u, coldInSwap));
                }
            }
            Scenario rs = scenario(RIGHT_SIZED, members, m -> rightSized.getOrDefault(m.key(), m.pod()));
            scenarios.add(rs.report(base));
            perPod(RIGHT_SIZED, "pods keep cold memory in swap", coldInSwap);
            if (swapNode == null) {
                warnings.add(RIGHT_SIZED + ": no node reports swap (status.nodeInfo.swap.capacity): cold memory is"
                        + " not left to swap, requests follow the whole working set");
            } else {
                List<String> noSwap = in.nodes().stream().filter(n -> n.swapCapacity() == 0).map(ClusterNode::name)
                        .toList();
                if (!noSwap.isEmpty()) {
                    warnings.add(RIGHT_SIZED + ": cold memory is left to swap as on a node with swap, but "
                            + noSwap.size() + " node(s) have none (" + first(noSwap) + "): pods placed there cannot"
                            + " swap it");
                }
            }
        }
        if (!in.vms().isEmpty()) {
            KubeVirtConfig kv = in.kubevirt();
            KubeVirtConfig over = new KubeVirtConfig(in.vmOvercommitPercent(), kv.additionalGuestMemoryOverheadRatio(),
                    kv.cpuAllocationRatio(), kv.serialConsoleLogDisabled());
            Map<String, PodSpec> launchers = new HashMap<>();
            List<String> vmWarn = new ArrayList<>();
            for (Member m : members) {
                if (m.vm()) {
                    KubeVirtResources.Rendered r = KubeVirtResources.render(m.vmi(), over,
                            NodeFacts.DEFAULT_ARCHITECTURE);
                    launchers.put(m.key(), r.launcherPod());
                    long guest = r.plan().guestMemoryBytes();
                    long asked = r.plan().computeContainer().requestBytes() - r.plan().overheadBytes();
                    if (guest > asked) {
                        vmWarn.add(m.key() + ": guest memory " + Bytes.text(guest) + " exceeds its request by "
                                + Bytes.text(guest - asked) + ", which the node must absorb (swap or free memory)");
                    }
                }
            }
            Scenario vm = scenario(VM_OVERCOMMIT, members, m -> launchers.getOrDefault(m.key(), m.pod()));
            scenarios.add(vm.report(base));
            perPod(VM_OVERCOMMIT + " (memoryOvercommit " + in.vmOvercommitPercent() + "%)", "VMs overcommit their"
                    + " guest memory", vmWarn);
        }
        return new DensityReport(scenarios, warnings);
    }

    private static String first(List<String> names) {
        return names.size() <= 3 ? String.join(", ", names) : String.join(", ", names.subList(0, 3)) + ", …";
    }

    private void perPod(String scenario, String what, List<String> lines) {
        if (lines.isEmpty()) {
            return;
        }
        for (int i = 0; i < Math.min(lines.size(), WARNINGS_PER_KIND); i++) {
            warnings.add(scenario + ": " + lines.get(i));
        }
        if (lines.size() > WARNINGS_PER_KIND) {
            warnings.add(scenario + ": … and " + (lines.size() - WARNINGS_PER_KIND) + " more " + what);
        }
    }

    private static Usage.PodUsage usageOf(Member m, Map<String, Usage.PodUsage> usage) {
        Usage.PodUsage u = usage.get(m.key());
        return u != null ? u : usage.get(m.namespace() + "/" + m.workload());
    }

    /** A scenario's queue (members in their shape), its packing and its node facts. */
    private final class Scenario {
        final String name;
        final List<Member> queue;
        final Packing.Outcome outcome;

        Scenario(String name, List<Member> queue, Packing.Outcome outcome) {
            this.name = name;
            this.queue = queue;
            this.outcome = outcome;
        }

        DensityReport.Scenario report(int base) {
            List<DensityReport.Unplaced> unplaced = new ArrayList<>();
            for (int i = 0; i < queue.size(); i++) {
                if (outcome.nodeOf()[i] < 0) {
                    unplaced.add(new DensityReport.Unplaced(queue.get(i).namespace(), queue.get(i).name(),
                            outcome.reasons()[i]));
                }
            }
            unplaced.sort(Comparator.comparing(DensityReport.Unplaced::namespace)
                    .thenComparing(DensityReport.Unplaced::name));
            List<DensityReport.NodeUse> nodes = new ArrayList<>();
            for (int n = 0; n < in.nodes().size(); n++) {
                ClusterNode c = in.nodes().get(n);
                nodes.add(new DensityReport.NodeUse(c.name(), c.allocatableMemory(), outcome.requestedMemory()[n],
                        outcome.pods()[n], c.allocatableMemory() - outcome.requestedMemory()[n]));
            }
            nodeWarnings();
            int placed = outcome.placed();
            double gain = base == 0 ? (placed == 0 ? 1.0 : placed) : Math.round(placed * 1000.0 / base) / 1000.0;
            return new DensityReport.Scenario(name, placed, unplaced, nodes, gain);
        }

        /** Σ memory.min above allocatable; Σ memory limits above allocatable + swap. */
        private void nodeWarnings() {
            int n = in.nodes().size();
            long[] min = new long[n];
            long[] limits = new long[n];
            int[] unbounded = new int[n];
            for (int i = 0; i < queue.size(); i++) {
                int at = outcome.nodeOf()[i];
                if (at < 0) {
                    continue;
                }
                PodSpec pod = queue.get(i).pod();
                min[at] += podFacts(pod, facts(in.nodes().get(at))).memoryMin();
                long lim = EffectiveRequest.memoryLimit(pod, podLevel);
                if (lim < 0) {
                    unbounded[at]++;
                } else {
                    limits[at] += lim;
                }
            }
            for (int i = 0; i < n; i++) {
                ClusterNode c = in.nodes().get(i);
                if (min[i] > c.allocatableMemory()) {
                    warnings.add(name + ": node " + c.name() + ": Σ memory.min " + Bytes.text(min[i])
                            + " exceeds allocatable " + Bytes.text(c.allocatableMemory()) + ": memory QoS protects"
                            + " more than the node can reclaim from, pressure turns into system OOM kills");
                }
                if (limits[i] > c.allocatableMemory() + c.swapCapacity()) {
                    warnings.add(name + ": node " + c.name() + ": Σ memory limits " + Bytes.text(limits[i])
                            + " exceed allocatable " + Bytes.text(c.allocatableMemory()) + " + swap "
                            + Bytes.text(c.swapCapacity()) + " (overcommit risk)" + (unbounded[i] > 0 ? "; "
                            + unbounded[i] + " pod(s) without a memory limit not counted" : ""));
                }
            }
        }
    }

    private interface Shape {
        PodSpec of(Member m);
    }

    private Scenario scenario(String name, List<Member> members, Shape shape) {
        List<Member> queue = new ArrayList<>(members.size());
        List<Packing.PodToPlace> toPlace = new ArrayList<>(members.size());
        Map<PodSpec, Request[]> requests = new HashMap<>();
        for (Member m : members) {
            PodSpec pod = shape.of(m);
            Member shaped = pod == m.pod() ? m : new Member(m.namespace(), m.name(), m.workload(), pod,
                    m.scheduling(), m.pinnedNode(), m.priority(), m.daemon(), m.order(), m.vm(), m.vmi());
            queue.add(shaped);
            Request[] r = requests.computeIfAbsent(pod, p -> new Request[] {EffectiveRequest.of(p, podLevel),
                    EffectiveRequest.forScoring(p, podLevel)});
            toPlace.add(new Packing.PodToPlace(m.namespace(), m.name(), m.scheduling(), r[0], r[1], m.pinnedNode()));
        }
        return new Scenario(name, queue, Packing.place(in.nodes(), toPlace));
    }

    /**
     * The queue: every workload's pods, DaemonSet pods one per node its constraints admit, VMs' virt-launcher pods;
     * ordered as the scheduler's queue would pop them: bound pods first (they are already there), then higher
     * {@code spec.priority} first, DaemonSet pods before others of equal priority, then file order.
     */
    private List<Member> expand() {
        List<Member> out = new ArrayList<>();
        int order = 0;
        for (WorkloadSpec w : in.workloads()) {
            PodSpec t = w.template();
            int prio = t.priority() == null ? 0 : t.priority();
            if (w.scheduling().terminated()) {
                continue; // Succeeded/Failed pods hold nothing
            }
            switch (w.kind()) {
                case "Pod" -> out.add(new Member(w.namespace(), w.name(), w.name(), t, w.scheduling(), null, prio,
                        false, order++, false, null));
                case "DaemonSet" -> {
                    Scheduling s = w.scheduling().withTolerations(DAEMONSET_TOLERATIONS);
                    for (ClusterNode n : in.nodes()) {
                        if (NodeFilters.reject(s, n) == null) {
                            out.add(new Member(w.namespace(), w.name() + "-" + n.name(), w.name(), t, s, n.name(),
                                    prio, true, order++, false, null));
                        }
                    }
                }
                default -> {
                    for (int i = 0; i < w.replicas(); i++) {
                        out.add(new Member(w.namespace(), w.name() + "-" + i, w.name(), t, w.scheduling(), null,
                                prio, false, order++, false, null));
                    }
                }
            }
        }
        for (VmiSpec vmi : in.vms()) {
            KubeVirtResources.Rendered r = KubeVirtResources.render(vmi, in.kubevirt(), NodeFacts.DEFAULT_ARCHITECTURE);
            PodSpec launcher = r.launcherPod();
            out.add(new Member(vmi.namespace(), launcher.name(), vmi.name(), launcher, Scheduling.NONE, null,
                    launcher.priority() == null ? 0 : launcher.priority(), false, order++, true, vmi));
        }
        out.sort(Comparator.comparing((Member m) -> m.scheduling().nodeName() == null)
                .thenComparing(Comparator.comparingInt(Member::priority).reversed())
                .thenComparing(m -> !m.daemon())
                .thenComparingInt(Member::order));
        return out;
    }

    /**
     * The right-sized pod: each container with observed use gets memory request = (working set − the cold bytes its
     * plan lets it swap) × (100 + margin) / 100, rounded up to a MiB, at most its limit. Guaranteed pods keep their
     * requests (a lower request would change their QoS class, a lower limit would risk OOM kills).
     */
    private PodSpec rightSize(Member m, Usage.PodUsage u, List<String> coldInSwap) {
        PodSpec pod = m.pod();
        NodeFacts ref = swapNode != null ? swapNode : in.nodes().isEmpty() ? null : facts(in.nodes().getFirst());
        if (ref == null) {
            return pod;
        }
        PodFacts f = podFacts(pod, ref);
        if (f.qos() == QosClass.GUARANTEED) {
            return pod;
        }
        Map<String, Usage.ContainerUsage> cu = u.containers();
        if (cu.isEmpty()) {
            if (pod.containers().size() != 1) {
                warnings.add(RIGHT_SIZED + ": " + m.key() + ": usage has no per-container entries and the pod has "
                        + pod.containers().size() + " containers: its requests are kept");
                return pod;
            }
            cu = Map.of(pod.containers().getFirst().name(), new Usage.ContainerUsage(u.workingSet(), u.coldBytes()));
        }
        List<ContainerSpec> containers = new ArrayList<>();
        long swapped = 0;
        List<String> who = new ArrayList<>();
        for (ContainerSpec c : pod.containers()) {
            Usage.ContainerUsage use = cu.get(c.name());
            if (use == null) {
                containers.add(c);
                continue;
            }
            long allowance = swapNode == null ? 0 : f.swapByContainer().getOrDefault(c.name(), 0L);
            long cold = use.coldBytes() == null ? 0 : Math.min(use.coldBytes(), allowance);
            long hot = use.workingSet() - cold;
            long req = ceilMiB(Math.multiplyHigh(hot, 100 + in.marginPercent()) != 0 ? Long.MAX_VALUE
                    : (hot * (100 + in.marginPercent()) + 99) / 100);
            Long limit = c.resources().memoryLimit();
            if (limit != null && limit > 0) {
                req = Math.min(req, limit);
            }
            if (cold > 0) {
                swapped += cold;
                who.add(c.name());
            }
            containers.add(c.withResources(c.resources().withMemory(req, c.resources().memoryLimit())));
        }
        if (swapped > 0) {
            coldInSwap.add(m.key() + " keeps " + Bytes.text(swapped) + " of cold memory in swap (containers "
                    + String.join(", ", who) + ")");
        }
        return pod.withContainers(containers);
    }

    private static long ceilMiB(long b) {
        long mib = 1L << 20;
        return b > Long.MAX_VALUE - mib ? b : (b + mib - 1) / mib * mib;
    }

    /** What memwarden's plan of a pod on a node says that the density warnings need. */
    private record PodFacts(QosClass qos, long memoryMin, Map<String, Long> swapByContainer) {
        /** The pod's total swap allowance (Long.MAX_VALUE when unlimited). */
        long swapAllowance() {
            long s = 0;
            for (long v : swapByContainer.values()) {
                s = v == Long.MAX_VALUE || s > Long.MAX_VALUE - v ? Long.MAX_VALUE : s + v;
            }
            return s;
        }
    }

    /** Plans are cached per pod shape (the name does not change a plan) and node facts. */
    private record PodKey(PodSpec shape, NodeFacts node) {}

    private PodFacts podFacts(PodSpec pod, NodeFacts node) {
        PodSpec shape = new PodSpec(pod.namespace(), "pod", pod.uid(), pod.annotations(), pod.priority(),
                pod.priorityClassName(), pod.statusQosClass(), pod.overheadMemory(), pod.podResources(),
                pod.containers());
        return podFacts.computeIfAbsent(new PodKey(shape, node), k -> {
            Planner p = planners.computeIfAbsent(node, nf -> new Planner(nf, in.kubelet(), in.config()));
            Planner.PodOutcome o = p.planPod(shape);
            long min = 0;
            Map<String, Long> swap = new LinkedHashMap<>();
            if (o.plan() != null) {
                for (Plan.ContainerPlan c : o.plan().containers()) {
                    min += number(c.cgroup().get(CgroupFiles.MEMORY_MIN));
                    String s = c.cgroup().get(CgroupFiles.MEMORY_SWAP_MAX);
                    swap.put(c.name(), s == null ? 0 : s.equals("max") ? Long.MAX_VALUE : number(s));
                }
            }
            return new PodFacts(o.qos(), min, swap);
        });
    }

    private static long number(String s) {
        if (s == null) {
            return 0;
        }
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** The node as memwarden's per-node planner sees it: cgroup v2 (the kubelet's supported mode since 1.35). */
    static NodeFacts facts(ClusterNode n) {
        return new NodeFacts(Math.max(n.memoryCapacity(), Math.max(1, n.allocatableMemory())), n.swapCapacity(),
                CgroupVersion.V2, true, 4096, n.allocatableMemory(), n.kernelVersion(), n.architecture());
    }
}
