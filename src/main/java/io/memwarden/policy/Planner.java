package io.memwarden.policy;

import static io.memwarden.model.CgroupFiles.*;

import io.memwarden.model.CgroupVersion;
import io.memwarden.model.ContainerKind;
import io.memwarden.model.ContainerSpec;
import io.memwarden.model.NodeFacts;
import io.memwarden.model.PodSpec;
import io.memwarden.model.QosClass;
import io.memwarden.model.SwapBehavior;
import io.memwarden.policy.Plan.ContainerPlan;
import io.memwarden.policy.Plan.NodePlan;
import io.memwarden.policy.Plan.PlanError;
import io.memwarden.policy.Plan.PodPlan;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Computes a {@link Plan}: every container's memory cgroup values with their reasons. Pure: no I/O, no clock.
 * One planner serves one (node, kubelet config, memwarden config) triple; it is immutable and thread-safe.
 */
public final class Planner {
    private static final Pattern KERNEL_VERSION = Pattern.compile("^(\\d+)\\.(\\d+)");
    private final NodeFacts node;
    private final KubeletSettings kubelet;
    private final WardenConfig config;
    private final Allocatable.Result allocatable;
    private final SwapBehavior configuredSwap;
    private final String configuredSwapFrom;

    /** @throws IllegalArgumentException when the kubelet config is invalid for this node (reservations) */
    public Planner(NodeFacts node, KubeletSettings kubelet, WardenConfig config) {
        this.node = node;
        this.kubelet = kubelet;
        this.config = config;
        this.allocatable = Allocatable.compute(node, kubelet);
        if (config.swap().behavior() != null) {
            configuredSwap = config.swap().behavior();
            configuredSwapFrom = "memwarden config swap.behavior=" + configuredSwap
                    + ", overriding kubelet memorySwap.swapBehavior=" + kubelet.swapBehavior();
        } else {
            configuredSwap = kubelet.swapBehavior();
            configuredSwapFrom = "kubelet memorySwap.swapBehavior=" + configuredSwap;
        }
    }

    public NodeFacts node() {
        return node;
    }

    public long allocatableMemory() {
        return allocatable.bytes();
    }

    /**
     * One pod's outcome: its plan (null when the whole pod failed), its errors, and warnings for the node's list
     * (e.g. a Guaranteed VM that would have swapped).
     */
    public record PodOutcome(PodSpec pod, QosClass qos, PodPlan plan, List<PlanError> errors, List<String> warnings) {
        public PodOutcome(PodSpec pod, QosClass qos, PodPlan plan, List<PlanError> errors) {
            this(pod, qos, plan, errors, List.of());
        }

        public PodOutcome {
            warnings = List.copyOf(warnings);
        }
    }

    /** Warnings before surprises for these planned pods on this node ({@link PlanWarnings}). */
    public List<PlanWarnings.Warning> warnings(List<PodOutcome> outcomes) {
        return PlanWarnings.of(node, kubelet, outcomes);
    }

    /** Plans every pod; {@code usage} (namespace/name → working set bytes) adds the eviction ranking when non-null. */
    public Plan plan(List<PodSpec> pods, Map<String, Long> usage, List<PlanError> inputErrors) {
        return plan(pods, usage, inputErrors, null);
    }

