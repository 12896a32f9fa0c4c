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
 */
public record NodeObservation(long memoryCapacity, long workingSet, long swapTotal, long swapFree, long swapInPagesTotal,
                              Pressure psi) {

    /** The kubelet's memory.available: capacity − working set (swap ignored). */
    public long memoryAvailable() {
        return memoryCapacity - workingSet;
    }
}
