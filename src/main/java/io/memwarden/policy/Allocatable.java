package io.memwarden.policy;

import io.memwarden.model.NodeFacts;

/**
 * Node allocatable memory (kubelet-semantics §5): max(0, capacity − (systemReserved + kubeReserved + hard
 * memory.available)), unless the node status value is given.
 */
final class Allocatable {
    private Allocatable() {}

    public record Result(long bytes, String reason) {}

    /** @throws IllegalArgumentException when a reservation exceeds capacity (an invalid kubelet config) */
    public static Result compute(NodeFacts node, KubeletSettings k) {
        long cap = node.memoryCapacity();
        if (k.systemReservedMemory() > cap) {
            throw new IllegalArgumentException("systemReserved.memory " + k.systemReservedMemory()
                    + " exceeds node memory capacity " + cap);
        }
        if (k.kubeReservedMemory() > cap) {
            throw new IllegalArgumentException("kubeReserved.memory " + k.kubeReservedMemory()
                    + " exceeds node memory capacity " + cap);
        }
        if (k.systemReservedMemory() + k.kubeReservedMemory() > cap) {
            throw new IllegalArgumentException("systemReserved.memory + kubeReserved.memory ("
                    + (k.systemReservedMemory() + k.kubeReservedMemory()) + ") exceeds node memory capacity " + cap);
        }
        if (node.allocatableMemory() != null) {
            return new Result(node.allocatableMemory(), "allocatable memory " + node.allocatableMemory()
                    + " from the node facts (node status)");
        }
        EvictionThreshold hard = k.hardMemoryAvailable();
        long eviction = hard == null ? 0 : hard.resolve(cap);
        long alloc = Math.max(0, cap - (k.systemReservedMemory() + k.kubeReservedMemory() + eviction));
        return new Result(alloc, "allocatable memory " + alloc + " = capacity " + cap + " − systemReserved "
                + k.systemReservedMemory() + " − kubeReserved " + k.kubeReservedMemory() + " − evictionHard"
                + " memory.available " + eviction + (hard == null ? " (none)" : " (" + hard.text() + ")")
                + " [kubelet-semantics §5]");
    }

    /** kubepods memory limit with enforceNodeAllocatable=pods: capacity − system − kube reserved (no eviction part). */
    public static long kubepodsLimit(NodeFacts node, KubeletSettings k) {
        return Math.max(0, node.memoryCapacity() - k.systemReservedMemory() - k.kubeReservedMemory());
    }
}