    /**
     * Plans every pod (virt-launcher pods among them) with these KubeVirt VMs: the plan's {@code virtualMachines},
     * and the node's warnings when the VMs' guest memory + overhead, or the virt-launcher pods' memory requests,
     * exceed what the node has ({@link #vmCapacityWarnings}).
     *
     * @param vms null: no KubeVirt input (the plan has no {@code virtualMachines})
     */
    public Plan plan(List<PodSpec> pods, Map<String, Long> usage, List<PlanError> inputErrors,
                     List<KubeVirtResources.VirtualMachinePlan> vms) {
        List<PodPlan> planned = new ArrayList<>();
        List<PlanError> errors = new ArrayList<>(inputErrors);
        List<PodOutcome> outcomes = new ArrayList<>();
        for (PodSpec p : pods) {
            PodOutcome o = planPod(p);
            outcomes.add(o);
            if (o.plan() != null) {
                planned.add(o.plan());
            }
            errors.addAll(o.errors());
        }
        List<String> order = null;
        if (usage != null) {
            List<EvictionRanking.Candidate> cands = new ArrayList<>();
            for (PodOutcome o : outcomes) {
                cands.add(new EvictionRanking.Candidate(o.pod(), PodMemory.request(o.pod(), kubelet.podLevelResourcesGate()),
                        usage.get(o.pod().key())));
            }
            order = EvictionRanking.rank(cands);
        }
        return new Plan(nodePlan(outcomes, vms), planned, vms, order, errors);
    }

    private NodePlan nodePlan(List<PodOutcome> outcomes, List<KubeVirtResources.VirtualMachinePlan> vms) {
        List<String> errors = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        List<String> reasons = new ArrayList<>();
        reasons.add(allocatable.reason());
        reasons.add("swap behavior " + configuredSwap + ": " + configuredSwapFrom);
        if (node.swapOn() && kubelet.failSwapOn()) {
            errors.add("kubelet would refuse to start: running with swap on is not supported, please disable swap or set"
                    + " --fail-swap-on flag to false (failSwapOn=true, swap capacity " + node.swapCapacity()
                    + ") [kubelet-semantics §1]");
        }
        if (node.swapOn() && node.cgroupVersion() == CgroupVersion.V1
                && kubelet.swapBehavior() == SwapBehavior.LIMITED_SWAP) {
            errors.add("kubelet would refuse to start: LimitedSwap is not supported on cgroup v1 [kubelet-semantics §1]");
        }
        for (PodOutcome o : outcomes) {
            warnings.addAll(o.warnings());
        }
        if (vms != null) {
            warnings.addAll(vmCapacityWarnings(vms, outcomes));
        }
        for (PlanWarnings.Warning w : PlanWarnings.of(node, kubelet, outcomes)) {
            warnings.add(w.message());
        }
        if (node.cgroupVersion() == CgroupVersion.V1) {
            warnings.add("cgroup v1: kubelet 1.35+ refuses cgroup v1 hosts unless failCgroupV1=false; memory QoS,"
                    + " LimitedSwap and memory.oom.group are cgroup v2 only [kubelet-semantics §1]");
        }
        if (node.swapOn() && !node.swapControllerAvailable()) {
            warnings.add("swap is on but the memory controller has no swap accounting: per-container swap limits"
                    + " cannot be enforced [kubelet-semantics §1]");
        }
        int[] kv = kernelVersion(node.kernelVersion());
        if (kv != null && node.cgroupVersion() == CgroupVersion.V2 && kubelet.memoryQosGate()
                && kubelet.memoryThrottlingFactor() != null && older(kv, 5, 9)) {
            warnings.add("kernel " + node.kernelVersion() + " is older than 5.9: memory.high can livelock"
                    + " [kubelet-semantics §2]");
        }
        if (kv != null && node.swapOn() && older(kv, 6, 4)) {
            warnings.add("kernel " + node.kernelVersion() + " is older than 6.4: tmpfs has no noswap option, so"
                    + " memory-backed volumes may be swapped to disk (kubelet event PossibleMemoryBackedVolumesOnDisk)"
                    + " [kubelet-semantics §1]");
        }
        long sumG = 0;
        long sumB = 0;
        for (PodOutcome o : outcomes) {
            long req = PodMemory.request(o.pod(), kubelet.podLevelResourcesGate());
            if (o.qos() == QosClass.GUARANTEED) {
                sumG += req;
            } else if (o.qos() == QosClass.BURSTABLE) {
                sumB += req;
            }
        }
        Map<String, Map<String, String>> qos = new LinkedHashMap<>();
        if (kubelet.enforceNodeAllocatable().contains("pods")) {
            long lim = Allocatable.kubepodsLimit(node, kubelet);
            qos.computeIfAbsent("kubepods", x -> new LinkedHashMap<>())
                    .put(node.cgroupVersion() == CgroupVersion.V2 ? MEMORY_MAX : V1_LIMIT, Long.toString(lim));
            reasons.add("kubepods memory limit " + lim + " = capacity − systemReserved − kubeReserved"
                    + " (enforceNodeAllocatable: pods) [kubelet-semantics §5]");
        }
        MemoryQos.qosLevel(node, kubelet, sumG, sumB)
                .forEach((cg, files) -> qos.computeIfAbsent(cg, x -> new LinkedHashMap<>()).putAll(files));
        if (MemoryQos.applies(node, kubelet)) {
            reasons.add("QoS cgroups: memoryReservationPolicy " + kubelet.memoryReservationPolicy() + ", Guaranteed pod"
                    + " requests " + sumG + ", Burstable pod requests " + sumB + " [kubelet-semantics §2]");
        }
        return new NodePlan(node.memoryCapacity(), node.swapCapacity(), node.cgroupVersion().number(),
                allocatable.bytes(), configuredSwap.configName(), errors, warnings, qos, reasons);
    }

