package io.memwarden.policy;

import io.memwarden.model.PodSpec;
import io.memwarden.model.Printable;
import io.memwarden.model.VmiSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * Real KubeVirt virt-launcher pods: how KubeVirt marks them and what they publish. KubeVirt's TemplateService
 * (kubevirt/kubevirt pkg/virt-controller/services/template.go @d923fdb, {@code podLabels} and
 * {@code generatePodAnnotations}) gives every virt-launcher pod the label {@code kubevirt.io: virt-launcher}, the
 * label {@code kubevirt.io/created-by: <VMI uid>}, the annotation {@code kubevirt.io/domain: <VMI name>} and, with the
 * VmiMemoryOverheadReport feature (GA), the annotation {@code kubevirt.io/memory-overhead-bytes} (the overhead it
 * computed, {@code strconv.FormatInt}). Pure.
 */
public final class VirtLaunchers {
    private VirtLaunchers() {}

    public static final String APP_LABEL = "kubevirt.io";
    public static final String APP_VIRT_LAUNCHER = "virt-launcher";
    public static final String CREATED_BY_LABEL = "kubevirt.io/created-by";
    public static final String DOMAIN_ANNOTATION = "kubevirt.io/domain";
    public static final String OVERHEAD_ANNOTATION = "kubevirt.io/memory-overhead-bytes";

    /** Whether KubeVirt marks this pod as a virt-launcher ({@code kubevirt.io: virt-launcher}). */
    public static boolean isLauncher(PodSpec pod) {
        return APP_VIRT_LAUNCHER.equals(pod.labels().get(APP_LABEL));
    }

    /** The name of the VMI a virt-launcher pod runs (its {@code kubevirt.io/domain} annotation), or null. */
    public static String vmiName(PodSpec pod) {
        String d = pod.annotations().get(DOMAIN_ANNOTATION);
        return d == null || d.isEmpty() ? null : d;
    }

    /** {@code ns/name} of the VMI a virt-launcher pod runs, for messages; the pod's own key when unknown. */
    public static String vmLabel(PodSpec pod) {
        String n = vmiName(pod);
        return n == null ? "of virt-launcher pod " + pod.key() : pod.namespace() + "/" + n;
    }

    /** A published overhead: the annotation's value read, or why it cannot be used. */
    public record Published(Long bytes, String problem) {}

    /** The pod's {@code kubevirt.io/memory-overhead-bytes}, or null when the pod has none. */
    public static Published publishedOverhead(PodSpec pod) {
        String raw = pod.annotations().get(OVERHEAD_ANNOTATION);
        if (raw == null) {
            return null;
        }
        String problem = "annotation " + OVERHEAD_ANNOTATION + "=\"" + Printable.of(raw, 40) + "\" on pod "
                + pod.key() + " is not a byte count (a non-negative integer, as KubeVirt writes it)";
        if (raw.isEmpty() || raw.length() > 19 || !raw.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return new Published(null, problem);
        }
        try {
            return new Published(Long.parseLong(raw), null);
        } catch (NumberFormatException e) {
            return new Published(null, problem);
        }
    }

    /**
     * Whether this virt-launcher pod runs this VMI: same namespace and the VMI's name in {@code kubevirt.io/domain};
     * when both the VMI's uid and the pod's {@code kubevirt.io/created-by} are known they must agree (a launcher left
     * from an earlier VMI of the same name does not match).
     */
    public static boolean runs(PodSpec pod, VmiSpec vmi) {
        if (!isLauncher(pod) || !pod.namespace().equals(vmi.namespace()) || !vmi.name().equals(vmiName(pod))) {
            return false;
        }
        String createdBy = pod.labels().get(CREATED_BY_LABEL);
        return vmi.uid() == null || createdBy == null || createdBy.isEmpty() || createdBy.equals(vmi.uid());
    }

    /**
     * The VMs sized and the pods to plan: a VMI whose real virt-launcher pod is in {@code pods} is sized with the
     * overhead that pod publishes (when it does) and that pod is planned; otherwise memwarden's own rendering of the
     * launcher is planned.
     *
     * {@code errors}: one per VMI that cannot be sized (the message without the input's name).
     */
    public record Sized(List<KubeVirtResources.Rendered> vms, List<PodSpec> pods, List<Failure> errors) {}

    /** A VMI that cannot be sized, and why. */
    public record Failure(VmiSpec vmi, String message) {}

    /** @see Sized */
    public static Sized size(List<VmiSpec> vmis, List<PodSpec> pods, KubeVirtConfig config, String nodeArchitecture) {
        List<KubeVirtResources.Rendered> vms = new ArrayList<>();
        List<PodSpec> toPlan = new ArrayList<>(pods);
        List<Failure> errors = new ArrayList<>();
        for (VmiSpec vmi : vmis) {
            PodSpec real = null;
            for (PodSpec p : pods) {
                if (runs(p, vmi)) {
                    real = p;
                    break;
                }
            }
            try {
                KubeVirtResources.Rendered r = KubeVirtResources.render(vmi, config, nodeArchitecture, real);
                vms.add(r);
                if (real == null) {
                    toPlan.add(r.launcherPod());
                }
            } catch (ArithmeticException | IllegalArgumentException e) {
                errors.add(new Failure(vmi, e.getMessage()));
            }
        }
        return new Sized(vms, toPlan, errors);
    }
}
