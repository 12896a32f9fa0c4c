package io.memwarden.control;

import io.memwarden.model.PodSpec;
import io.memwarden.model.QosClass;
import java.util.List;

/**
 * What the pressure guard sees of one pod.
 *
 * @param memoryRequest pod memory request incl. overhead (the eviction ranking's request)
 * @param workingSet    pod working set, null when there are no stats
 * @param protectedPod  the admin protects it (never a victim), besides critical pods
 */
public record PodObservation(PodSpec pod, QosClass qos, long memoryRequest, Long workingSet, boolean protectedPod,
                             List<ContainerObservation> containers) {
    public PodObservation {
        containers = List.copyOf(containers);
    }

    /**
     * One container.
     *
     * @param usage          cgroup usage
     * @param swapAllowance  bytes it may still swap (limit − used; -1 unlimited, 0 none)
     * @param memoryHigh     current memory.high (-1 max / not available)
     */
    public record ContainerObservation(String name, long usage, long swapAllowance, long memoryHigh) {}
}