    /**
     * Plans one pod: the containers that can be planned, and errors for those (or the pod) that cannot. Never
     * throws: whatever the pod's spec and annotations hold, the outcome is about this pod alone, so a caller that
     * plans many pods (plan, Synchronize, a standalone round) serves all the others. A failure the rules did not
     * foresee (a bug) becomes a pod-wide error with no plan, never an exception.
     */
    public PodOutcome planPod(PodSpec raw) {
        try {
            return planPodOrThrow(raw);
        } catch (RuntimeException | StackOverflowError e) {
            QosClass qos;
            try {
                qos = QosClassifier.classify(raw, kubelet.podLevelResourcesGate());
            } catch (RuntimeException again) {
                qos = QosClass.BEST_EFFORT;
            }
            return new PodOutcome(raw, qos, null, List.of(new PlanError(raw.key(), null, "memwarden could not plan"
                    + " this pod: an internal error of memwarden, not a problem of the pod's spec (please report it"
                    + " with the pod's manifest)")));
        }
    }

    private PodOutcome planPodOrThrow(PodSpec raw) {
        ApiDefaults.Defaulted defaulted = ApiDefaults.apply(raw);
        PodSpec pod = defaulted.pod();
        boolean plg = kubelet.podLevelResourcesGate();
        QosClass qos = QosClassifier.classify(pod, plg);
        List<String> reasons = new ArrayList<>(defaulted.notes());
        if (pod.statusQosClass() != null) {
            QosClass computed = QosClassifier.compute(pod, plg);
            reasons.add("qosClass " + qos + " from status.qosClass" + (computed != qos
                    ? " (the spec alone would give " + computed + ")" : "") + " [kubelet-semantics §3]");
        } else {
            reasons.add("qosClass " + qos + ": " + qosWhy(pod, qos, plg) + " [kubelet-semantics §3]");
        }
        boolean critical = Criticality.isCritical(pod);
        if (critical) {
            reasons.add("critical pod: " + Criticality.why(pod) + "; never swaps, never evicted");
        }
        List<PlanError> errors = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (ContainerSpec c : pod.containers()) {
            names.add(c.name());
        }
        Set<String> failed = new HashSet<>(); // containers with an error of their own
        boolean podFailed = false;            // a pod-wide error
        for (PolicyException e : validateAnnotations(pod, names)) {
            errors.add(new PlanError(pod.key(), e.container(), e.getMessage()));
            if (e.container() == null) {
                podFailed = true;
            } else {
                failed.add(e.container());
            }
        }
        Long podSwapCap = null;
        String podSwapCapFrom = null;
        try {
            if (config.swap().maxPerPod() != null) {
                podSwapCap = config.swap().maxPerPod().resolve(node.swapCapacity());
                podSwapCapFrom = "memwarden config swap.maxPerPod=" + config.swap().maxPerPod().text();
            }
            if (!podFailed) {
                Long ann = WardenAnnotations.podSwapMax(pod);
                if (ann != null && (podSwapCap == null || ann < podSwapCap)) {
                    podSwapCap = ann;
                    podSwapCapFrom = "annotation " + WardenAnnotations.POD_SWAP_MAX + WardenAnnotations.SUFFIX;
                }
            }
        } catch (PolicyException e) {
            errors.add(new PlanError(pod.key(), null, e.getMessage()));
            podFailed = true;
        }
        long podRequest = PodMemory.request(pod, plg);
        List<String> warnings = new ArrayList<>();
        if (VirtLaunchers.isLauncher(pod)) {
            reasons.add(launcherReason(pod));
        }
        List<ContainerPlan> containers = new ArrayList<>();
        boolean anySwap = false;
        for (ContainerSpec c : pod.containers()) {
            if (failed.contains(c.name())) {
                continue;
            }
            try {
                ContainerPlan cp = planContainer(pod, c, qos, podFailed, warnings);
                containers.add(cp);
                anySwap |= allowsSwap(cp);
            } catch (PolicyException e) {
                errors.add(new PlanError(pod.key(), e.container() == null ? c.name() : e.container(), e.getMessage()));
            }
        }
        if (podFailed || containers.isEmpty()) {
            // a pod-wide error, or no container could be planned: the pod gets no plan (its container errors are
            // still reported above)
            return new PodOutcome(pod, qos, null, errors, warnings);
        }
        Map<String, String> podCgroup = new LinkedHashMap<>();
        long podLimit = PodMemory.limit(pod, plg);
        if (podLimit > 0) {
            podCgroup.put(node.cgroupVersion() == CgroupVersion.V2 ? MEMORY_MAX : V1_LIMIT, Long.toString(podLimit));
            reasons.add("pod memory limit " + podLimit + (plg && pod.podResources().hasMemoryLimit()
                    ? ": pod-level memory limit" : ": every container declares a limit (aggregate)")
                    + (pod.overheadMemoryOrZero() > 0 ? " + overhead " + pod.overheadMemoryOrZero() : "")
                    + " [kubelet-semantics §2]");
        }
        long podLevelLimit = plg && pod.podResources().hasMemoryLimit()
                ? pod.podResources().memoryLimit() + pod.overheadMemoryOrZero() : 0;
        MemoryQos.Values pv = MemoryQos.pod(node, kubelet, qos, podRequest, podLevelLimit);
        podCgroup.putAll(pv.files());
        reasons.addAll(pv.reasons());
        if (podSwapCap != null && node.swapControllerAvailable() && anySwap) {
            if (node.cgroupVersion() == CgroupVersion.V2) {
                podCgroup.put(MEMORY_SWAP_MAX, Long.toString(podSwapCap));
                reasons.add("pod memory.swap.max=" + podSwapCap + ": " + podSwapCapFrom);
            } else if (podLimit > 0) {
                podCgroup.put(V1_MEMSW_LIMIT, Long.toString(podLimit + podSwapCap));
                reasons.add("pod memory.memsw.limit_in_bytes=" + (podLimit + podSwapCap) + ": pod limit + swap cap "
                        + podSwapCap + " (" + podSwapCapFrom + ")");
            } else {
                reasons.add("pod swap cap " + podSwapCap + " (" + podSwapCapFrom + ") is not enforceable on cgroup v1"
                        + " without a pod memory limit");
            }
        }
        PodPlan plan = new PodPlan(pod.namespace(), pod.name(), qos.apiName(), critical,
                Criticality.effectivePriority(pod), podRequest, podCgroup, containers, reasons);
        return new PodOutcome(pod, qos, plan, errors, warnings);
    }

