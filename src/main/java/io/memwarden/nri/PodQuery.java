package io.memwarden.nri;

import io.memwarden.nri.api.Container;
import io.memwarden.nri.api.PodSandbox;
import java.util.List;

/**
 * What the runtime told us about a pod when one of its containers needs a plan: the sandbox and the pod's
 * containers known so far (the one being created or updated included, with its current resources).
 *
 * @param container the container the plan is for
 */
record PodQuery(PodSandbox pod, List<Container> containers, Container container) {
    public PodQuery {
        containers = List.copyOf(containers);
    }

    public String namespace() {
        return pod.getNamespace();
    }

    public String name() {
        return pod.getName();
    }

    public String uid() {
        return pod.getUid();
    }

    /** {@code namespace/name}, as in plans. */
    public String key() {
        return (pod.getNamespace().isEmpty() ? "default" : pod.getNamespace()) + "/" + pod.getName();
    }
}
