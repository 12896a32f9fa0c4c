package io.memwarden.control;

import io.memwarden.model.Pressure;

/**
 * What the pressure guard sees of the node at one moment.
 *
 * @param memoryCapacity   MemTotal
 * @param workingSet       the root cgroup's working set (usage − inactive file), as the kubelet computes it
 * @param swapTotal        SwapTotal
 * @param swapFree         SwapFree
 * @param swapInPagesTotal {@code pswpin} from /proc/vmstat (a counter)
 * @param psi              /proc/pressure/memory
 * @param balloonGrowthBytesPerSecond how fast a hypervisor's balloon takes memory from the node (0: none, or not
 *                         growing; see {@link BalloonWatch})
 * @param podsCapacity     the kubepods cgroup's memory limit (the kubelet's allocatableMemory.available capacity);
 *                         -1 when not observed (no kubepods cgroup, or no limit on it)
 * @param podsWorkingSet   the kubepods cgroup's working set (usage − inactive file); ignored when not observed
 */
public record NodeObservation(long memoryCapacity, long workingSet, long swapTotal, long swapFree, long swapInPagesTotal,
                              Pressure psi, double balloonGrowthBytesPerSecond, long podsCapacity,
                              long podsWorkingSet) {

    /** A node whose memory no balloon is taking. */
    public NodeObservation(long memoryCapacity, long workingSet, long swapTotal, long swapFree, long swapInPagesTotal,
                           Pressure psi) {
        this(memoryCapacity, workingSet, swapTotal, swapFree, swapInPagesTotal, psi, 0);
    }

    /** A node without an observed kubepods cgroup (no allocatableMemory.available signal). */
    public NodeObservation(long memoryCapacity, long workingSet, long swapTotal, long swapFree, long swapInPagesTotal,
                           Pressure psi, double balloonGrowthBytesPerSecond) {
        this(memoryCapacity, workingSet, swapTotal, swapFree, swapInPagesTotal, psi, balloonGrowthBytesPerSecond, -1,
                0);
    }

    /** The kubelet's memory.available: capacity − working set (swap ignored). */
    public long memoryAvailable() {
        return memoryCapacity - workingSet;
    }

    /** Whether the kubelet's allocatableMemory.available is observed (kubepods with a memory limit). */
    public boolean podsObserved() {
        return podsCapacity >= 0;
    }

    /** The kubelet's allocatableMemory.available: the kubepods limit − its working set. */
    public long allocatableAvailable() {
        return podsCapacity - podsWorkingSet;
    }

    /** This observation with the kubepods cgroup's numbers. */
    public NodeObservation withPods(long capacity, long podsWs) {
        return new NodeObservation(memoryCapacity, workingSet, swapTotal, swapFree, swapInPagesTotal, psi,
                balloonGrowthBytesPerSecond, capacity, podsWs);
    }
}