    /**
     * The node's VM capacity checks (issue #13 part 1): (1) Σ guest memory + overhead of the VMs against allocatable
     * + the swap pods may use (the node's swap, when the swap behaviour lets any pod swap; only Burstable VMs may
     * use it): what the guests can touch against what can back it; (2) Σ memory requests of the virt-launcher pods
     * against allocatable: the scheduler's own test, where swap never counts.
     */
    List<String> vmCapacityWarnings(List<KubeVirtResources.VirtualMachinePlan> vms, List<PodOutcome> outcomes) {
        List<String> out = new ArrayList<>();
        long alloc = allocatable.bytes();
        boolean swapUsable = configuredSwap != SwapBehavior.NO_SWAP && node.swapOn() && node.swapControllerAvailable();
        long swap = swapUsable ? node.swapCapacity() : 0;
        String swapWhy = swapUsable ? "swap " + swap : "no usable swap (" + (!node.swapOn() ? "the node has none"
                : !node.swapControllerAvailable() ? "no swap accounting" : "swap behavior NoSwap") + ")";
        long guests = 0;
        for (KubeVirtResources.VirtualMachinePlan v : vms) {
            guests = Sizes.add(guests, Sizes.add(v.guestMemoryBytes(), v.overheadBytes()));
        }
        long backing = Sizes.add(alloc, swap);
        if (guests > backing) {
            out.add(vms.size() + " VM(s): guest memory + overhead " + guests + " exceeds allocatable " + alloc + " + "
                    + swapWhy + " = " + backing + " by " + (guests - backing) + " bytes: if the guests touch their"
                    + " memory the node runs out (evictions, OOM kills) [kernel-and-vm §1.2]");
        }
        long requests = 0;
        int launchers = 0;
        for (PodOutcome o : outcomes) {
            if (VirtLaunchers.isLauncher(o.pod())) {
                requests = Sizes.add(requests, PodMemory.request(o.pod(), kubelet.podLevelResourcesGate()));
                launchers++;
            }
        }
        if (requests > alloc) {
            out.add(launchers + " virt-launcher pod(s): memory requests " + requests + " exceed allocatable " + alloc
                    + " by " + (requests - alloc) + " bytes: the scheduler would not place them all on this node"
                    + " (swap does not count toward requests) [kubelet-semantics §5]");
        }
        return out;
    }

