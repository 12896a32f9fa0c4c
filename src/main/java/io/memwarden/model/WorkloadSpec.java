package io.memwarden.model;

import java.util.Objects;

/**
 * A workload to place: a Pod (one), or a controller's pod template with its replica count (Deployment, StatefulSet,
 * ReplicaSet, Job), or a DaemonSet (one per eligible node: {@code replicas} is ignored).
 *
 * @param kind     Pod, Deployment, StatefulSet, ReplicaSet, Job or DaemonSet
 * @param name     the object's name; replicas are named {@code name-0}, {@code name-1}, … (a Pod keeps its name)
 * @param template the pod (its name is the object's)
 */
public record WorkloadSpec(String kind, String namespace, String name, PodSpec template, Scheduling scheduling,
                           int replicas) {
    public WorkloadSpec {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(template, "template");
        namespace = namespace == null || namespace.isEmpty() ? "default" : namespace;
        scheduling = scheduling == null ? Scheduling.NONE : scheduling;
        if (replicas < 0) {
            throw new IllegalArgumentException("replicas must not be negative, got " + replicas);
        }
    }

    public boolean daemonSet() {
        return kind.equals("DaemonSet");
    }

    public String key() {
        return namespace + "/" + name;
    }
}
