package io.memwarden.policy;

import io.memwarden.model.ContainerKind;
import io.memwarden.model.ContainerSpec;
import io.memwarden.model.PodSpec;
import io.memwarden.model.QosClass;

/**
 * Container oom_score_adj exactly as the kubelet's {@code GetContainerOOMScoreAdjust} (kubelet-semantics §3). Integer
 * arithmetic is Go's int64 (Java long: same truncating division and wrap-around).
 */
final class OomScoreAdjust {
    private OomScoreAdjust() {}

    public static final int GUARANTEED = -997;
    public static final int BEST_EFFORT = 1000;

    /** The value and a one-line reason. */
    public record Result(int value, String reason) {}

    public static Result compute(PodSpec pod, ContainerSpec container, QosClass qos, long memoryCapacity,
                                 boolean podLevelResourcesGate) {
        if (Criticality.isNodeCritical(pod)) {
            return new Result(GUARANTEED, "oom_score_adj=-997: node-critical pod (" + Criticality.why(pod)
                    + ", priorityClassName system-node-critical) [kubelet-semantics §3]");
        }
        if (qos == QosClass.GUARANTEED) {
            return new Result(GUARANTEED, "oom_score_adj=-997: Guaranteed pod [kubelet-semantics §3]");
        }
        if (qos == QosClass.BEST_EFFORT) {
            return new Result(BEST_EFFORT, "oom_score_adj=1000: BestEffort pod [kubelet-semantics §3]");
        }
        long share = podLevelShare(pod, podLevelResourcesGate);
        long request = container.resources().memoryRequestOrZero() + share;
        long adj = 1000 - (1000 * request) / memoryCapacity;
        String how = "1000 - 1000*" + request + "/" + memoryCapacity;
        if (container.kind() == ContainerKind.SIDECAR) {
            long minRegular = minRegularRequest(pod) + share;
            long sidecarAdj = 1000 - (1000 * minRegular) / memoryCapacity;
            if (sidecarAdj < adj) {
                adj = sidecarAdj;
                how = "sidecar: min with the smallest regular container's request, 1000 - 1000*" + minRegular + "/" + memoryCapacity;
            }
        }
        if (share != 0) {
            how += " (includes the pod-level request share " + share + ")";
        }
        if (adj < 1000 + GUARANTEED) {
            return new Result(1000 + GUARANTEED, "oom_score_adj=3: Burstable, " + how + " = " + adj
                    + ", clamped to 3 [kubelet-semantics §3]");
        }
        if (adj == BEST_EFFORT) {
            return new Result(999, "oom_score_adj=999: Burstable, " + how + " = 1000, lowered to 999 so it stays above"
                    + " BestEffort [kubelet-semantics §3]");
        }
        return new Result((int) adj, "oom_score_adj=" + adj + ": Burstable, " + how + " [kubelet-semantics §3]");
    }

    /** (podReq − Σ container requests) / (regular + init containers), when pod-level requests are set. */
    static long podLevelShare(PodSpec pod, boolean podLevelResourcesGate) {
        if (!podLevelResourcesGate || !pod.podResources().isSet()
                || (pod.podResources().memoryRequest() == null && pod.podResources().cpuRequest() == null)) {
            return 0;
        }
        long podReq = pod.podResources().memoryRequestOrZero();
        long remaining = podReq - PodMemory.sumOfContainerRequests(pod);
        int n = pod.containers().size();
        return n > 0 ? remaining / n : remaining;
    }

    private static long minRegularRequest(PodSpec pod) {
        long min = Long.MAX_VALUE;
        for (ContainerSpec c : pod.regularContainers()) {
            min = Math.min(min, c.resources().memoryRequestOrZero());
        }
        return min == Long.MAX_VALUE ? 0 : min;
    }
}