    /** What a virt-launcher pod's reasons say about its VM and the overhead KubeVirt published. */
    private static String launcherReason(PodSpec pod) {
        StringBuilder sb = new StringBuilder("virt-launcher pod of VM " + VirtLaunchers.vmLabel(pod) + " (label "
                + VirtLaunchers.APP_LABEL + "=" + VirtLaunchers.APP_VIRT_LAUNCHER + ")");
        VirtLaunchers.Published pub = VirtLaunchers.publishedOverhead(pod);
        if (pub != null && pub.bytes() != null) {
            sb.append("; VM overhead ").append(pub.bytes()).append(" bytes (annotation ")
                    .append(VirtLaunchers.OVERHEAD_ANNOTATION).append("), part of the compute container's request"
                    + " and limit");
        } else if (pub != null) {
            sb.append("; ").append(pub.problem());
        }
        return sb.append(" [kernel-and-vm §1.1]").toString();
    }

    /** Whether the rendered files let the container swap at all (for the pod-level swap cap). */
    private boolean allowsSwap(ContainerPlan cp) {
        if (node.cgroupVersion() == CgroupVersion.V2) {
            String s = cp.cgroup().get(MEMORY_SWAP_MAX);
            return s != null && !s.equals("0");
        }
        String memsw = cp.cgroup().get(V1_MEMSW_LIMIT);
        return memsw != null && !memsw.equals(cp.cgroup().get(V1_LIMIT));
    }

