package io.memwarden.model;

import java.util.List;
import java.util.Objects;

/** The memory-relevant view of one container of a pod spec. {@code command} is empty when not given. */
public record ContainerSpec(String name, ContainerKind kind, Resources resources, List<String> command) {
    public ContainerSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(kind, "kind");
        resources = resources == null ? Resources.NONE : resources;
        command = command == null ? List.of() : List.copyOf(command);
    }

    public ContainerSpec(String name, ContainerKind kind, Resources resources) {
        this(name, kind, resources, List.of());
    }

    /** This container with other resources. */
    public ContainerSpec withResources(Resources other) {
        return new ContainerSpec(name, kind, other, command);
    }
}
