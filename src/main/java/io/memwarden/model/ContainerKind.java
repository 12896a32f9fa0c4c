package io.memwarden.model;

/** Where a container sits in a pod spec. */
public enum ContainerKind {
    /** {@code spec.containers}. */
    REGULAR,
    /** {@code spec.initContainers} that run to completion. */
    INIT,
    /** {@code spec.initContainers} with {@code restartPolicy: Always} (native sidecars). */
    SIDECAR;

    public boolean isInitList() {
        return this != REGULAR;
    }
}
