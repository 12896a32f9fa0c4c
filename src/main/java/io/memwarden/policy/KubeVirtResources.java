package io.memwarden.policy;

import io.memwarden.model.ContainerKind;
import io.memwarden.model.ContainerSpec;
import io.memwarden.model.KubeQuantity;
import io.memwarden.model.PodSpec;
import io.memwarden.model.QosClass;
import io.memwarden.model.Resources;
import io.memwarden.model.VmiSpec;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What KubeVirt renders for a VMI (pkg/virt-controller/services/renderresources.go and template.go @d923fdb;
 * kernel-and-vm §1.2): the guest memory, the compute container's requests and limits ({@code WithMemoryRequests},
 * {@code WithCPUPinning} / {@code WithoutDedicatedCPU}, {@code WithMemoryOverhead}), the guest-console-log sidecar,
 * and from them the virt-launcher pod, which the {@link Planner} then plans like any pod. Pure.
 *
 * <p>Not modelled (docs/vm-nodes.md): hugepages, auto memory/cpu limits from a namespace ResourceQuota, IOThread
 * supplemental pools and emulator-thread isolation, network-binding overhead, other support containers.
 */
public final class KubeVirtResources {
    private KubeVirtResources() {}

    /** The virt-launcher's compute container name. */
    public static final String COMPUTE = "compute";
    public static final String CONSOLE_LOG = "guest-console-log";

    /** The compute container's memory: request always set, limit null when none. */
    public record ComputeContainer(long requestBytes, Long limitBytes) {}

    /**
     * One VM's rendering. Field names are the {@code virtualMachines[]} contract of {@code memwarden plan -o json}
     * (docs/plan-output.md).
     */
    public record VirtualMachinePlan(String namespace, String name, String architecture, long guestMemoryBytes,
                                     long overheadBytes, Map<String, Long> overhead, ComputeContainer computeContainer,
                                     String qosClass, List<String> reasons) {
        public VirtualMachinePlan {
            overhead = overhead == null ? Map.of() : overhead;
            reasons = List.copyOf(reasons);
        }
    }

    /** A VMI's rendering and the virt-launcher pod to plan. */
    public record Rendered(VirtualMachinePlan plan, PodSpec launcherPod, QosClass qos) {}

    /**
     * @param nodeArchitecture the node's architecture; the VMI's {@code spec.architecture} wins
     * @throws IllegalArgumentException when the VMI has no memory (the reader rejects such VMIs first)
     */
    public static Rendered render(VmiSpec vmi, KubeVirtConfig config, String nodeArchitecture) {
        return render(vmi, config, nodeArchitecture, null);
    }

