package io.memwarden.loops;

import io.memwarden.control.PressureGuard;
import java.util.List;

/**
 * Takes a pod off the node for the pressure guard. The standalone default ({@link #SIGKILL}) kills the pod's
 * processes with SIGKILL through pidfds; the node agent uses the Kubernetes Eviction API when it has one, and
 * {@link #kill} when the guard decides to act directly (the API took no pod off a HARD node in time).
 */
@FunctionalInterface
public interface Evictor {
    /**
     * SIGKILL to every process of the pod's cgroups through pidfds (no Eviction API); with a pod grace period of 2 s
     * or more, SIGTERM first and SIGKILL to the processes still there when it ends ({@link Actuator#terminateWithPidfd}).
     */
    Evictor SIGKILL = new Evictor() {
        @Override
        public Result evict(String pod, String message, List<ContainerStatus> containers) {
            return new Result(PressureGuard.Outcome.KILLED, Actuator.killWithPidfd(pod, message, containers));
        }

        @Override
        public Result evict(String pod, String message, long podGraceSeconds, List<ContainerStatus> containers) {
            return new Result(PressureGuard.Outcome.KILLED, Actuator.terminateWithPidfd(pod, message,
                    podGraceSeconds, containers));
        }
    };

    /** What an eviction did: its outcome for the guard, and its text for the action's result. */
    record Result(PressureGuard.Outcome outcome, String text) {}

    /** @return the outcome, and the text recorded in the action's result */
    Result evict(String podKey, String message, List<ContainerStatus> containers);

    /**
     * The eviction with the kubelet's pod grace period for it ({@link io.memwarden.control.GuardAction.Evict}: 1 s at
     * HARD, else min(evictionMaxPodGracePeriod, terminationGracePeriodSeconds)). The agent's evictor sends it with the
     * Eviction API call; the standalone {@link #SIGKILL} gives it as SIGTERM, wait, SIGKILL when it is 2 s or more.
     */
    default Result evict(String podKey, String message, long podGraceSeconds, List<ContainerStatus> containers) {
        return evict(podKey, message, containers);
    }

    /**
     * The direct kill ({@link io.memwarden.control.GuardAction.Kill}): SIGKILL to every process of the pod's cgroups
     * through pidfds. The agent's evictor also says so on the pod (a Warning event).
     *
     * @param reason why the guard did not wait for the Eviction API any longer
     * @return the text recorded in the action's result
     */
    default String kill(String podKey, String message, String reason, List<ContainerStatus> containers) {
        return Actuator.killWithPidfd(podKey, message, containers);
    }
}