    private List<PolicyException> validateAnnotations(PodSpec pod, Set<String> names) {
        List<PolicyException> out = new ArrayList<>();
        // validate each memwarden annotation on its own so every bad one is reported
        for (var e : pod.annotations().entrySet()) {
            if (!e.getKey().contains(WardenAnnotations.SUFFIX)) {
                continue;
            }
            PodSpec one = pod.withAnnotations(Map.of(e.getKey(), e.getValue()));
            try {
                WardenAnnotations.validate(one, config.annotations(), names);
            } catch (PolicyException ex) {
                out.add(ex);
            }
        }
        out.sort(Comparator.comparing(PolicyException::getMessage));
        return out;
    }

    /** @param skipWardenAnnotations the pod's memwarden annotations are invalid (already reported): ignore them */
    private ContainerPlan planContainer(PodSpec pod, ContainerSpec c, QosClass qos, boolean skipWardenAnnotations,
                                        List<String> warnings) throws PolicyException {
        boolean plg = kubelet.podLevelResourcesGate();
        List<String> why = new ArrayList<>();
        long request = c.resources().memoryRequestOrZero();
        long ownLimit = c.resources().memoryLimitOrZero();
        long podLevelLimit = plg && pod.podResources().hasMemoryLimit() ? pod.podResources().memoryLimit() : 0;
        long limit = ownLimit != 0 ? ownLimit : podLevelLimit;
        String limitFile = node.cgroupVersion() == CgroupVersion.V2 ? MEMORY_MAX : V1_LIMIT;
        if (ownLimit != 0) {
            why.add("memory limit " + limit + ": the container's own limit (CRI memory_limit_in_bytes) [kubelet-semantics §7]");
        } else if (limit != 0) {
            why.add("memory limit " + limit + ": the container has none, so the pod-level memory limit applies"
                    + " [kubelet-semantics §2]");
        } else {
            why.add("no memory limit: " + limitFile + " left at the runtime default (unlimited)");
        }

        WardenAnnotations.ContainerRequest ann = skipWardenAnnotations
                ? new WardenAnnotations.ContainerRequest(null, null, null, null)
                : WardenAnnotations.forContainer(pod, c.name());
        Long cap = null;
        String capFrom = null;
        if (config.swap().maxPerContainer() != null) {
            cap = config.swap().maxPerContainer().resolve(node.swapCapacity());
            capFrom = "memwarden config swap.maxPerContainer=" + config.swap().maxPerContainer().text();
        }
        if (ann.swapMax() != null && (cap == null || ann.swapMax() < cap)) {
            cap = ann.swapMax();
            capFrom = ann.swapMaxFrom();
        }
        SwapDecision swap = SwapPolicy.decide(pod, c, qos, node, configuredSwap, configuredSwapFrom,
                ann.behavior(), ann.behaviorFrom());
        boolean guaranteedVm = qos == QosClass.GUARANTEED && VirtLaunchers.isLauncher(pod);
        if (guaranteedVm && swap.behavior() != SwapBehavior.NO_SWAP
                && !(swap.intent() instanceof SwapIntent.NotWritten)) {
            String from = ann.behavior() != null ? ann.behaviorFrom() : configuredSwapFrom;
            SwapBehavior wanted = swap.behavior();
            List<String> r = new ArrayList<>(swap.reasons());
            r.add("swap: NoSwap, not " + wanted + " (" + from + "): " + GUARANTEED_VM_RULE);
            swap = new SwapDecision(SwapBehavior.NO_SWAP, new SwapIntent.Zero(), r);
            warnings.add("VM " + VirtLaunchers.vmLabel(pod) + " (pod " + pod.key() + " container " + c.name()
                    + ", Guaranteed) would get swap " + wanted + " (" + from + "); a Guaranteed VM never swaps:"
                    + " planned with no swap [kernel-and-vm §1.3]");
        }
        why.addAll(swap.reasons());

        MemoryQos.Values mq = MemoryQos.container(node, kubelet, qos, request, ownLimit, podLevelLimit,
                allocatable.bytes());
        why.addAll(mq.reasons());

        boolean oomGroup = node.cgroupVersion() == CgroupVersion.V2 && !kubelet.singleProcessOomKill();
        if (node.cgroupVersion() == CgroupVersion.V2) {
            why.add(oomGroup ? "memory.oom.group=1: the whole container is OOM-killed together (singleProcessOOMKill"
                    + " false) [kubelet-semantics §2]" : "memory.oom.group not written: singleProcessOOMKill=true");
        }

        Map<String, String> nri = Map.of();
        if (config.memoryQos() != null) {
            NriMemoryQos.Result r = NriMemoryQos.apply(config.memoryQos(), pod, c.name(), limit, node.pageSize());
            nri = r.unified();
            why.addAll(r.reasons());
            String nriSwap = nri.get(MEMORY_SWAP_MAX);
            if (guaranteedVm && nriSwap != null && !nriSwap.equals("0")) {
                nri = new LinkedHashMap<>(nri);
                nri.remove(MEMORY_SWAP_MAX);
                String cls = NriMemoryQos.classOf(pod, c.name());
                String src = "memory.swap.max=" + nriSwap + " from nri memory-qos " + (cls != null
                        ? "class " + cls : "annotations");
                why.add(src + " dropped: " + GUARANTEED_VM_RULE);
                warnings.add("VM " + VirtLaunchers.vmLabel(pod) + " (pod " + pod.key() + " container " + c.name()
                        + ", Guaranteed) would get " + src + "; a Guaranteed VM never swaps: planned with no swap"
                        + " [kernel-and-vm §1.3]");
            }
        } else if (NriMemoryQos.annotated(pod)) {
            why.add("nri memory-qos annotations ignored: memwarden config has no memoryQos section");
        }

        CgroupRendering.Decided d = new CgroupRendering.Decided(limit, swap, mq.files(), oomGroup, nri, cap, capFrom);
        CgroupRendering.Rendered r = CgroupRendering.render(node.cgroupVersion(), d, c.name());
        if (node.cgroupVersion() == CgroupVersion.V2) {
            for (var e : nri.entrySet()) {
                CgroupRendering.Rendered kubeletOnly = CgroupRendering.render(CgroupVersion.V2,
                        new CgroupRendering.Decided(limit, swap, mq.files(), oomGroup, Map.of(), null, null), c.name());
                String before = kubeletOnly.files().get(e.getKey());
                if (before != null && !before.equals(e.getValue())) {
                    why.add(e.getKey() + ": nri memory-qos value " + e.getValue() + " overrides " + before);
                }
            }
        }
        why.addAll(r.reasons());
        OomScoreAdjust.Result oom = OomScoreAdjust.compute(pod, c, qos, node.memoryCapacity(), plg);
        why.add(oom.reason());
        return new ContainerPlan(c.name(), c.kind() != ContainerKind.REGULAR, r.swapBehavior(), oom.value(),
                r.files(), why);
    }

    /** The rule for Guaranteed VMs (docs/vm-nodes.md "Swap for VMs"). */
    static final String GUARANTEED_VM_RULE = "a Guaranteed virt-launcher pod never swaps (the kubelet gives Guaranteed"
            + " pods NoSwap; wasp-agent gives swap only to Burstable virt-launcher pods) [kernel-and-vm §1.3]";

    private static String qosWhy(PodSpec pod, QosClass qos, boolean plg) {
        String scope = QosClassifier.podLevelDecides(pod, plg) ? "pod-level resources" : "containers";
        return switch (qos) {
            case BEST_EFFORT -> "no cpu or memory request or limit in the " + scope;
            case GUARANTEED -> "cpu and memory limits set and equal to requests in the " + scope;
            case BURSTABLE -> "some cpu/memory request or limit set, but not all limits set and equal to requests in the "
                    + scope;
        };
    }

    static int[] kernelVersion(String v) {
        if (v == null) {
            return null;
        }
        var m = KERNEL_VERSION.matcher(v.strip());
        return m.find() ? new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))} : null;
    }

    private static boolean older(int[] v, int major, int minor) {
        return v[0] < major || (v[0] == major && v[1] < minor);
    }
}
