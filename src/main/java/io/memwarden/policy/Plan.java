package io.memwarden.policy;

import io.memwarden.model.Printable;
import java.util.List;
import java.util.Map;

/**
 * The answer to "for these pods on this node, what memory cgroup values should each container get, and why?".
 * Field names are the {@code memwarden plan -o json} contract (docs/plan-output.md).
 *
 * @param virtualMachines KubeVirt VMs: what KubeVirt renders for each (docs/vm-nodes.md); their virt-launcher pods
 *                        are in {@code pods}. Null (omitted) when no VM document and no KubeVirt config was given
 * @param evictionOrder the kubelet's memory-signal eviction ranking; null unless usage was given
 */
public record Plan(NodePlan node, List<PodPlan> pods, List<KubeVirtResources.VirtualMachinePlan> virtualMachines,
                   List<String> evictionOrder, List<PlanError> errors) {
    public Plan(NodePlan node, List<PodPlan> pods, List<String> evictionOrder, List<PlanError> errors) {
        this(node, pods, null, evictionOrder, errors);
    }

    public Plan {
        pods = List.copyOf(pods);
        virtualMachines = virtualMachines == null ? null : List.copyOf(virtualMachines);
        errors = List.copyOf(errors);
        evictionOrder = evictionOrder == null ? null : List.copyOf(evictionOrder);
    }

    /**
     * @param qosCgroups QoS-level cgroup files keyed by the cgroupfs-driver path relative to the cgroup root
     * @param errors     node-level problems with the kubelet's meaning (e.g. swap on with failSwapOn); the plan is
     *                   still shown
     */
    public record NodePlan(long memoryCapacityBytes, long swapCapacityBytes, int cgroupVersion,
                           long allocatableMemoryBytes, String swapBehavior, List<String> errors,
                           List<String> warnings, Map<String, Map<String, String>> qosCgroups, List<String> reasons) {}

    public record PodPlan(String namespace, String name, String qosClass, boolean critical, Integer priority,
                          long memoryRequestBytes, Map<String, String> podCgroup, List<ContainerPlan> containers,
                          List<String> reasons) {}

    /** @param cgroup real cgroup file names for the node's version → the value exactly as written */
    public record ContainerPlan(String name, boolean init, String swapBehavior, int oomScoreAdj,
                                Map<String, String> cgroup, List<String> reasons) {}

    /**
     * @param container null for a pod-wide error
     * @param message   shown to users, logged, sent as an event: made one line (control characters escaped) and at
     *                  most about {@link #MESSAGE_MAX} characters, whatever a pod's author put in the values it quotes
     */
    public record PlanError(String pod, String container, String message) {
        public static final int MESSAGE_MAX = 2000;

        public PlanError {
            message = Printable.of(message, MESSAGE_MAX);
        }
    }

    /** This plan with these VMs. */
    public Plan withVirtualMachines(List<KubeVirtResources.VirtualMachinePlan> vms) {
        return new Plan(node, pods, vms, evictionOrder, errors);
    }

    public boolean hasErrors() {
        return !errors.isEmpty();
    }
}