    /**
     * @param launcher the VMI's real virt-launcher pod ({@link VirtLaunchers#runs}), or null: when it publishes
     *                 {@code kubevirt.io/memory-overhead-bytes}, that value is the overhead (KubeVirt sized the pod
     *                 with it), and a difference from memwarden's own computation is a "version drift" warning
     */
    public static Rendered render(VmiSpec vmi, KubeVirtConfig config, String nodeArchitecture, PodSpec launcher) {
        List<String> why = new ArrayList<>();
        String arch = vmi.architecture() != null ? vmi.architecture() : nodeArchitecture;
        why.add("architecture " + arch + (vmi.architecture() != null ? ": spec.architecture" : ": the node's"));
        KubeVirtOverhead.Result computed = KubeVirtOverhead.compute(vmi, arch,
                config.additionalGuestMemoryOverheadRatio());
        why.addAll(computed.reasons());
        long overheadBytes = computed.bytes();
        if (launcher != null) {
            why.add("virt-launcher pod " + launcher.key() + " runs this VMI (label " + VirtLaunchers.APP_LABEL + "="
                    + VirtLaunchers.APP_VIRT_LAUNCHER + ", annotation " + VirtLaunchers.DOMAIN_ANNOTATION + "="
                    + vmi.name() + "): it is planned instead of memwarden's rendering of it");
            VirtLaunchers.Published pub = VirtLaunchers.publishedOverhead(launcher);
            if (pub == null) {
                why.add("the pod publishes no " + VirtLaunchers.OVERHEAD_ANNOTATION + " (KubeVirt's"
                        + " VmiMemoryOverheadReport): memwarden's computed overhead " + computed.bytes() + " is used");
            } else if (pub.bytes() == null) {
                why.add("warning: " + pub.problem() + "; memwarden's computed overhead " + computed.bytes()
                        + " is used");
            } else {
                overheadBytes = pub.bytes();
                why.add("overhead " + overheadBytes + ": published by KubeVirt in annotation "
                        + VirtLaunchers.OVERHEAD_ANNOTATION + " of pod " + launcher.key() + " (the value KubeVirt"
                        + " sized the pod with); the parts above are memwarden's own computation, " + computed.bytes()
                        + " [kernel-and-vm §1.1]");
                if (overheadBytes != computed.bytes()) {
                    why.add("warning: version drift: KubeVirt published overhead " + overheadBytes + " bytes, memwarden"
                            + " computes " + computed.bytes() + " bytes (difference " + (overheadBytes - computed.bytes())
                            + "): this cluster's KubeVirt sizes VMs unlike the version memwarden follows (kubevirt"
                            + " @d923fdb; before PR #18388 QEMU's share was 20Mi less); the published value is used"
                            + " [kernel-and-vm §1.1]");
                }
            }
        }
        KubeVirtOverhead.Result overhead = new KubeVirtOverhead.Result(overheadBytes, computed.parts(), List.of());
        Resources r = vmi.resources();
        Long guest = vmi.guestMemory() != null ? vmi.guestMemory()
                : r.memoryRequest() != null ? r.memoryRequest() : r.memoryLimit();
        if (guest == null) {
            throw new IllegalArgumentException(vmi.key() + ": no guest memory, memory request or memory limit");
        }
        why.add("guest memory " + guest + ": " + (vmi.guestMemory() != null ? "spec.domain.memory.guest"
                : r.memoryRequest() != null ? "defaulted to the memory request" : "defaulted to the memory limit")
                + " [kernel-and-vm §1.2]");

        // WithMemoryRequests (runs only when the VMI's memory request is zero or absent)
        Long memReq = r.memoryRequest();
        Long memLim = r.memoryLimit();
        if (memReq == null || memReq == 0) {
            if (memLim != null && memLim != 0) {
                memReq = memLim;
                why.add("memory request " + memReq + ": the VMI sets only a limit, so request = limit [kernel-and-vm §1.2]");
            } else if (memReq == null && vmi.guestMemory() != null && vmi.guestMemory() > 0) {
                int oc = config.memoryOvercommitPercent();
                memReq = oc == 100 ? guest : Math.multiplyExact(guest, 100L) / oc;
                why.add("memory request " + memReq + " = guest " + guest + " × 100 / memoryOvercommit " + oc
                        + " (the VMI sets neither request nor limit) [kernel-and-vm §1.2]");
            }
        }
        // CPU: dedicated placement pins request = limit = vCPUs and aligns the memory limit with the request
        boolean dedicated = vmi.cpu() != null && vmi.cpu().dedicatedCpuPlacement();
        long vcpus = KubeVirtOverhead.vcpus(vmi);
        KubeQuantity cpuReq = r.cpuRequest();
        KubeQuantity cpuLim = r.cpuLimit();
        if (dedicated) {
            if (vcpus != 0) {
                cpuReq = KubeQuantity.parse(Long.toString(vcpus));
                cpuLim = cpuReq;
            }
            if (memReq != null) {
                memLim = memReq;
                why.add("dedicatedCpuPlacement: cpu request = limit = " + vcpus + " vCPUs, memory limit = request "
                        + memReq + " before overhead [kernel-and-vm §1.2]");
            }
        } else if (cpuReq == null && vcpus != 0) {
            BigDecimal cores = BigDecimal.valueOf(vcpus).divide(BigDecimal.valueOf(config.cpuAllocationRatio()), 3,
                    RoundingMode.CEILING);
            cpuReq = KubeQuantity.parse(cores.movePointRight(3).toBigInteger() + "m");
        }
        // WithMemoryOverhead (no hugepages)
        long request = (memReq == null ? 0 : memReq) + (vmi.overcommitGuestOverhead() ? 0 : overhead.bytes());
        Long limit = memLim == null ? null : Math.addExact(memLim, overhead.bytes());
        why.add("compute container memory request " + request + (vmi.overcommitGuestOverhead()
                ? " (overcommitGuestOverhead: the overhead is not requested)" : " = " + (memReq == null ? 0 : memReq)
                + " + overhead " + overhead.bytes()) + (limit == null ? ", no memory limit"
                : ", limit " + limit + " = " + memLim + " + overhead " + overhead.bytes()) + " [kernel-and-vm §1.2]");
        long baseRequest = memReq == null ? 0 : memReq;
        if (guest > baseRequest) {
            why.add("warning: guest memory " + guest + " exceeds the memory request " + baseRequest + " by "
                    + (guest - baseRequest) + " bytes: explicit overcommit, the guest can use memory the scheduler"
                    + " did not reserve [kernel-and-vm §1.2]");
        }

        List<ContainerSpec> containers = new ArrayList<>();
        boolean guaranteedWanted = dedicated || KubeVirtOverhead.wantsGuaranteed(vmi);
        if (consoleLog(vmi, config)) {
            KubeQuantity cpu15 = KubeQuantity.parse("15m");
            long m60 = 60_000_000L;
            Resources cl = guaranteedWanted ? new Resources(cpu15, cpu15, m60, m60)
                    : new Resources(KubeQuantity.parse("5m"), cpu15, 35_000_000L, m60);
            containers.add(new ContainerSpec(CONSOLE_LOG, ContainerKind.SIDECAR, cl));
        }
        containers.add(new ContainerSpec(COMPUTE, ContainerKind.REGULAR, new Resources(cpuReq, cpuLim, request, limit)));
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(VirtLaunchers.APP_LABEL, VirtLaunchers.APP_VIRT_LAUNCHER);
        if (vmi.uid() != null) {
            labels.put(VirtLaunchers.CREATED_BY_LABEL, vmi.uid());
        }
        PodSpec pod = new PodSpec(vmi.namespace(), "virt-launcher-" + vmi.name(), null,
                Map.of(VirtLaunchers.OVERHEAD_ANNOTATION, Long.toString(overhead.bytes()),
                        VirtLaunchers.DOMAIN_ANNOTATION, vmi.name()), null, null, null, null,
                Resources.NONE, containers, labels);
        QosClass qos = QosClassifier.compute(pod, false);
        why.add("virt-launcher pod QoS " + qos.apiName() + (qos == QosClass.GUARANTEED
                ? ": cpu and memory requests equal limits in every container"
                : ": KubeVirt gives Guaranteed only when the VMI's cpu and memory requests equal its limits (or it"
                + " has dedicated CPUs)") + " [kernel-and-vm §1.2]");
        why.add(qos == QosClass.GUARANTEED
                ? "swap: never; the kubelet gives Guaranteed pods no swap (NoSwap), so this VM never swaps"
                        + " [kernel-and-vm §1.3]"
                : "swap: as the node's swap behaviour allows for a Burstable pod (see the pod plan); KubeVirt itself"
                        + " configures none [kernel-and-vm §1.3]");
        VirtualMachinePlan plan = new VirtualMachinePlan(vmi.namespace(), vmi.name(), arch, guest, overhead.bytes(),
                overhead.parts(), new ComputeContainer(request, limit), qos.apiName(), why);
        return new Rendered(plan, pod, qos);
    }

    /** KubeVirt's {@code isSerialConsoleLogEnabled}. */
    static boolean consoleLog(VmiSpec vmi, KubeVirtConfig config) {
        VmiSpec.Devices d = vmi.devices();
        if (Boolean.FALSE.equals(d.autoattachSerialConsole())) {
            return false;
        }
        if (d.logSerialConsole() != null) {
            return d.logSerialConsole();
        }
        return !config.serialConsoleLogDisabled();
    }
}
