package io.memwarden.cgroup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.memwarden.model.CgroupVersion;
import io.memwarden.model.Pressure;
import io.memwarden.model.QosClass;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cgroup room against temporary file trees (real kernels: CgroupWriterKernelTest and the vm tier). */
class CgroupRoomTest {
    @TempDir
    Path root;

    private void file(String rel, String content) throws IOException {
        Path p = root.resolve(rel);
        Files.createDirectories(p.getParent());
        Files.writeString(p, content);
    }

    @Test
    void detectsThisMachinesHybridShape() throws IOException {
        file("proc/self/mountinfo", """
                31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
                35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
                42 31 0:39 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
                """);
        file("proc/self/cgroup", "4:memory:/process_api/abc\n0::/\n");
        file("proc/meminfo", "MemTotal:       24684092 kB\nMemFree: 1 kB\nSwapTotal:        262140 kB\n");
        file("proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n/var/tmp/my\\040swap file 262140 0 5\n");
        file("sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", "9223372036854771712\n");
        file("sys/fs/cgroup/unified/cgroup.controllers", "hugetlb\n");
        file("sys/block/zram0/disksize", "0\n");
        file("sys/block/vda/size", "1\n");
        file("sys/module/zswap/parameters/enabled", "N\n");
        file("proc/sys/kernel/osrelease", "6.18.44-fc-v657\n");
        file("proc/pressure/memory", "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
        HostFacts h = new HostProbe(root).read();
        assertThat(h.memoryController()).isEqualTo(CgroupVersion.V1);
        assertThat(h.hybrid()).isTrue();
        assertThat(h.ownMemoryCgroup()).isEqualTo(root.resolve("sys/fs/cgroup/memory/process_api/abc"));
        assertThat(h.swapAccounting()).isTrue();
        assertThat(h.memTotal()).isEqualTo(24684092L * 1024);
        assertThat(h.swapTotal()).isEqualTo(262140L * 1024);
        assertThat(h.swapDevices()).containsExactly("/var/tmp/my swap");
        assertThat(h.zramDevices()).containsExactly("zram0");
        assertThat(h.zswapEnabled()).isFalse();
        assertThat(h.psi()).isTrue();
        assertThat(h.toNodeFacts().cgroupVersion()).isEqualTo(CgroupVersion.V1);
    }

    @Test
    void detectsCgroupV2() throws IOException {
        file("proc/self/mountinfo", "30 23 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n");
        file("proc/self/cgroup", "0::/user.slice/session-1.scope\n");
        file("proc/meminfo", "MemTotal: 2048000 kB\nSwapTotal: 0 kB\n");
        file("sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory hugetlb pids\n");
        file("sys/fs/cgroup/user.slice/session-1.scope/memory.swap.max", "max\n");
        HostFacts h = new HostProbe(root).read();
        assertThat(h.memoryController()).isEqualTo(CgroupVersion.V2);
        assertThat(h.hybrid()).isFalse();
        assertThat(h.ownMemoryCgroup()).isEqualTo(root.resolve("sys/fs/cgroup/user.slice/session-1.scope"));
        assertThat(h.swapAccounting()).isTrue();
        assertThat(h.psi()).isFalse();
    }

    @Test
    void kubeletLayoutsForBothDrivers() {
        var fs = new KubeletCgroupLayout(CgroupDriver.CGROUPFS);
        assertThat(fs.containerCgroup(QosClass.BURSTABLE, "1234-ab", "cri-containerd", "c0ffee"))
                .isEqualTo("kubepods/burstable/pod1234-ab/c0ffee");
        assertThat(fs.podCgroup(QosClass.GUARANTEED, "u")).isEqualTo("kubepods/podu");
        assertThat(fs.qosCgroup(QosClass.BEST_EFFORT)).isEqualTo("kubepods/besteffort");
        var sd = new KubeletCgroupLayout(CgroupDriver.SYSTEMD);
        assertThat(sd.containerCgroup(QosClass.BURSTABLE, "1234-ab", "cri-containerd", "c0ffee"))
                .isEqualTo("kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234_ab.slice/cri-containerd-c0ffee.scope");
        assertThat(sd.podCgroup(QosClass.GUARANTEED, "a-b")).isEqualTo("kubepods.slice/kubepods-poda_b.slice");
        assertThatThrownBy(() -> fs.podCgroup(QosClass.BURSTABLE, "../x")).hasMessageContaining("cannot be a cgroup name");
    }

    @Test
    void v1OrderKeepsMemswAboveTheLimitAtEveryStep() {
        CgroupWriter w = new CgroupWriter(CgroupVersion.V1, 4096);
        Map<String, String> raise = new LinkedHashMap<>();
        raise.put("memory.limit_in_bytes", "200000000");
        raise.put("memory.memsw.limit_in_bytes", "300000000");
        assertThat(w.order(Map.of("memory.limit_in_bytes", "100000000", "memory.memsw.limit_in_bytes", "100000000"), raise))
                .containsExactly("memory.memsw.limit_in_bytes", "memory.limit_in_bytes");
        Map<String, String> lower = new LinkedHashMap<>();
        lower.put("memory.memsw.limit_in_bytes", "50000000");
        lower.put("memory.limit_in_bytes", "50000000");
        assertThat(w.order(Map.of("memory.limit_in_bytes", "100000000", "memory.memsw.limit_in_bytes", "-1"), lower))
                .containsExactly("memory.limit_in_bytes", "memory.memsw.limit_in_bytes");
        // from unlimited (reads back as PAGE_COUNTER_MAX) to finite: the limit first
        assertThat(w.order(Map.of("memory.limit_in_bytes", "9223372036854771712"), lower))
                .containsExactly("memory.limit_in_bytes", "memory.memsw.limit_in_bytes");
    }

    @Test
    void readBackAcceptsPageRoundingAndV1Unlimited() {
        CgroupWriter w = new CgroupWriter(CgroupVersion.V1, 4096);
        assertThat(w.same("100000000", "99999744")).isTrue();
        assertThat(w.same("100000000", "99995648")).isFalse();
        assertThat(w.same("-1", "9223372036854771712")).isTrue();
        // byte limits are page-rounded by the kernel; flags and counts are not
        assertThat(w.same("memory.max", "100000000", "99999744")).isTrue();
        assertThat(w.same("memory.zswap.max", "100000000", "99999744")).isTrue();
        assertThat(w.same("memory.oom.group", "1", "0")).isFalse();
        assertThat(w.same("memory.swappiness", "0", "60")).isFalse();
        assertThat(w.same("memory.swappiness", "60", "60\n")).isTrue();
        assertThat(w.same("max", "max")).isTrue();
        assertThat(w.same("max", "1000")).isFalse();
    }

    @Test
    void writerAppliesAndReportsMissingFilesWithoutHalfApplying() throws Exception {
        file("cg/memory.max", "max\n");
        file("cg/memory.swap.max", "max\n");
        CgroupWriter w = new CgroupWriter(CgroupVersion.V2, 4096);
        var applied = w.apply(root.resolve("cg"), Map.of("memory.max", "104857600"));
        assertThat(Files.readString(root.resolve("cg/memory.max"))).isEqualTo("104857600");
        assertThat(applied.files().get("memory.max")).containsExactly("max", "104857600", "104857600");
        Map<String, String> plan = new LinkedHashMap<>();
        plan.put("memory.swap.max", "0");
        plan.put("memory.high", "50000000");
        assertThatThrownBy(() -> w.apply(root.resolve("cg"), plan))
                .isInstanceOfSatisfying(CgroupWriteException.class, e -> {
                    assertThat(e.kind()).isEqualTo(CgroupWriteException.Kind.MISSING);
                    assertThat(e.file()).isEqualTo("memory.high");
                    assertThat(e.getMessage()).contains(root.resolve("cg").toString()).contains("memory.high=50000000");
                });
        assertThat(Files.readString(root.resolve("cg/memory.swap.max"))).isEqualTo("max\n"); // untouched
    }

    @Test
    void v2UsageSnapshot() throws Exception {
        file("cg/memory.current", "104857600\n");
        file("cg/memory.swap.current", "4096\n");
        file("cg/memory.max", "max\n");
        file("cg/memory.high", "99999744\n");
        file("cg/memory.swap.max", "0\n");
        file("cg/memory.events", "low 0\nhigh 12\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n");
        file("cg/memory.stat", "anon 100000000\nfile 4857600\ninactive_file 857600\nswap 4096\n");
        file("cg/memory.pressure", "some avg10=1.50 avg60=0.20 avg300=0.00 total=123456\nfull avg10=0.50 avg60=0.10 avg300=0.00 total=6543\n");
        file("cg/cgroup.procs", "12\n13\n");
        MemoryUsage u = MemoryUsage.read(root.resolve("cg"), CgroupVersion.V2);
        assertThat(u.usageBytes()).isEqualTo(104857600);
        assertThat(u.swapBytes()).isEqualTo(4096);
        assertThat(u.limitBytes()).isEqualTo(-1);
        assertThat(u.highBytes()).isEqualTo(99999744);
        assertThat(u.swapLimitBytes()).isZero();
        assertThat(u.events()).containsEntry("high", 12L).containsEntry("oom_kill", 1L);
        assertThat(u.workingSetBytes()).isEqualTo(104857600 - 857600);
        assertThat(u.pressure().someAvg10()).isEqualTo(1.5);
        assertThat(u.pressure().fullTotalMicros()).isEqualTo(6543);
        assertThat(u.pids()).containsExactly(12L, 13L);
    }

    @Test
    void v1UsageSnapshot() throws Exception {
        file("cg/memory.usage_in_bytes", "50000000\n");
        file("cg/memory.memsw.usage_in_bytes", "90000000\n");
        file("cg/memory.limit_in_bytes", "49999872\n");
        file("cg/memory.memsw.limit_in_bytes", "9223372036854771712\n");
        file("cg/memory.failcnt", "77\n");
        file("cg/memory.memsw.failcnt", "0\n");
        file("cg/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
        file("cg/memory.stat", "cache 0\nrss 49000000\nswap 40000000\ntotal_inactive_file 1000000\n");
        file("cg/cgroup.procs", "");
        MemoryUsage u = MemoryUsage.read(root.resolve("cg"), CgroupVersion.V1);
        assertThat(u.swapBytes()).isEqualTo(40000000);
        assertThat(u.limitBytes()).isEqualTo(49999872);
        assertThat(u.swapLimitBytes()).isEqualTo(-1);
        assertThat(u.events()).containsEntry("failcnt", 77L).containsEntry("oom_kill", 2L);
        assertThat(u.workingSetBytes()).isEqualTo(49000000);
        assertThat(u.pids()).isEmpty();
    }

    @Test
    void processMemoryAndPressureParsers() {
        var pm = ProcessMemory.parse(7, "Name:\tperl\nVmRSS:\t   87008 kB\nVmSwap:\t    1024 kB\n");
        assertThat(pm.rssBytes()).isEqualTo(87008L * 1024);
        assertThat(pm.swapBytes()).isEqualTo(1024L * 1024);
        var p = Pressure.parse("some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
        assertThat(p.fullTotalMicros()).isZero();
        assertThatThrownBy(() -> Pressure.parse("some avg10 avg60=0 avg300=0 total=0")).hasMessageContaining("malformed");
        assertThat(HostProbe.unescape("a\\040b\\\\c")).isEqualTo("a b\\\\c");
        assertThat(List.of(HostProbe.unescape("/x\\011y"))).containsExactly("/x\ty");
    }
}
