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
 */
public record NodeObservation(long memoryCapacity, long workingSet, long swapTotal, long swapFree, long swapInPagesTotal,
                              Pressure psi, double balloonGrowthBytesPerSecond) {

    /** A node whose memory no balloon is taking. */
    public NodeObservation(long memoryCapacity, long workingSet, long swapTotal, long swapFree, long swapInPagesTotal,
                           Pressure psi) {
        this(memoryCapacity, workingSet, swapTotal, swapFree, swapInPagesTotal, psi, 0);
    }

    /** The kubelet's memory.available: capacity − working set (swap ignored). */
    public long memoryAvailable() {
        return memoryCapacity - workingSet;
    }
}
