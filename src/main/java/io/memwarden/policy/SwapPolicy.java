package io.memwarden.policy;

import io.memwarden.model.CgroupVersion;
import io.memwarden.model.ContainerSpec;
import io.memwarden.model.NodeFacts;
import io.memwarden.model.PodSpec;
import io.memwarden.model.QosClass;
import io.memwarden.model.SwapBehavior;
import java.util.ArrayList;
import java.util.List;

/**
 * Per-container swap behaviour (kubelet-semantics §1): the kubelet's NoSwap/LimitedSwap rules exactly, the alpha
 * UnlimitedSwap/WithinLimitSwap behaviours as memwarden extensions. Caps are applied last, in {@link CgroupRendering}.
 */
final class SwapPolicy {
    private SwapPolicy() {}

    /**
     * @param configured     the node's behaviour (memwarden config {@code swap.behavior}, else the kubelet's)
     * @param configuredFrom where {@code configured} came from, for reasons
     * @param requested      a per-workload behaviour from a memwarden annotation, or null
     */
    public static SwapDecision decide(PodSpec pod, ContainerSpec c, QosClass qos, NodeFacts node,
                                      SwapBehavior configured, String configuredFrom,
                                      SwapBehavior requested, String requestedFrom) {
        List<String> why = new ArrayList<>();
        SwapBehavior behavior = configured;
        String from = configuredFrom;
        if (requested != null) {
            behavior = requested;
            from = requestedFrom;
        }
        if (!node.swapControllerAvailable()) {
            why.add("swap: " + behavior + " (" + from + ") but the node's memory controller has no swap accounting:"
                    + " no swap limit can be written, the kubelet writes none [kubelet-semantics §1]");
            return new SwapDecision(behavior, new SwapIntent.NotWritten(), why);
        }
        if (behavior != SwapBehavior.NO_SWAP && Criticality.isCritical(pod)) {
            why.add("swap: NoSwap, not " + behavior + " (" + from + "): critical pod, " + Criticality.why(pod)
                    + " [kubelet-semantics §1]");
            return new SwapDecision(SwapBehavior.NO_SWAP, new SwapIntent.Zero(), why);
        }
        long r = c.resources().memoryRequestOrZero();
        long l = c.resources().memoryLimitOrZero();
        SwapIntent intent;
        switch (behavior) {
            case NO_SWAP -> {
                why.add("swap: NoSwap (" + from + ") [kubelet-semantics §1]");
                intent = new SwapIntent.Zero();
            }
            case LIMITED_SWAP -> {
                String noSwap = limitedSwapExclusion(qos, node, r, l);
                if (noSwap != null) {
                    why.add("swap: NoSwap, not LimitedSwap (" + from + "): " + noSwap + " [kubelet-semantics §1]");
                    return new SwapDecision(SwapBehavior.NO_SWAP, new SwapIntent.Zero(), why);
                }
                // swap = int64(float64(request)/float64(MemTotal) * float64(SwapTotal))
                double proportion = (double) r / (double) node.memoryCapacity();
                long swap = (long) (proportion * (double) node.swapCapacity());
                why.add("swap: LimitedSwap (" + from + "): " + r + "/" + node.memoryCapacity() + " of swap "
                        + node.swapCapacity() + " = " + swap + " bytes [kubelet-semantics §1]");
                intent = new SwapIntent.Bytes(swap);
            }
            case UNLIMITED_SWAP -> {
                why.add("swap: UnlimitedSwap (" + from + "): memwarden extension, alpha KEP-2400 semantics"
                        + " (v2 memory.swap.max=max, v1 memory+swap unlimited)");
                intent = new SwapIntent.Unlimited();
            }
            case WITHIN_LIMIT_SWAP -> {
                why.add("swap: WithinLimitSwap (" + from + "): memwarden extension, alpha KEP-2400 LimitedSwap"
                        + " semantics (memory+swap within the limit: v1 memsw=limit, v2 memory.swap.max=0)");
                intent = new SwapIntent.WithinLimit();
            }
            default -> throw new IllegalStateException(behavior.name());
        }
        return new SwapDecision(behavior, intent, why);
    }

    /** Why LimitedSwap becomes NoSwap for this container, or null when it does not. */
    static String limitedSwapExclusion(QosClass qos, NodeFacts node, long request, long limit) {
        if (node.cgroupVersion() == CgroupVersion.V1) {
            return "LimitedSwap needs cgroup v2; on cgroup v1 the kubelet demotes it to NoSwap";
        }
        if (qos != QosClass.BURSTABLE) {
            return "pod QoS is " + qos + ", LimitedSwap applies only to Burstable pods";
        }
        if (request == 0 && limit == 0) {
            return "container has neither a memory request nor a memory limit";
        }
        if (request == limit) {
            return "container memory request equals its limit (" + request + ")";
        }
        if (request > node.memoryCapacity()) {
            return "container memory request " + request + " exceeds node memory " + node.memoryCapacity();
        }
        return null;
    }
}
