package io.memwarden.agent;

import io.memwarden.input.InputException;
import io.memwarden.input.KubeVirtConfigReader;
import io.memwarden.input.VirtualMachineReader;
import io.memwarden.k8s.ClusterActions;
import io.memwarden.loops.ManagedWorkload;
import io.memwarden.model.PodSpec;
import io.memwarden.model.VmiSpec;
import io.memwarden.policy.KubeVirtConfig;
import io.memwarden.policy.KubeVirtOverhead;
import io.memwarden.policy.VirtLaunchers;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Version drift of KubeVirt's published VM overheads, in the agent (docs/vm-nodes.md "Published overhead"): for each
 * managed virt-launcher pod carrying {@code kubevirt.io/memory-overhead-bytes}, reads its VirtualMachineInstance and
 * the KubeVirt CR from the API, computes the overhead as memwarden's formulas do (kubevirt @d923fdb) and, when the
 * two differ, sends a Warning event on the pod. The pod itself is planned from its spec, whose compute container
 * KubeVirt already sized with the published value. Each pod is checked once (again when it is recreated: a new
 * uid); a pod whose VMI cannot be read yet is tried on the next pass.
 */
final class LauncherDrift {
    /** The Warning event's reason. */
    static final String REASON = "MemwardenOverheadDrift";

    /** What a pass found for one pod. */
    record Finding(PodSpec pod, String vmi, long published, long computed) {
        boolean drift() {
            return published != computed;
        }
    }

    private final ClusterActions cluster;
    private final String nodeArchitecture;
    private final Consumer<String> log;
    private final Set<String> checked = new HashSet<>();
    private final Set<String> badSaid = new HashSet<>();

    LauncherDrift(ClusterActions cluster, String nodeArchitecture, Consumer<String> log) {
        this.cluster = cluster;
        this.nodeArchitecture = nodeArchitecture;
        this.log = log;
    }

    /**
     * One pass over the managed pods; returns what it compared (a drift's event already sent when {@code events}).
     * Never throws: a VMI or CR that cannot be read or is invalid is logged and the pod tried again later.
     */
    synchronized List<Finding> pass(List<ManagedWorkload.ManagedPod> pods, boolean events) {
        Set<String> present = new HashSet<>();
        List<Finding> found = new ArrayList<>();
        KubeVirtConfig config = null;
        for (ManagedWorkload.ManagedPod mp : pods) {
            PodSpec pod = mp.spec();
            VirtLaunchers.Published pub = VirtLaunchers.isLauncher(pod) ? VirtLaunchers.publishedOverhead(pod) : null;
            String vmiName = VirtLaunchers.vmiName(pod);
            if (pub == null || vmiName == null) {
                continue;
            }
            String id = pod.key() + "#" + (pod.uid() == null ? "" : pod.uid());
            present.add(id);
            if (checked.contains(id)) {
                continue;
            }
            if (pub.bytes() == null) {
                checked.add(id);
                log.accept("virt-launcher pod " + pod.key() + ": " + pub.problem() + "; not compared");
                continue;
            }
            String json = cluster.virtualMachineInstance(pod.namespace(), vmiName);
            if (json == null) {
                continue; // not readable (yet): the next pass tries again
            }
            VmiSpec vmi;
            try {
                vmi = VirtualMachineReader.fromApi("VirtualMachineInstance " + pod.namespace() + "/" + vmiName
                        + " from the API", json);
                if (config == null) {
                    config = config();
                }
            } catch (InputException e) {
                if (badSaid.add(id)) {
                    log.accept("virt-launcher pod " + pod.key() + ": " + e.getMessage() + "; overhead not compared");
                }
                continue;
            }
            if (!VirtLaunchers.runs(pod, vmi)) {
                continue; // the VMI of that name is a newer one: this launcher is on its way out
            }
            String arch = vmi.architecture() != null ? vmi.architecture() : nodeArchitecture;
            long computed = KubeVirtOverhead.compute(vmi, arch, config.additionalGuestMemoryOverheadRatio()).bytes();
            Finding f = new Finding(pod, pod.namespace() + "/" + vmiName, pub.bytes(), computed);
            found.add(f);
            checked.add(id);
            if (f.drift()) {
                String message = message(f);
                log.accept("virt-launcher pod " + pod.key() + ": " + message);
                if (events) {
                    cluster.podEvent(pod.namespace(), pod.name(), pod.uid(), "Warning", REASON, message);
                }
            } else {
                log.accept("virt-launcher pod " + pod.key() + ": KubeVirt's published overhead " + f.published()
                        + " bytes is memwarden's computation too");
            }
        }
        checked.retainAll(present);
        badSaid.retainAll(present);
        return found;
    }

    /** The event's text. */
    static String message(Finding f) {
        return "VM " + f.vmi() + ": version drift: KubeVirt published memory overhead " + f.published() + " bytes ("
                + VirtLaunchers.OVERHEAD_ANNOTATION + "), memwarden computes " + f.computed() + " bytes (difference "
                + (f.published() - f.computed()) + "): this cluster's KubeVirt sizes VMs unlike the version memwarden"
                + " follows (kubevirt @d923fdb); the pod was sized with the published value";
    }

    /** The KubeVirt CR's settings, or KubeVirt's defaults when there is none (a bad CR is an error). */
    private KubeVirtConfig config() throws InputException {
        String json = cluster.kubeVirt();
        return json == null ? KubeVirtConfig.DEFAULTS : KubeVirtConfigReader.fromApi("the KubeVirt CR from the API", json);
    }
}
