package io.memwarden.model;

import java.util.Objects;

/**
 * The memory-relevant view of a KubeVirt {@code VirtualMachineInstance} spec (or a {@code VirtualMachine}'s
 * {@code spec.template.spec}): what KubeVirt reads to size the virt-launcher pod (docs/vm-nodes.md).
 *
 * @param kind          {@code VirtualMachineInstance} or {@code VirtualMachine} (where it was read from)
 * @param architecture  {@code spec.architecture}, null when absent (the node's architecture then applies)
 * @param resources     {@code spec.domain.resources} requests and limits (cpu, memory)
 * @param guestMemory   {@code spec.domain.memory.guest} in bytes, null when absent
 * @param cpu           {@code spec.domain.cpu}, null when absent
 * @param devices       what of {@code spec.domain.devices}, volumes, probes and launch security adds overhead
 * @param addedOverhead {@code spec.domain.memory.reservedOverhead.addedOverhead} in bytes, null when absent
 * @param overcommitGuestOverhead {@code spec.domain.resources.overcommitGuestOverhead}
 * @param uid           the VMI's {@code metadata.uid} (KubeVirt copies it into its virt-launcher pod's
 *                      {@code kubevirt.io/created-by} label), null when absent or read from a {@code VirtualMachine}
 */
public record VmiSpec(String namespace, String name, String kind, String architecture, Resources resources,
                      Long guestMemory, Cpu cpu, Devices devices, Long addedOverhead,
                      boolean overcommitGuestOverhead, String uid) {

    /** A VMI without a known uid. */
    public VmiSpec(String namespace, String name, String kind, String architecture, Resources resources,
                   Long guestMemory, Cpu cpu, Devices devices, Long addedOverhead, boolean overcommitGuestOverhead) {
        this(namespace, name, kind, architecture, resources, guestMemory, cpu, devices, addedOverhead,
                overcommitGuestOverhead, null);
    }

    public VmiSpec {
        Objects.requireNonNull(name, "name");
        namespace = namespace == null || namespace.isEmpty() ? "default" : namespace;
        kind = kind == null ? "VirtualMachineInstance" : kind;
        resources = resources == null ? Resources.NONE : resources;
        devices = devices == null ? Devices.NONE : devices;
        uid = uid == null || uid.isEmpty() ? null : uid;
    }

    /** {@code namespace/name}. */
    public String key() {
        return namespace + "/" + name;
    }

    /** {@code spec.domain.cpu}: topology (0 = unset) and dedicated placement. */
    public record Cpu(long sockets, long cores, long threads, boolean dedicatedCpuPlacement) {
        public boolean topologySet() {
            return sockets != 0 || cores != 0 || threads != 0;
        }
    }

    /**
     * @param autoattachGraphicsDevice {@code devices.autoattachGraphicsDevice}, null when absent (true)
     * @param vfio                     any host device, GPU or SR-IOV interface
     * @param downwardMetricsVolume    a {@code downwardMetrics} volume
     * @param livenessExec             {@code spec.livenessProbe.exec} set
     * @param readinessExec            {@code spec.readinessProbe.exec} set
     * @param sev                      {@code spec.domain.launchSecurity.sev} or {@code .snp}
     * @param tpm                      {@code devices.tpm} present and not {@code enabled: false}
     * @param logSerialConsole         {@code devices.logSerialConsole}, null when absent
     * @param autoattachSerialConsole  {@code devices.autoattachSerialConsole}, null when absent
     */
    public record Devices(Boolean autoattachGraphicsDevice, boolean vfio, boolean downwardMetricsVolume,
                          boolean livenessExec, boolean readinessExec, boolean sev, boolean tpm,
                          Boolean logSerialConsole, Boolean autoattachSerialConsole) {
        public static final Devices NONE = new Devices(null, false, false, false, false, false, false, null, null);
    }
}
