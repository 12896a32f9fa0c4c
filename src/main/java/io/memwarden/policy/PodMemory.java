package io.memwarden.policy;

import io.memwarden.model.ContainerKind;
import io.memwarden.model.ContainerSpec;
import io.memwarden.model.PodSpec;

/**
 * Pod-wide memory aggregates as the kubelet's resource helpers compute them (kubelet-semantics §2, §4): regular
 * containers and sidecars add up; each init container needs its own request plus the sidecars started before it;
 * the pod needs the larger of the two; pod overhead is added. A pod-level value replaces the aggregate when set.
 */
final class PodMemory {
    private PodMemory() {}

    /** Pod memory request (PodRequests + overhead), as used for eviction ranking and pod-cgroup protection. */
    public static long request(PodSpec pod, boolean podLevelResourcesGate) {
        if (podLevelResourcesGate && pod.podResources().memoryRequest() != null && pod.podResources().memoryRequest() > 0) {
            return pod.podResources().memoryRequest() + pod.overheadMemoryOrZero();
        }
        return aggregate(pod, true) + pod.overheadMemoryOrZero();
    }

    /**
     * Pod memory limit for the pod cgroup, or 0 when not every container declares one (and no pod-level limit is
     * set): {@code ResourceConfigForPod}.
     */
    public static long limit(PodSpec pod, boolean podLevelResourcesGate) {
        if (podLevelResourcesGate && pod.podResources().hasMemoryLimit()) {
            return pod.podResources().memoryLimit() + pod.overheadMemoryOrZero();
        }
        for (ContainerSpec c : pod.containers()) {
            if (!c.resources().hasMemoryLimit()) {
                return 0;
            }
        }
        return aggregate(pod, false) + pod.overheadMemoryOrZero();
    }

    /** Sum of the containers' own requests (regular + init + sidecar), as used by the pod-level oom_score_adj share. */
    public static long sumOfContainerRequests(PodSpec pod) {
        long s = 0;
        for (ContainerSpec c : pod.containers()) {
            s += c.resources().memoryRequestOrZero();
        }
        return s;
    }

    private static long aggregate(PodSpec pod, boolean requests) {
        long regular = 0;
        for (ContainerSpec c : pod.regularContainers()) {
            regular += value(c, requests);
        }
        long sidecars = 0;
        long initMax = 0;
        for (ContainerSpec c : pod.initContainers()) {
            long v = value(c, requests);
            long need;
            if (c.kind() == ContainerKind.SIDECAR) {
                regular += v;
                sidecars += v;
                need = sidecars;
            } else {
                need = v + sidecars;
            }
            initMax = Math.max(initMax, need);
        }
        return Math.max(regular, initMax);
    }

    private static long value(ContainerSpec c, boolean requests) {
        return requests ? c.resources().memoryRequestOrZero() : c.resources().memoryLimitOrZero();
    }
}
