package io.memwarden.cgroup;

import io.memwarden.model.QosClass;
import java.util.Objects;

/**
 * Where the kubelet puts pod and container cgroups, relative to the memory controller's root, for both drivers:
 * <ul>
 *   <li>cgroupfs: {@code kubepods[/burstable|/besteffort]/pod<uid>/<container-id>}</li>
 *   <li>systemd: {@code kubepods.slice[/kubepods-burstable.slice]/kubepods[-burstable]-pod<uid_with_underscores>.slice/
 *       <runtime>-<container-id>.scope}</li>
 * </ul>
 * A mapping from identity to paths, with no decisions in it. Guaranteed pods sit directly under kubepods.
 */
public record KubeletCgroupLayout(CgroupDriver driver) {

    public KubeletCgroupLayout {
        Objects.requireNonNull(driver, "driver");
    }

    /** kubepods (Guaranteed), kubepods/burstable, kubepods/besteffort — or their systemd slices. */
    public String qosCgroup(QosClass qos) {
        return switch (driver) {
            case CGROUPFS -> switch (qos) {
                case GUARANTEED -> "kubepods";
                case BURSTABLE -> "kubepods/burstable";
                case BEST_EFFORT -> "kubepods/besteffort";
            };
            case SYSTEMD -> switch (qos) {
                case GUARANTEED -> "kubepods.slice";
                case BURSTABLE -> "kubepods.slice/kubepods-burstable.slice";
                case BEST_EFFORT -> "kubepods.slice/kubepods-besteffort.slice";
            };
        };
    }

    public String podCgroup(QosClass qos, String podUid) {
        requireName("pod uid", podUid);
        return switch (driver) {
            case CGROUPFS -> qosCgroup(qos) + "/pod" + podUid;
            case SYSTEMD -> qosCgroup(qos) + "/" + slicePrefix(qos) + "-pod" + podUid.replace('-', '_') + ".slice";
        };
    }

    /** @param runtime the systemd scope prefix: {@code cri-containerd} or {@code crio}; ignored for cgroupfs */
    public String containerCgroup(QosClass qos, String podUid, String runtime, String containerId) {
        requireName("container id", containerId);
        return switch (driver) {
            case CGROUPFS -> podCgroup(qos, podUid) + "/" + containerId;
            case SYSTEMD -> podCgroup(qos, podUid) + "/" + runtime + "-" + containerId + ".scope";
        };
    }

    private static String slicePrefix(QosClass qos) {
        return switch (qos) {
            case GUARANTEED -> "kubepods";
            case BURSTABLE -> "kubepods-burstable";
            case BEST_EFFORT -> "kubepods-besteffort";
        };
    }

    private static void requireName(String what, String s) {
        if (s == null || s.isEmpty() || s.contains("/") || s.equals(".") || s.equals("..")) {
            throw new IllegalArgumentException(what + " \"" + s + "\" cannot be a cgroup name");
        }
    }
}
