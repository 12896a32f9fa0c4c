package io.memwarden.view;

import io.memwarden.model.CgroupVersion;
import io.memwarden.model.KernelRelease;
import io.memwarden.model.SwapBehavior;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code memwarden doctor}'s judgement (pure): per capability memwarden has, whether it works on the node described by
 * {@link DoctorFacts}, why not, and the one command or config line that fixes it. Overall: unusable without a cgroup
 * memory controller, degraded when any capability is not ready, ready otherwise (docs/operations.md, "doctor").
 */
public final class Doctor {
    private Doctor() {}

    /** A capability's state on this node. NOT_APPLICABLE never degrades the node (e.g. a balloon on bare metal). */
    public enum Status {
        READY, DEGRADED, UNAVAILABLE, NOT_APPLICABLE;

        public String text() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    public enum Overall {
        READY, DEGRADED, UNUSABLE;

        public String text() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** One capability: its name, state, why (one line) and the fix (one command or config line), or null. */
    public record Capability(String name, Status status, String detail, String fix) {}

    public record Report(Overall overall, List<Capability> capabilities) {
        public Report {
            capabilities = List.copyOf(capabilities);
        }

        public Capability capability(String name) {
            return capabilities.stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow();
        }
    }

    public static Report evaluate(DoctorFacts f) {
        List<Capability> out = new ArrayList<>();
        out.add(cgroup(f));
        out.add(swap(f));
        out.add(memoryQos(f));
        out.add(throttleRelief(f));
        out.add(coldOffload(f));
        out.add(pressureGuard(f));
        out.add(oomWatch(f));
        out.add(ksm(f));
        out.add(balloon(f));
        out.add(zramZswap(f));
        out.add(tmpfsNoswap(f));
        out.add(nri(f));
        out.add(kubernetesApi(f));
        out.add(kubelet(f));
        Overall overall = f.memoryController() == null ? Overall.UNUSABLE
                : out.stream().anyMatch(c -> c.status() == Status.DEGRADED || c.status() == Status.UNAVAILABLE)
                        ? Overall.DEGRADED : Overall.READY;
        return new Report(overall, out);
    }

    private static Capability cgroup(DoctorFacts f) {
        if (f.memoryController() == null) {
            return new Capability("cgroup", Status.UNAVAILABLE, "no cgroup memory controller: memwarden has nothing"
                    + " to manage", "boot with cgroup_enable=memory (and systemd.unified_cgroup_hierarchy=1 for v2)");
        }
        if (f.memoryController() == CgroupVersion.V2) {
            return new Capability("cgroup", Status.READY, "cgroup v2 memory controller at " + f.memoryMount(), null);
        }
        return new Capability("cgroup", Status.DEGRADED, "cgroup v1 memory controller at " + f.memoryMount()
                + (f.hybrid() ? " (hybrid host)" : "") + ": v2 semantics are projected onto v1 files, and the"
                + " kubelet grants no swap on v1", "boot with systemd.unified_cgroup_hierarchy=1 (cgroup v2)");
    }

    private static String swapFigures(DoctorFacts f) {
        return Bytes.human(f.swapTotal()) + " total, " + Bytes.human(f.swapFree()) + " free ("
                + String.join(", ", f.swapDevices()) + ")";
    }

    private static Capability swap(DoctorFacts f) {
        if (f.memoryController() == null) {
            return new Capability("swap", Status.UNAVAILABLE, "no memory controller", null);
        }
        if (f.swapTotal() <= 0) {
            return new Capability("swap", Status.UNAVAILABLE, "swap is off: every container gets no swap whatever"
                    + " its swap class", "memwarden swap file create /swapfile --size 4Gi");
        }
        if (!f.swapAccounting()) {
            boolean v1 = f.memoryController() == CgroupVersion.V1;
            return new Capability("swap", Status.DEGRADED, "swap on: " + swapFigures(f) + ", but the memory"
                    + " controller does not account swap (" + (v1 ? "no memory.memsw.limit_in_bytes" : "no"
                    + " memory.swap.max") + "): per-container swap limits are not enforced",
                    v1 ? "boot with swapaccount=1" : "remove swapaccount=0 from the kernel command line");
        }
        return new Capability("swap", Status.READY, "swap on: " + swapFigures(f) + "; per-container limits through "
                + (f.memoryController() == CgroupVersion.V2 ? "memory.swap.max" : "memory.memsw.limit_in_bytes"),
                null);
    }

    private static Capability memoryQos(DoctorFacts f) {
        if (f.memoryController() == null) {
            return new Capability("memory-qos", Status.UNAVAILABLE, "no memory controller", null);
        }
        if (f.memoryController() != CgroupVersion.V2) {
            return new Capability("memory-qos", Status.UNAVAILABLE, "memory.min and memory.high are cgroup v2 files;"
                    + " cgroup v1 has neither", "boot with systemd.unified_cgroup_hierarchy=1 (cgroup v2)");
        }
        if (kernelOlder(f.kernelRelease(), 5, 9)) {
            return new Capability("memory-qos", Status.DEGRADED, "kernel " + f.kernelRelease() + " < 5.9:"
                    + " memory.high can livelock a container (memory-control-anchors.md, KEP-2570); memory.min works",
                    "upgrade the kernel to 5.9 or later");
        }
        return new Capability("memory-qos", Status.READY, "memory.min and memory.high (kernel " + f.kernelRelease()
                + " ≥ 5.9: no memory.high livelock)", null);
    }

    private static Capability throttleRelief(DoctorFacts f) {
        if (f.memoryController() == null) {
            return new Capability("throttle-relief", Status.UNAVAILABLE, "no memory controller", null);
        }
        if (f.memoryController() == CgroupVersion.V1) {
            return new Capability("throttle-relief", Status.READY, "on the projected ceiling"
                    + " (memory.limit_in_bytes): cgroup v1 has no memory.high", null);
        }
        return new Capability("throttle-relief", Status.READY, "raises memory.high for a throttled container", null);
    }

    private static Capability coldOffload(DoctorFacts f) {
        List<String> missing = new ArrayList<>();
        String fix = null;
        if (f.memoryController() == null) {
            return new Capability("cold-offload", Status.UNAVAILABLE, "no memory controller", null);
        }
        if (f.swapTotal() <= 0) {
            missing.add("swap is off (nowhere to offload to)");
            fix = "memwarden swap file create /swapfile --size 4Gi";
        } else if (!f.swapAccounting()) {
            missing.add("swap is not accounted");
            fix = f.memoryController() == CgroupVersion.V1 ? "boot with swapaccount=1"
                    : "remove swapaccount=0 from the kernel command line";
        }
        if (!f.psi()) {
            missing.add("no PSI (its stall signal)");
            fix = fix == null ? "boot with psi=1" : fix;
        }
        String method;
        String methodFix = null;
        if (f.memoryController() == CgroupVersion.V2) {
            if (!f.memoryReclaim()) {
                method = "process_madvise(MADV_PAGEOUT) (no memory.reclaim: kernel < 5.19)";
                if (kernelOlder(f.kernelRelease(), 5, 10)) {
                    missing.add("no memory.reclaim and kernel " + f.kernelRelease() + " < 5.10 has no"
                            + " process_madvise");
                    methodFix = "upgrade the kernel to 5.19 or later";
                }
            } else if (f.mglru() == null || f.mglru().equals("0x0000")) {
                method = "memory.reclaim (no MGLRU here: loops.offload.v2Method: madvise keeps cold sets out"
                        + " better, docs/control-loops.md)";
            } else {
                method = "memory.reclaim (MGLRU " + f.mglru() + ")";
            }
        } else {
            method = "process_madvise(MADV_PAGEOUT) on cold ranges (cgroup v1 has no memory.reclaim)";
            if (kernelOlder(f.kernelRelease(), 5, 10)) {
                missing.add("kernel " + f.kernelRelease() + " < 5.10 has no process_madvise");
                methodFix = "upgrade the kernel to 5.10 or later";
            }
        }
        if (!missing.isEmpty()) {
            return new Capability("cold-offload", Status.UNAVAILABLE, "off: " + String.join("; ", missing)
                    + "; method here: " + method, fix != null ? fix : methodFix);
        }
        return new Capability("cold-offload", Status.READY, "method: " + method, null);
    }

    private static Capability pressureGuard(DoctorFacts f) {
        if (f.memoryController() == null) {
            return new Capability("pressure-guard", Status.UNAVAILABLE, "no memory controller", null);
        }
        if (!f.psi()) {
            return new Capability("pressure-guard", Status.DEGRADED, "no PSI (/proc/pressure/memory): the guard"
                    + " acts on memory.available and swap only, and wakes on its period", "boot with psi=1");
        }
        return new Capability("pressure-guard", Status.READY, "PSI memory pressure and memory.available"
                + " (a PSI trigger wakes the loops)", null);
    }

    private static Capability oomWatch(DoctorFacts f) {
        if (f.kmsgReadable()) {
            return new Capability("oom-watch", Status.READY, "/dev/kmsg is readable: OOM kills are attributed to"
                    + " containers", null);
        }
        return new Capability("oom-watch", Status.UNAVAILABLE, "/dev/kmsg is missing or not readable by uid "
                + f.effectiveUid() + (f.dmesgRestrict() ? " (kernel.dmesg_restrict=1: CAP_SYSLOG needed)" : ""),
                "run memwarden as root (the agent's DaemonSet does)");
    }

    private static Capability ksm(DoctorFacts f) {
        if (f.ksmRun() == null) {
            return new Capability("ksm", Status.UNAVAILABLE, "no /sys/kernel/mm/ksm: the kernel is built without KSM",
                    "use a kernel built with CONFIG_KSM=y");
        }
        String state = switch (f.ksmRun()) {
            case 0 -> "off (memwarden ksm turns it on)";
            case 1 -> "running";
            case 2 -> "unmerging";
            default -> "run=" + f.ksmRun();
        };
        return new Capability("ksm", Status.READY, "/sys/kernel/mm/ksm: " + state, null);
    }

    private static Capability balloon(DoctorFacts f) {
        if (f.balloonDriver() == null) {
            return new Capability("balloon", Status.NOT_APPLICABLE, "no virtio_balloon or vmw_balloon device: not a"
                    + " VM with a balloon", null);
        }
        return new Capability("balloon", Status.READY, f.balloonDriver() + " present: MemTotal changes are"
                + " followed", null);
    }

    private static Capability zramZswap(DoctorFacts f) {
        List<String> parts = new ArrayList<>();
        List<String> zramSwap = f.zramDevices().stream()
                .filter(z -> f.swapDevices().contains("/dev/" + z)).toList();
        if (!zramSwap.isEmpty()) {
            parts.add("zram swap " + String.join(", ", zramSwap));
        } else if (!f.zramDevices().isEmpty()) {
            parts.add("zram devices " + String.join(", ", f.zramDevices()) + " (none is swap)");
        }
        if (Boolean.TRUE.equals(f.zswapEnabled())) {
            parts.add("zswap enabled");
        }
        if (!zramSwap.isEmpty() || Boolean.TRUE.equals(f.zswapEnabled())) {
            return new Capability("zram-zswap", Status.READY, String.join("; ", parts), null);
        }
        String zs = f.zswapEnabled() == null ? "zswap not built" : "zswap disabled";
        return new Capability("zram-zswap", Status.NOT_APPLICABLE, "compressed swap not in use ("
                + (parts.isEmpty() ? "" : parts.getFirst() + ", ") + zs + ")",
                "memwarden swap zram setup --size 2Gi");
    }

    private static Capability tmpfsNoswap(DoctorFacts f) {
        if (f.tmpfsNoswap()) {
            return new Capability("tmpfs-noswap", Status.READY, "tmpfs mounts of containers that may swap are mounted"
                    + " noswap: " + f.tmpfsNoswapDetection(), null);
        }
        return new Capability("tmpfs-noswap", f.swapTotal() > 0 ? Status.DEGRADED : Status.NOT_APPLICABLE,
                "tmpfs has no noswap, memory-backed volumes can swap (reported, not prevented): "
                        + f.tmpfsNoswapDetection(), "upgrade the kernel to 6.4 or later");
    }

    private static Capability nri(DoctorFacts f) {
        DoctorFacts.Nri n = f.nri();
        String config = switch (n.setting()) {
            case ENABLED -> n.containerdConfig() + " enables NRI";
            case DISABLED -> n.containerdConfig() + " disables NRI";
            case NOT_SET -> n.containerdConfig() + " does not set NRI (on by default in containerd 2.x, off in 1.7)";
            case NO_CONFIG -> "no readable " + n.containerdConfig();
        };
        String enable = "set disable = false under [plugins.\"io.containerd.nri.v1.nri\"] in "
                + n.containerdConfig() + " and restart containerd";
        return switch (n.socketState()) {
            case ACCEPTS -> new Capability("nri", Status.READY, n.socket() + " accepts connections; " + config, null);
            case NO_PERMISSION -> new Capability("nri", Status.UNAVAILABLE, n.socket() + ": permission denied; "
                    + config, "run memwarden as root (the socket's directory is 0700)");
            case REFUSED -> new Capability("nri", Status.UNAVAILABLE, n.socket() + " exists but refused the"
                    + " connection" + (n.socketDetail() == null ? "" : " (" + n.socketDetail() + ")") + "; "
                    + config, n.setting() == DoctorFacts.NriSetting.DISABLED ? enable : "restart containerd");
            case MISSING -> new Capability("nri", Status.UNAVAILABLE, "no socket at " + n.socket() + "; " + config
                    + "; memwarden run and the standalone agent work without NRI",
                    n.setting() == DoctorFacts.NriSetting.ENABLED ? "restart containerd" : enable);
        };
    }

    private static Capability kubernetesApi(DoctorFacts f) {
        DoctorFacts.Kube k = f.kube();
        if (k.inClusterEnv() && k.serviceAccount()) {
            return new Capability("kubernetes-api", Status.READY, "in-cluster: KUBERNETES_SERVICE_HOST and a service"
                    + " account token (not contacted)", null);
        }
        if (k.kubeconfig() != null) {
            return new Capability("kubernetes-api", Status.READY, "kubeconfig " + k.kubeconfig()
                    + " (not contacted)", null);
        }
        return new Capability("kubernetes-api", Status.UNAVAILABLE, "no in-cluster environment and no kubeconfig:"
                + " no pod events, evictions or node labels (memwarden run works without)",
                "export KUBECONFIG=/etc/kubernetes/kubelet.conf");
    }

    private static Capability kubelet(DoctorFacts f) {
        DoctorFacts.Kubelet k = f.kubelet();
        if (k == null) {
            return new Capability("kubelet", Status.NOT_APPLICABLE, "no --kubelet-config given",
                    "memwarden doctor --kubelet-config /var/lib/kubelet/config.yaml");
        }
        if (k.error() != null) {
            return new Capability("kubelet", Status.UNAVAILABLE, k.error(), "fix the file named above");
        }
        boolean swapOn = f.swapTotal() > 0;
        String says = k.path() + ": failSwapOn " + k.failSwapOn() + ", swapBehavior "
                + k.swapBehavior().configName();
        if (swapOn && k.failSwapOn()) {
            return new Capability("kubelet", Status.UNAVAILABLE, says + ": the kubelet refuses to start with swap on",
                    "failSwapOn: false");
        }
        if (swapOn && k.swapBehavior() == SwapBehavior.LIMITED_SWAP && f.memoryController() == CgroupVersion.V1) {
            return new Capability("kubelet", Status.UNAVAILABLE, says + ": the kubelet (1.30+) refuses LimitedSwap"
                    + " with swap on cgroup v1", "memorySwap: {swapBehavior: NoSwap}");
        }
        if (swapOn && k.swapBehavior() == SwapBehavior.NO_SWAP) {
            return new Capability("kubelet", Status.DEGRADED, says + ": swap is on but no pod may use it",
                    "memorySwap: {swapBehavior: LimitedSwap}");
        }
        if (!swapOn && k.swapBehavior() != SwapBehavior.NO_SWAP) {
            return new Capability("kubelet", Status.DEGRADED, says + ": the node has no swap, so no pod swaps",
                    "memwarden swap file create /swapfile --size 4Gi");
        }
        return new Capability("kubelet", Status.READY, says + (swapOn ? "" : " (no swap on the node)"), null);
    }

    private static boolean kernelOlder(String release, int major, int minor) {
        return KernelRelease.older(release, major, minor);
    }

    /** The report for people: one line per capability, its fix below it, human units. */
    public static String text(DoctorFacts f, Report r) {
        StringBuilder b = new StringBuilder();
        b.append("node: kernel ").append(f.kernelRelease() == null ? "?" : f.kernelRelease())
                .append(", ").append(f.memoryController() == null ? "no memory controller"
                        : "cgroup v" + f.memoryController().number() + (f.hybrid() ? " (hybrid)" : ""))
                .append(", memory ").append(Bytes.human(f.memTotal()))
                .append(", swap ").append(Bytes.human(f.swapTotal()))
                .append(", uid ").append(f.effectiveUid()).append('\n');
        int width = r.capabilities().stream().mapToInt(c -> c.name().length()).max().orElse(0);
        for (Capability c : r.capabilities()) {
            String tag = String.format(Locale.ROOT, "%-17s", "[" + c.status().text() + "]");
            b.append(tag).append(String.format(Locale.ROOT, "%-" + width + "s", c.name())).append("  ")
                    .append(c.detail()).append('\n');
            if (c.fix() != null && c.status() != Status.READY) {
                b.append(" ".repeat(17 + width + 2)).append("fix: ").append(c.fix()).append('\n');
            }
        }
        b.append("overall: ").append(r.overall().text()).append('\n');
        return b.toString();
    }
}
