package io.memwarden.policy;

import io.memwarden.model.KubeQuantity;
import io.memwarden.model.Resources;
import io.memwarden.model.VmiSpec;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The virt-launcher memory overhead exactly as KubeVirt's {@code GetMemoryOverhead}
 * (pkg/hypervisor/kvm/hypervisorbackend.go @d923fdb; kernel-and-vm §1.1): page tables, the static per-process
 * parts, 8Mi per vCPU, the IOThread, video RAM, arm64 pflash, VFIO, downward metrics, exec probes, SEV, TPM,
 * dedicated CPUs or Guaranteed QoS, the VMI's added overhead, and finally the CR's additional overhead ratio, applied
 * in kB. The network-binding plugin overhead KubeVirt adds afterwards is not modelled. Pure.
 */
public final class KubeVirtOverhead {
    private KubeVirtOverhead() {}

    static final long MI = 1L << 20;

    /**
     * @param bytes the overhead in bytes (KubeVirt's {@code kubevirt.io/memory-overhead-bytes})
     * @param parts part name → bytes, in KubeVirt's order, only the parts that apply; they sum to {@code bytes}
     */
    public record Result(long bytes, Map<String, Long> parts, List<String> reasons) {
        public Result {
            parts = Collections.unmodifiableMap(new LinkedHashMap<>(parts));
            reasons = List.copyOf(reasons);
        }
    }

    /**
     * @param architecture the VMI's {@code spec.architecture}, else the node's
     * @param ratio        the CR's {@code additionalGuestMemoryOverheadRatio} (validated by {@link KubeVirtConfig}),
     *                     null for none
     */
    public static Result compute(VmiSpec vmi, String architecture, String ratio) {
        Map<String, Long> parts = new LinkedHashMap<>();
        List<String> why = new ArrayList<>();
        Resources r = vmi.resources();
        long request = r.memoryRequestOrZero();
        // ScaledValue(Kilo) rounds up to whole kB; one byte of page table per 512 bytes of that
        long pageTables = Math.multiplyExact(ceilDiv(request, 1000), 1000L) / 512;
        parts.put("pageTables", pageTables);
        parts.put("virtLauncherMonitor", 25 * MI);
        parts.put("virtLauncher", 100 * MI);
        parts.put("virtlogd", 25 * MI);
        parts.put("virtqemud", 40 * MI);
        parts.put("qemu", 50 * MI);
        long vcpus = Math.max(1, vcpus(vmi));
        parts.put("vcpus", Math.multiplyExact(8 * MI, vcpus));
        parts.put("ioThread", 8 * MI);
        if (!Boolean.FALSE.equals(vmi.devices().autoattachGraphicsDevice())) {
            parts.put("video", 32 * MI);
        }
        if ("arm64".equals(architecture)) {
            parts.put("arm64Pflash", 128 * MI);
        }
        if (vmi.devices().vfio()) {
            parts.put("vfio", 1024 * MI);
        }
        if (vmi.devices().downwardMetricsVolume()) {
            parts.put("downwardMetrics", MI);
        }
        int probes = (vmi.devices().livenessExec() ? 1 : 0) + (vmi.devices().readinessExec() ? 1 : 0);
        if (probes > 0) {
            parts.put("execProbes", probes * 10 * MI + 100 * MI);
        }
        if (vmi.devices().sev()) {
            parts.put("sev", 256 * MI);
        }
        if (vmi.devices().tpm()) {
            parts.put("tpm", 53 * MI);
        }
        boolean dedicated = vmi.cpu() != null && vmi.cpu().dedicatedCpuPlacement();
        if (dedicated || wantsGuaranteed(vmi)) {
            parts.put("dedicatedCpuOrGuaranteedQos", 100 * MI);
        }
        if (vmi.addedOverhead() != null) {
            parts.put("addedOverhead", vmi.addedOverhead());
        }
        long sum = 0;
        for (long v : parts.values()) {
            sum = Math.addExact(sum, v);
        }
        why.add("overhead: page tables " + pageTables + " (memory request " + request + " rounded up to kB, / 512), static"
                + " 240Mi (virt-launcher-monitor 25Mi, virt-launcher 100Mi, virtlogd 25Mi, virtqemud 40Mi, QEMU 50Mi), "
                + vcpus + " vCPU × 8Mi, IOThread 8Mi" + extras(parts) + " = " + sum + " [kernel-and-vm §1.1]");
        if (ratio != null && !ratio.isEmpty()) {
            double m = KubeVirtConfig.ratio(ratio);
            // MultiplyMemory: ScaledValue(Kilo) rounds up to kB; the addition is truncated to whole kB
            long addedKb = (long) ((double) ceilDiv(sum, 1000) * (m - 1.0));
            long added = Math.multiplyExact(addedKb, 1000L);
            parts.put("additionalOverheadRatio", added);
            why.add("overhead × additionalGuestMemoryOverheadRatio " + ratio + ": + " + added + " (⌈" + sum
                    + "/1000⌉ kB × (" + ratio + " − 1) in float64, truncated to whole kB) = " + (sum + added)
                    + " [kernel-and-vm §1.1]");
            sum = Math.addExact(sum, added);
        }
        return new Result(sum, parts, why);
    }

