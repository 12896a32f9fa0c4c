package io.memwarden.model;

import java.util.Objects;

/**
 * What policy needs to know about the node.
 *
 * @param memoryCapacity          MemTotal in bytes (the kubelet's {@code MachineInfo.MemoryCapacity})
 * @param swapCapacity            SwapTotal in bytes
 * @param swapControllerAvailable whether the memory controller accounts swap (v1 memsw files / v2 memory.swap.max)
 * @param pageSize                the OS page size in bytes
 * @param allocatableMemory       node-status allocatable memory in bytes, or null to compute it from reservations
 * @param kernelVersion           {@code uname -r}, or null
 * @param architecture            the node's CPU architecture as Kubernetes names it ({@code amd64}, {@code arm64});
 *                                KubeVirt adds UEFI pflash overhead on arm64
 */
public record NodeFacts(
        long memoryCapacity,
        long swapCapacity,
        CgroupVersion cgroupVersion,
        boolean swapControllerAvailable,
        long pageSize,
        Long allocatableMemory,
        String kernelVersion,
        String architecture) {

    public static final String DEFAULT_ARCHITECTURE = "amd64";

    /** Node facts on the default architecture (amd64). */
    public NodeFacts(long memoryCapacity, long swapCapacity, CgroupVersion cgroupVersion,
                     boolean swapControllerAvailable, long pageSize, Long allocatableMemory, String kernelVersion) {
        this(memoryCapacity, swapCapacity, cgroupVersion, swapControllerAvailable, pageSize, allocatableMemory,
                kernelVersion, DEFAULT_ARCHITECTURE);
    }

    public NodeFacts {
        architecture = architecture == null || architecture.isEmpty() ? DEFAULT_ARCHITECTURE : architecture;
        Objects.requireNonNull(cgroupVersion, "cgroupVersion");
        if (memoryCapacity <= 0) {
            throw new IllegalArgumentException("memoryCapacity must be positive, got " + memoryCapacity);
        }
        if (swapCapacity < 0) {
            throw new IllegalArgumentException("swapCapacity must not be negative, got " + swapCapacity);
        }
        if (pageSize <= 0 || Long.bitCount(pageSize) != 1) {
            throw new IllegalArgumentException("pageSize must be a positive power of two, got " + pageSize);
        }
        if (allocatableMemory != null && allocatableMemory < 0) {
            throw new IllegalArgumentException("allocatableMemory must not be negative, got " + allocatableMemory);
        }
    }

    public boolean swapOn() {
        return swapCapacity > 0;
    }
}
