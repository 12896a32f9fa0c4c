package io.memwarden.model;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * The memory-relevant view of a pod: identity, annotations, priority, resources of the pod and of its containers
 * (init and sidecar containers first, in spec order, then regular containers in spec order).
 *
 * @param priority          {@code spec.priority}, null when absent
 * @param statusQosClass    {@code status.qosClass}, null when absent (the kubelet prefers it when set)
 * @param overheadMemory    {@code spec.overhead.memory} in bytes, null when absent
 * @param podResources      {@code spec.resources} (pod-level resources), {@link Resources#NONE} when absent
 * @param labels            {@code metadata.labels} (e.g. KubeVirt's {@code kubevirt.io: virt-launcher}), empty when
 *                          absent or unknown (NRI data without labels)
 * @param terminationGracePeriodSeconds {@code spec.terminationGracePeriodSeconds}, null when absent or unknown (the
 *                          API server defaults it to {@value #DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS})
 */
public record PodSpec(
        String namespace,
        String name,
        String uid,
        Map<String, String> annotations,
        Integer priority,
        String priorityClassName,
        QosClass statusQosClass,
        Long overheadMemory,
        Resources podResources,
        List<ContainerSpec> containers,
        Map<String, String> labels,
        Long terminationGracePeriodSeconds) {

    /** The API server's default {@code terminationGracePeriodSeconds}. */
    public static final long DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS = 30;

    /** A pod whose terminationGracePeriodSeconds is not known. */
    public PodSpec(String namespace, String name, String uid, Map<String, String> annotations, Integer priority,
                   String priorityClassName, QosClass statusQosClass, Long overheadMemory, Resources podResources,
                   List<ContainerSpec> containers, Map<String, String> labels) {
        this(namespace, name, uid, annotations, priority, priorityClassName, statusQosClass, overheadMemory,
                podResources, containers, labels, null);
    }

    /** A pod without labels. */
    public PodSpec(String namespace, String name, String uid, Map<String, String> annotations, Integer priority,
                   String priorityClassName, QosClass statusQosClass, Long overheadMemory, Resources podResources,
                   List<ContainerSpec> containers) {
        this(namespace, name, uid, annotations, priority, priorityClassName, statusQosClass, overheadMemory,
                podResources, containers, Map.of());
    }

    public PodSpec {
        Objects.requireNonNull(name, "name");
        namespace = namespace == null || namespace.isEmpty() ? "default" : namespace;
        uid = uid == null ? "" : uid;
        annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
        podResources = podResources == null ? Resources.NONE : podResources;
        containers = List.copyOf(containers);
        labels = labels == null ? Map.of() : Map.copyOf(labels);
    }

    /** This pod with other labels. */
    public PodSpec withLabels(Map<String, String> other) {
        return new PodSpec(namespace, name, uid, annotations, priority, priorityClassName, statusQosClass,
                overheadMemory, podResources, containers, other, terminationGracePeriodSeconds);
    }

    /** This pod with other annotations. */
    public PodSpec withAnnotations(Map<String, String> other) {
        return new PodSpec(namespace, name, uid, other, priority, priorityClassName, statusQosClass, overheadMemory,
                podResources, containers, labels, terminationGracePeriodSeconds);
    }

    /** This pod with other containers. */
    public PodSpec withContainers(List<ContainerSpec> other) {
        return new PodSpec(namespace, name, uid, annotations, priority, priorityClassName, statusQosClass,
                overheadMemory, podResources, other, labels, terminationGracePeriodSeconds);
    }

    /** This pod with one container replaced by {@code change} of it (matched by name). */
    public PodSpec withContainer(String container, UnaryOperator<ContainerSpec> change) {
        return withContainers(containers.stream().map(c -> c.name().equals(container) ? change.apply(c) : c).toList());
    }

    /** {@code namespace/name}. */
    public String key() {
        return namespace + "/" + name;
    }

    public List<ContainerSpec> regularContainers() {
        return containers.stream().filter(c -> c.kind() == ContainerKind.REGULAR).toList();
    }

    /** Init and sidecar containers, in spec order. */
    public List<ContainerSpec> initContainers() {
        return containers.stream().filter(c -> c.kind().isInitList()).toList();
    }

    /** {@code terminationGracePeriodSeconds}, the API server's default when unknown. */
    public long terminationGracePeriodOrDefault() {
        return terminationGracePeriodSeconds == null ? DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS
                : terminationGracePeriodSeconds;
    }

    public long overheadMemoryOrZero() {
        return overheadMemory == null ? 0 : overheadMemory;
    }
}
