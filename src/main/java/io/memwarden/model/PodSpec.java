package io.memwarden.model;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The memory-relevant view of a pod: identity, annotations, priority, resources of the pod and of its containers
 * (init and sidecar containers first, in spec order, then regular containers in spec order).
 *
 * @param priority          {@code spec.priority}, null when absent
 * @param statusQosClass    {@code status.qosClass}, null when absent (the kubelet prefers it when set)
 * @param overheadMemory    {@code spec.overhead.memory} in bytes, null when absent
 * @param podResources      {@code spec.resources} (pod-level resources), {@link Resources#NONE} when absent
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
        List<ContainerSpec> containers) {

    public PodSpec {
        Objects.requireNonNull(name, "name");
        namespace = namespace == null || namespace.isEmpty() ? "default" : namespace;
        uid = uid == null ? "" : uid;
        annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
        podResources = podResources == null ? Resources.NONE : podResources;
        containers = List.copyOf(containers);
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

    public long overheadMemoryOrZero() {
        return overheadMemory == null ? 0 : overheadMemory;
    }
}
