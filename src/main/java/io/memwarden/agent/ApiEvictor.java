package io.memwarden.agent;

import io.memwarden.control.PressureGuard;
import io.memwarden.k8s.ClusterActions;
import io.memwarden.loops.ContainerStatus;
import io.memwarden.loops.Evictor;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * The agent's {@link Evictor} with a Kubernetes API: evictions through the Eviction API ({@link ClusterActions#evict},
 * its answer mapped to the guard's {@link PressureGuard.Outcome}), and the guard's direct kill (SIGKILL through pidfd)
 * said on the pod as a Warning event {@value #REASON_DIRECT_KILL} that names the reason and the overridden
 * PodDisruptionBudget (docs/kubernetes.md "Evictions").
 */
final class ApiEvictor implements Evictor {
    /** Reason of the Warning event on a pod the guard killed directly. */
    static final String REASON_DIRECT_KILL = "MemwardenDirectKill";

    private final ClusterActions cluster;
    private final BooleanSupplier events;

    /** @param events whether pod events are on (the agent's {@code kubernetes.events}, read at each kill) */
    ApiEvictor(ClusterActions cluster, BooleanSupplier events) {
        this.cluster = cluster;
        this.events = events;
    }

    @Override
    public Result evict(String podKey, String message, List<ContainerStatus> containers) {
        String[] nsName = podKey.split("/", 2);
        return result(cluster.evict(nsName[0], nsName[1], message));
    }

    /** The eviction with the kubelet's pod grace period as the Eviction's deleteOptions.gracePeriodSeconds. */
    @Override
    public Result evict(String podKey, String message, long podGraceSeconds, List<ContainerStatus> containers) {
        String[] nsName = podKey.split("/", 2);
        return result(cluster.evict(nsName[0], nsName[1], message, podGraceSeconds));
    }

    private static Result result(ClusterActions.EvictionOutcome o) {
        PressureGuard.Outcome outcome = switch (o.kind()) {
            case ACCEPTED -> PressureGuard.Outcome.ACCEPTED;
            case REFUSED -> PressureGuard.Outcome.REFUSED;
            case TIMED_OUT -> PressureGuard.Outcome.TIMED_OUT;
            case FAILED -> PressureGuard.Outcome.FAILED;
        };
        return new Result(outcome, o.evicted() ? "evicted through the Eviction API: " + o.detail()
                : "not evicted: " + o.detail());
    }

    @Override
    public String kill(String podKey, String message, String reason, List<ContainerStatus> containers) {
        String result = Evictor.super.kill(podKey, message, reason, containers);
        String[] nsName = podKey.split("/", 2);
        if (events.getAsBoolean() && nsName.length == 2) {
            cluster.podEvent(nsName[0], nsName[1], "Warning", REASON_DIRECT_KILL, message
                    + "Killed directly with SIGKILL, not through the Eviction API, because " + reason
                    + "; like the kubelet's node-pressure eviction, this overrides any PodDisruptionBudget of the pod ("
                    + result + ")");
        }
        return result;
    }
}
