package io.memwarden.model;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A cluster node as the scheduler sees it (a v1 Node's metadata, spec and status) plus what memwarden's per-node
 * planning needs.
 *
 * @param allocatableMemory  bytes the scheduler may hand out ({@code status.allocatable.memory}, else computed)
 * @param allocatableCpuMillis {@code status.allocatable.cpu} in millicores
 * @param allocatablePods    {@code status.allocatable.pods}
 * @param memoryCapacity     {@code status.capacity.memory}
 * @param swapCapacity       {@code status.nodeInfo.swap.capacity}, 0 when absent
 * @param taints             {@code spec.taints}, plus {@code node.kubernetes.io/unschedulable:NoSchedule} when
 *                           {@code spec.unschedulable} is true (as the scheduler's NodeUnschedulable filter reads it)
 */
public record ClusterNode(String name, Map<String, String> labels, List<Scheduling.Taint> taints,
                          long allocatableMemory, long allocatableCpuMillis, long allocatablePods,
                          long memoryCapacity, long swapCapacity, String architecture, String kernelVersion) {
    public ClusterNode {
        Objects.requireNonNull(name, "name");
        labels = labels == null ? Map.of() : Map.copyOf(labels);
        taints = taints == null ? List.of() : List.copyOf(taints);
    }
}
