package io.memwarden.cgroup;

import io.memwarden.model.CgroupFiles;
import io.memwarden.model.CgroupVersion;
import io.memwarden.model.Pressure;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Node memory as the kubelet's eviction manager sees it, plus what it ignores: working set of the root memory cgroup
 * (usage − inactive file), swap free and the swap-in counter, and node PSI. For a confined scenario, a cgroup with a
 * memory limit can stand in for the node ({@link #ofCgroup}).
 */
public record NodeStats(long capacity, long workingSet, long swapTotal, long swapFree, long swapInPages,
                        Pressure psi) {

    public long memoryAvailable() {
        return capacity - workingSet;
    }

    /**
     * This node with a balloon of {@code bytes} that still counts in MemTotal (vmw_balloon, virtio with
     * DEFLATE_ON_OOM) taken out: capacity − bytes, and, where the working set was computed from meminfo (cgroup
     * v2: MemTotal − MemFree − Inactive(file), which counts the ballooned pages as used), working set − bytes. A v1
     * root cgroup's usage never had them: the balloon's pages are charged to no cgroup.
     */
    public NodeStats lessBalloon(long bytes, HostFacts host) {
        if (bytes <= 0) {
            return this;
        }
        long ws = host.memoryController() == CgroupVersion.V1 ? workingSet : Math.max(0, workingSet - bytes);
        return new NodeStats(Math.max(0, capacity - bytes), ws, swapTotal, swapFree, swapInPages, psi);
    }

    /** The whole host. */
    public static NodeStats read(HostFacts host) throws IOException {
        Map<String, Long> meminfo = meminfo();
        long ws;
        if (host.memoryController() == CgroupVersion.V1) {
            Path root = host.memoryMount();
            long usage = Long.parseLong(Files.readString(root.resolve(CgroupFiles.V1_USAGE)).strip());
            Map<String, Long> stat = MemoryUsage.keyed(Files.readString(root.resolve(CgroupFiles.MEMORY_STAT)));
            ws = Math.max(0, usage - stat.getOrDefault("total_inactive_file", 0L));
        } else {
            long usage = meminfo.get("MemTotal") - meminfo.get("MemFree");
            ws = Math.max(0, usage - meminfo.getOrDefault("Inactive(file)", 0L));
        }
        return new NodeStats(meminfo.get("MemTotal"), ws, meminfo.getOrDefault("SwapTotal", 0L),
                meminfo.getOrDefault("SwapFree", 0L), swapIns(), psi(host));
    }

    /** The node's swap now, {SwapTotal, SwapFree} of /proc/meminfo in bytes (-1 for a field it lacks). */
    public static long[] swapNow() throws IOException {
        Map<String, Long> m = meminfo();
        return new long[] {m.getOrDefault("SwapTotal", -1L), m.getOrDefault("SwapFree", -1L)};
    }

    /** A cgroup with a memory limit as the "node": capacity = its limit, working set = its usage − inactive file. */
    public static NodeStats ofCgroup(HostFacts host, Path cg) throws IOException {
        MemoryUsage u = MemoryUsage.read(cg, host.memoryController());
        Map<String, Long> meminfo = meminfo();
        Pressure p = u.pressure() != null ? u.pressure() : psi(host);
        return new NodeStats(u.limitBytes() < 0 ? meminfo.get("MemTotal") : u.limitBytes(), u.workingSetBytes(),
                meminfo.getOrDefault("SwapTotal", 0L), meminfo.getOrDefault("SwapFree", 0L), swapIns(), p);
    }

    private static Pressure psi(HostFacts host) throws IOException {
        Path p = Path.of("/proc/pressure/memory");
        return host.psi() && Files.isReadable(p) ? CgroupText.pressure(p) : null;
    }

    static Map<String, Long> meminfo() throws IOException {
        Map<String, Long> m = new java.util.LinkedHashMap<>();
        for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
            String[] f = line.split(":\\s*", 2);
            if (f.length == 2) {
                String[] v = f[1].strip().split("\\s+");
                try {
                    long n = Long.parseLong(v[0]);
                    m.put(f[0], v.length > 1 && v[1].equals("kB") ? n * 1024 : n);
                } catch (NumberFormatException ignored) {
                    // not a number
                }
            }
        }
        return m;
    }

    private static long swapIns() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/vmstat"))) {
            if (line.startsWith("pswpin ")) {
                return Long.parseLong(line.substring(7).strip());
            }
        }
        return 0;
    }
}