    private static String extras(Map<String, Long> parts) {
        StringBuilder sb = new StringBuilder();
        for (var e : parts.entrySet()) {
            switch (e.getKey()) {
                case "pageTables", "virtLauncherMonitor", "virtLauncher", "virtlogd", "virtqemud", "qemu", "vcpus",
                     "ioThread" -> { }
                default -> sb.append(", ").append(e.getKey()).append(' ').append(e.getValue());
            }
        }
        return sb.toString();
    }

    /**
     * The vCPU count after KubeVirt's defaulting ({@code SetDefaultGuestCPUTopology}: no topology → sockets = cpu
     * limit, else cpu request, else 1) and {@code GetNumberOfVCPUs} (the product of the non-zero topology parts).
     */
    static long vcpus(VmiSpec vmi) {
        VmiSpec.Cpu cpu = vmi.cpu();
        if (cpu != null && cpu.topologySet()) {
            long n = 0;
            for (long p : new long[] {cpu.cores(), cpu.sockets(), cpu.threads()}) {
                if (p != 0) {
                    n = n == 0 ? p : Math.multiplyExact(n, p);
                }
            }
            return n;
        }
        Resources r = vmi.resources();
        if (r.cpuLimit() != null) {
            return wholeCpus(r.cpuLimit());
        }
        if (r.cpuRequest() != null) {
            return wholeCpus(r.cpuRequest());
        }
        return 1;
    }

    /** {@code Quantity.Value()} of a cpu quantity, as the uint32 KubeVirt stores in the topology. */
    private static long wholeCpus(KubeQuantity q) {
        long v = q.bytes();
        return v & 0xFFFF_FFFFL;
    }

    /**
     * KubeVirt's {@code WantsToHaveQOSGuaranteed}: a non-zero cpu request equal to the cpu limit, and a memory request
     * equal to the memory limit (or no memory request and a memory limit).
     */
    static boolean wantsGuaranteed(VmiSpec vmi) {
        Resources r = vmi.resources();
        long mReq = r.memoryRequestOrZero();
        long mLim = r.memoryLimitOrZero();
        boolean memory = (mReq == 0 && mLim != 0) || (mReq != 0 && mReq == mLim);
        boolean cpu = r.cpuRequest() != null && !r.cpuRequest().isZero()
                && r.cpuRequest().value().compareTo(r.cpuLimit() == null ? BigDecimal.ZERO
                        : r.cpuLimit().value()) == 0;
        return memory && cpu;
    }

    static long ceilDiv(long a, long b) {
        return Math.ceilDiv(a, b);
    }
}
