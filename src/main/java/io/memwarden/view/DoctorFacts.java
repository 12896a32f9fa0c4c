package io.memwarden.view;

import io.memwarden.model.CgroupVersion;
import io.memwarden.model.SwapBehavior;
import java.util.List;

/**
 * Everything {@code memwarden doctor} read from a node, as plain values (paths relative to the node's root, sizes in
 * bytes), so that {@link Doctor#evaluate} is a pure function over it. Read by the mechanism rooms (cgroup.HostProbe,
 * kernel.NodeFeatures, nri.RuntimeNriProbe, k8s.ApiPresence, input.KubeletConfigReader) and put together in cli.
 *
 * @param kernelRelease      /proc/sys/kernel/osrelease, or null
 * @param effectiveUid       the uid doctor ran as (several readings need root), or -1 unknown
 * @param memoryController   the cgroup version holding the memory controller, null: none
 * @param hybrid             v1 memory controller with cgroup2 mounted beside it
 * @param memoryMount        where the memory controller is mounted (relative to the root, "/..."), or null
 * @param swapAccounting     the controller accounts swap (v1 memory.memsw.*, v2 memory.swap.max)
 * @param memoryReclaim      v2's memory.reclaim exists in doctor's own cgroup (or the root cgroup)
 * @param psi                /proc/pressure/memory is readable
 * @param memTotal           MemTotal, bytes
 * @param swapTotal          SwapTotal, bytes
 * @param swapFree           the swap areas' size minus used, bytes
 * @param swapDevices        the paths in /proc/swaps
 * @param zramDevices        zram block devices (zram0...)
 * @param zswapEnabled       zswap's enabled parameter, null: not built
 * @param mglru              /sys/kernel/mm/lru_gen/enabled ("0x0007"), null: no MGLRU
 * @param kmsgReadable       /dev/kmsg can be read by this process (access(2) and CAP_SYSLOG when dmesg_restrict; not opened)
 * @param dmesgRestrict      /proc/sys/kernel/dmesg_restrict is 1
 * @param ksmRun             /sys/kernel/mm/ksm/run (0 off, 1 on, 2 unmerge), null: no KSM
 * @param balloonDriver      "virtio_balloon", "vmw_balloon" or null (none)
 * @param tmpfsNoswap        tmpfs takes {@code noswap} (kernel.TmpfsNoswap's read-only rule: kernel ≥ 6.4)
 * @param tmpfsNoswapDetection how that was found
 * @param nri                the NRI socket and the runtime's config
 * @param kube               what says how to reach the Kubernetes API (presence only)
 * @param kubelet            the kubelet's swap settings from --kubelet-config, or null when none was given
 */
public record DoctorFacts(
        String kernelRelease,
        int effectiveUid,
        CgroupVersion memoryController,
        boolean hybrid,
        String memoryMount,
        boolean swapAccounting,
        boolean memoryReclaim,
        boolean psi,
        long memTotal,
        long swapTotal,
        long swapFree,
        List<String> swapDevices,
        List<String> zramDevices,
        Boolean zswapEnabled,
        String mglru,
        boolean kmsgReadable,
        boolean dmesgRestrict,
        Integer ksmRun,
        String balloonDriver,
        boolean tmpfsNoswap,
        String tmpfsNoswapDetection,
        Nri nri,
        Kube kube,
        Kubelet kubelet) {

    public DoctorFacts {
        swapDevices = List.copyOf(swapDevices);
        zramDevices = List.copyOf(zramDevices);
    }

    /** What NRI's side looked like. */
    public enum SocketState { ACCEPTS, REFUSED, NO_PERMISSION, MISSING }

    /** containerd's {@code [plugins."io.containerd.nri.v1.nri"] disable} as the config file says it. */
    public enum NriSetting { ENABLED, DISABLED, NOT_SET, NO_CONFIG }

    /**
     * @param socket          the NRI socket path (as given or the default)
     * @param socketState     whether it exists and accepted a connection
     * @param socketDetail    the error when it did not, or null
     * @param containerdConfig the containerd config path
     * @param setting         the NRI setting found there
     * @param configVersion   the config's {@code version} (2: containerd 1.7 or 2.x, 3: containerd 2.x), 0: none
     */
    public record Nri(String socket, SocketState socketState, String socketDetail, String containerdConfig,
                      NriSetting setting, int configVersion) {}

    /**
     * @param inClusterEnv    KUBERNETES_SERVICE_HOST and _PORT are set
     * @param serviceAccount  the service account token file exists
     * @param kubeconfig      the kubeconfig file that exists ($KUBECONFIG or ~/.kube/config), or null
     */
    public record Kube(boolean inClusterEnv, boolean serviceAccount, String kubeconfig) {}

    /**
     * @param path          the --kubelet-config file
     * @param error         why it could not be read (one line), or null
     * @param failSwapOn    its failSwapOn (the kubelet's default true)
     * @param swapBehavior  its memorySwap.swapBehavior (NoSwap when unset)
     */
    public record Kubelet(String path, String error, boolean failSwapOn, SwapBehavior swapBehavior) {}
}
