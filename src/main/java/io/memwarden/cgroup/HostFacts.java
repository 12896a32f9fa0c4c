package io.memwarden.cgroup;

import io.memwarden.model.CgroupVersion;
import io.memwarden.model.NodeFacts;
import java.nio.file.Path;
import java.util.List;

/**
 * What the host looks like to memwarden, read once by {@link HostProbe}.
 *
 * @param memoryController  the cgroup version that holds the memory controller (null: no memory controller)
 * @param hybrid            a v1 memory controller with a cgroup2 tree mounted beside it
 * @param memoryMount       where the memory controller's hierarchy is mounted
 * @param ownMemoryCgroup   this process's memory cgroup directory (runner parents go below it)
 * @param unifiedMount      the cgroup2 mount, or null
 * @param swapAccounting    the memory controller accounts swap (v1 memsw files / v2 memory.swap.max)
 * @param psi               {@code /proc/pressure/memory} is readable
 * @param memTotal          MemTotal in bytes
 * @param swapTotal         SwapTotal in bytes
 * @param swapDevices       the device paths listed in /proc/swaps
 * @param zramDevices       names of zram block devices (zram0, ...)
 * @param zswapEnabled      zswap's {@code enabled} parameter, null when zswap is not built
 */
public record HostFacts(
        CgroupVersion memoryController,
        boolean hybrid,
        Path memoryMount,
        Path ownMemoryCgroup,
        Path unifiedMount,
        boolean swapAccounting,
        boolean psi,
        long memTotal,
        long swapTotal,
        List<String> swapDevices,
        List<String> zramDevices,
        Boolean zswapEnabled,
        String kernelVersion,
        long pageSize) {

    public HostFacts {
        swapDevices = List.copyOf(swapDevices);
        zramDevices = List.copyOf(zramDevices);
    }

    /** The node facts policy needs, as the kubelet would see this host. */
    public NodeFacts toNodeFacts() {
        if (memoryController == null) {
            throw new IllegalStateException("this host has no cgroup memory controller");
        }
        return new NodeFacts(memTotal, swapTotal, memoryController, swapAccounting, pageSize, null, kernelVersion);
    }

    /** Whether a cgroup interface file (e.g. memory.reclaim) exists in this process's memory cgroup or the mount's. */
    public boolean hasCgroupFile(String name) {
        return ownMemoryCgroup != null && java.nio.file.Files.exists(ownMemoryCgroup.resolve(name))
                || memoryMount != null && java.nio.file.Files.exists(memoryMount.resolve(name));
    }

    /** One line per fact, for {@code --node auto} and the demo. */
    public String describe() {
        return "memory controller: " + (memoryController == null ? "none" : "cgroup v" + memoryController.number()
                + (hybrid ? " (hybrid: cgroup2 at " + unifiedMount + " without memory)" : ""))
                + ", mounted at " + memoryMount + "\n"
                + "own memory cgroup: " + ownMemoryCgroup + "\n"
                + "swap accounting: " + (swapAccounting ? "yes" : "no") + ", PSI: " + (psi ? "yes" : "no") + "\n"
                + "MemTotal: " + memTotal + " bytes, SwapTotal: " + swapTotal + " bytes, swap devices: "
                + (swapDevices.isEmpty() ? "none" : String.join(", ", swapDevices)) + "\n"
                + "zram: " + (zramDevices.isEmpty() ? "none" : String.join(", ", zramDevices)) + ", zswap: "
                + (zswapEnabled == null ? "not built" : zswapEnabled ? "enabled" : "disabled") + "\n"
                + "kernel: " + kernelVersion + ", page size: " + pageSize;
    }
}
