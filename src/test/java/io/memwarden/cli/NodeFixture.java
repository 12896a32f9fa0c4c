package io.memwarden.cli;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A node's "/" as a fixture tree for {@code memwarden doctor --root}: the files cgroup.HostProbe,
 * kernel.NodeFeatures, nri.RuntimeNriProbe and k8s.ApiPresence read, written as a real node has them.
 */
final class NodeFixture implements AutoCloseable {
    final Path root;
    private ServerSocketChannel nri;

    NodeFixture(Path root) throws IOException {
        this.root = root;
        file("proc/self/status", "Name:\tjava\nUid:\t0\t0\t0\t0\nCapEff:\t000001ffffffffff\n");
        file("proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/vda1\n");
        memory(8L << 30);
        file("proc/vmstat", "nr_free_pages 100\n");
    }

    NodeFixture file(String rel, String content) throws IOException {
        Path p = root.resolve(rel);
        Files.createDirectories(p.getParent());
        Files.writeString(p, content);
        return this;
    }

    private long memTotal;
    private long swapTotal;

    private NodeFixture memory(long total) throws IOException {
        memTotal = total;
        return meminfo();
    }

    private NodeFixture meminfo() throws IOException {
        return file("proc/meminfo", "MemTotal:       " + memTotal / 1024 + " kB\nMemFree:        " + memTotal / 2048
                + " kB\nSwapTotal:      " + swapTotal / 1024 + " kB\nSwapFree:       " + swapTotal / 1024 + " kB\n");
    }

    NodeFixture kernel(String release) throws IOException {
        return file("proc/sys/kernel/osrelease", release + "\n");
    }

    /** cgroup v2 on /sys/fs/cgroup with memory, doctor in /user.slice (memory.swap.max there unless no accounting). */
    NodeFixture v2(boolean swapAccounting, boolean memoryReclaim) throws IOException {
        file("proc/self/mountinfo", "30 23 0:27 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n");
        file("proc/self/cgroup", "0::/user.slice\n");
        file("sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
        file("sys/fs/cgroup/user.slice/memory.max", "max\n");
        if (swapAccounting) {
            file("sys/fs/cgroup/user.slice/memory.swap.max", "max\n");
        }
        if (memoryReclaim) {
            file("sys/fs/cgroup/user.slice/memory.reclaim", "");
        }
        return this;
    }

    /** A hybrid host: cgroup v1 memory controller, cgroup2 mounted beside it without memory. */
    NodeFixture v1(boolean memsw) throws IOException {
        file("proc/self/mountinfo", """
                25 1 0:23 / /sys/fs/cgroup rw - tmpfs tmpfs ro,mode=755
                26 25 0:24 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate
                35 25 0:30 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
                """);
        file("proc/self/cgroup", "5:memory:/user.slice\n0::/user.slice\n");
        file("sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
        if (memsw) {
            file("sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", "9223372036854771712\n");
        }
        return this;
    }

    /** No memory controller anywhere. */
    NodeFixture noMemoryController() throws IOException {
        file("proc/self/mountinfo", "26 25 0:24 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n");
        file("proc/self/cgroup", "0::/\n");
        return file("sys/fs/cgroup/cgroup.controllers", "cpu pids\n");
    }

    /** One swap partition of {@code size} bytes with {@code used} in use. */
    NodeFixture swap(String device, long size, long used) throws IOException {
        swapTotal = size;
        file("proc/swaps", "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n" + device + "  partition\t"
                + size / 1024 + "\t" + used / 1024 + "\t-2\n");
        return meminfo();
    }

    NodeFixture noSwap() throws IOException {
        swapTotal = 0;
        file("proc/swaps", "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
        return meminfo();
    }

    NodeFixture psi() throws IOException {
        return file("proc/pressure/memory", "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
                + "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
    }

    /** A process of uid 1000 without capabilities, on a kernel with dmesg_restrict=1. */
    NodeFixture unprivileged() throws IOException {
        file("proc/sys/kernel/dmesg_restrict", "1\n");
        return file("proc/self/status", "Name:\tjava\nUid:\t1000\t1000\t1000\t1000\nCapEff:\t0000000000000000\n");
    }

    NodeFixture kmsg() throws IOException {
        return file("dev/kmsg", "");
    }

    NodeFixture ksm(int run) throws IOException {
        return file("sys/kernel/mm/ksm/run", run + "\n");
    }

    NodeFixture mglru(String enabled) throws IOException {
        return file("sys/kernel/mm/lru_gen/enabled", enabled + "\n");
    }

    NodeFixture zswap(boolean enabled) throws IOException {
        return file("sys/module/zswap/parameters/enabled", enabled ? "Y\n" : "N\n");
    }

    NodeFixture zramDevice(String name) throws IOException {
        Files.createDirectories(root.resolve("sys/block/" + name));
        return this;
    }

    /** A virtio balloon device bound to virtio_balloon. */
    NodeFixture virtioBalloon() throws IOException {
        file("sys/bus/virtio/devices/virtio3/device", "0x0005\n");
        file("sys/bus/virtio/devices/virtio3/features", "0010010000000000000000000000110100000000000000000000000000000000\n");
        Files.createDirectories(root.resolve("sys/bus/virtio/drivers/virtio_balloon"));
        Files.createSymbolicLink(root.resolve("sys/bus/virtio/devices/virtio3/driver"),
                Path.of("../../drivers/virtio_balloon"));
        return this;
    }

    /** A listening NRI socket (accepts connections into its backlog) at /var/run/nri/nri.sock. */
    NodeFixture nriSocket() throws IOException {
        Path s = root.resolve("var/run/nri/nri.sock");
        Files.createDirectories(s.getParent());
        nri = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        nri.bind(UnixDomainSocketAddress.of(s));
        return this;
    }

    NodeFixture containerdConfig(String toml) throws IOException {
        return file("etc/containerd/config.toml", toml);
    }

    NodeFixture serviceAccount() throws IOException {
        return file("var/run/secrets/kubernetes.io/serviceaccount/token", "fixture-token\n");
    }

    @Override
    public void close() throws IOException {
        if (nri != null) {
            nri.close();
        }
    }
}
