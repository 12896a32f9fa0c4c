package io.memwarden.loops;

import java.util.List;

/**
 * Takes a pod off the node for the pressure guard. The standalone default ({@link #SIGKILL}) kills the pod's
 * processes with SIGKILL through pidfds; the node agent uses the Kubernetes Eviction API when it has one.
 */
@FunctionalInterface
public interface Evictor {
    /** SIGKILL to every process of the pod's cgroups through pidfds (no Eviction API). */
    Evictor SIGKILL = Actuator::killWithPidfd;

    /** @return the outcome, as recorded in the action's result */
    String evict(String podKey, String message, List<ContainerStatus> containers);
}
