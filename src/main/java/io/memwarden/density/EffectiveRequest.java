package io.memwarden.density;

import io.memwarden.model.ContainerSpec;
import io.memwarden.model.KubeQuantity;
import io.memwarden.model.PodSpec;
import io.memwarden.model.Resources;
import java.util.function.ToLongFunction;

/**
 * A pod's effective request as the kube-scheduler adds it to a node ({@code k8s.io/component-helpers/resource}
 * PodRequests; scheduler-and-density §1), per resource:
 * <ul>
 *   <li>API-server defaulting first: a container with a limit and no request gets request = limit;</li>
 *   <li>apps = Σ regular containers + Σ sidecars (init containers with {@code restartPolicy: Always}, KEP-753);</li>
 *   <li>init peak = max over init containers in order of (own request + Σ sidecars declared before it); a sidecar's
 *       start counts as itself plus the sidecars before it;</li>
 *   <li>effective = max(apps, init peak), or the pod-level request ({@code spec.resources}, KEP-2837) when it is set
 *       and pod-level resources are enabled; then + {@code spec.overhead} (KEP-688; memory only here).</li>
 * </ul>
 * {@link #forScoring} substitutes the scheduler's non-zero defaults for unset container requests (100m cpu, 200Mi
 * memory), which only the score uses.
 */
public final class EffectiveRequest {
    private EffectiveRequest() {}

    /** The scheduler's {@code DefaultMilliCPURequest}. */
    public static final long DEFAULT_MILLI_CPU = 100;
    /** The scheduler's {@code DefaultMemoryRequest}: 200 MiB. */
    public static final long DEFAULT_MEMORY = 200L << 20;

    /** The request NodeResourcesFit checks and adds to the node. */
    public static Request of(PodSpec pod, boolean podLevelResources) {
        Long podMem = podMemoryRequest(pod.podResources());
        long mem = podLevelResources && podMem != null ? podMem : aggregate(pod, EffectiveRequest::memory);
        KubeQuantity podCpu = podCpuRequest(pod.podResources());
        long cpu = podLevelResources && podCpu != null ? podCpu.millis() : aggregate(pod, EffectiveRequest::cpu);
        return new Request(Math.addExact(mem, pod.overheadMemoryOrZero()), cpu);
    }

    /** The request the LeastAllocated score counts: unset container requests become 100m cpu / 200Mi memory. */
    public static Request forScoring(PodSpec pod, boolean podLevelResources) {
        Long podMem = podMemoryRequest(pod.podResources());
        long mem = podLevelResources && podMem != null ? podMem : aggregate(pod, c -> {
            long m = memory(c);
            return m == 0 ? DEFAULT_MEMORY : m;
        });
        KubeQuantity podCpu = podCpuRequest(pod.podResources());
        long cpu = podLevelResources && podCpu != null ? podCpu.millis() : aggregate(pod, c -> {
            long v = cpu(c);
            return v == 0 ? DEFAULT_MILLI_CPU : v;
        });
        return new Request(Math.addExact(mem, pod.overheadMemoryOrZero()), cpu);
    }

    /**
     * The pod's memory limit aggregated the same way (max of apps+sidecars and the init peak, + overhead), or -1
     * when some container has no memory limit and there is no pod-level limit: the pod is unbounded.
     */
    public static long memoryLimit(PodSpec pod, boolean podLevelResources) {
        if (podLevelResources && pod.podResources().hasMemoryLimit()) {
            return Math.addExact(pod.podResources().memoryLimit(), pod.overheadMemoryOrZero());
        }
        for (ContainerSpec c : pod.containers()) {
            if (!c.resources().hasMemoryLimit()) {
                return -1;
            }
        }
        return Math.addExact(aggregate(pod, c -> c.resources().memoryLimit()), pod.overheadMemoryOrZero());
    }

    private static Long podMemoryRequest(Resources r) {
        return r.memoryRequest() != null ? r.memoryRequest() : r.memoryLimit();
    }

    private static KubeQuantity podCpuRequest(Resources r) {
        return r.cpuRequest() != null ? r.cpuRequest() : r.cpuLimit();
    }

    private static long memory(ContainerSpec c) {
        Resources r = c.resources();
        return r.memoryRequest() != null ? r.memoryRequest() : r.memoryLimitOrZero();
    }

    private static long cpu(ContainerSpec c) {
        Resources r = c.resources();
        KubeQuantity q = r.cpuRequest() != null ? r.cpuRequest() : r.cpuLimit();
        return q == null ? 0 : q.millis();
    }

    private static long aggregate(PodSpec pod, ToLongFunction<ContainerSpec> value) {
        long apps = 0;
        long sidecars = 0;
        long initPeak = 0;
        for (ContainerSpec c : pod.containers()) {
            long v = value.applyAsLong(c);
            switch (c.kind()) {
                case REGULAR -> apps = Math.addExact(apps, v);
                case SIDECAR -> {
                    sidecars = Math.addExact(sidecars, v);
                    initPeak = Math.max(initPeak, sidecars);
                }
                case INIT -> initPeak = Math.max(initPeak, Math.addExact(v, sidecars));
            }
        }
        return Math.max(Math.addExact(apps, sidecars), initPeak);
    }
}
