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
 * <p>
 * {@link #parse(String)} goes the other way, for the standalone agent: a path found in the tree → which pod and
 * container it is. Container cgroups are named {@code <id>} (containerd, docker with cgroupfs), {@code crio-<id>}
 * (CRI-O with cgroupfs) or {@code <runtime>-<id>.scope} (systemd; runtime {@code cri-containerd}, {@code crio},
 * {@code docker}); {@code <id>} is the runtime's 64-hex container ID. CRI-O's monitor cgroups
 * ({@code crio-conmon-<id>}) and anything else are not containers. The sandbox (pause) container has a cgroup of the
 * same form: telling it apart needs the pod's container IDs, which this class does not know.
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

    /**
     * A container cgroup, identified from its path.
     *
     * @param podCgroup   the pod's cgroup, relative to the memory controller's root
     * @param cgroup      the container's cgroup, relative to the same root
     * @param runtime     the name's prefix ({@code cri-containerd}, {@code crio}, {@code docker}), "" for a bare ID
     * @param containerId the runtime's container ID
     */
    public record ContainerCgroup(CgroupDriver driver, QosClass qos, String podUid, String podCgroup, String cgroup,
                                  String runtime, String containerId) {}

    private static final java.util.regex.Pattern ID = java.util.regex.Pattern.compile("[0-9a-f]{64}");
    private static final java.util.regex.Pattern PREFIXED =
            java.util.regex.Pattern.compile("(cri-containerd|crio|docker)-([0-9a-f]{64})(\\.scope)?");
    private static final java.util.regex.Pattern UID = java.util.regex.Pattern.compile("[0-9a-fA-F-]{1,64}");
    private static final java.util.regex.Pattern SYSTEMD_POD =
            java.util.regex.Pattern.compile("kubepods(-burstable|-besteffort)?-pod([0-9a-fA-F_]{1,64})\\.slice");

    /**
     * Identifies a container cgroup from its path relative to the memory controller's root (either driver); empty
     * for anything else: QoS and pod cgroups, CRI-O's conmon, names of no known form. Pure.
     */
    public static java.util.Optional<ContainerCgroup> parse(String relative) {
        String rel = relative.startsWith("/") ? relative.substring(1) : relative;
        String[] s = rel.split("/");
        if (s.length == 3 && s[0].equals("kubepods") || s.length == 4 && s[0].equals("kubepods")) {
            QosClass qos = QosClass.GUARANTEED;
            if (s.length == 4) {
                qos = switch (s[1]) {
                    case "burstable" -> QosClass.BURSTABLE;
                    case "besteffort" -> QosClass.BEST_EFFORT;
                    default -> null;
                };
                if (qos == null) {
                    return java.util.Optional.empty();
                }
            }
            String pod = s[s.length - 2];
            String name = s[s.length - 1];
            if (!pod.startsWith("pod") || !UID.matcher(pod.substring(3)).matches()) {
                return java.util.Optional.empty();
            }
            String runtime;
            String id;
            var m = PREFIXED.matcher(name);
            if (m.matches()) {
                runtime = m.group(1);
                id = m.group(2);
            } else if (ID.matcher(name).matches()) {
                runtime = "";
                id = name;
            } else {
                return java.util.Optional.empty();
            }
            return java.util.Optional.of(new ContainerCgroup(CgroupDriver.CGROUPFS, qos, pod.substring(3),
                    rel.substring(0, rel.length() - name.length() - 1), rel, runtime, id));
        }
        if ((s.length == 3 || s.length == 4) && s[0].equals("kubepods.slice")) {
            QosClass qos = QosClass.GUARANTEED;
            if (s.length == 4) {
                qos = switch (s[1]) {
                    case "kubepods-burstable.slice" -> QosClass.BURSTABLE;
                    case "kubepods-besteffort.slice" -> QosClass.BEST_EFFORT;
                    default -> null;
                };
                if (qos == null) {
                    return java.util.Optional.empty();
                }
            }
            var pm = SYSTEMD_POD.matcher(s[s.length - 2]);
            String expected = switch (qos) {
                case GUARANTEED -> null;
                case BURSTABLE -> "-burstable";
                case BEST_EFFORT -> "-besteffort";
            };
            if (!pm.matches() || !java.util.Objects.equals(pm.group(1), expected)) {
                return java.util.Optional.empty();
            }
            String name = s[s.length - 1];
            var m = PREFIXED.matcher(name);
            if (!m.matches() || m.group(3) == null) {
                return java.util.Optional.empty();
            }
            return java.util.Optional.of(new ContainerCgroup(CgroupDriver.SYSTEMD, qos, pm.group(2).replace('_', '-'),
                    rel.substring(0, rel.length() - name.length() - 1), rel, m.group(1), m.group(2)));
        }
        return java.util.Optional.empty();
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
