package io.memwarden.model;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Observed memory use per pod (USAGE.yaml), keyed {@code namespace/name}.
 *
 * @param pods per pod: its working set (given, or the sum of its containers'), cold bytes, and per container
 */
public record Usage(Map<String, PodUsage> pods) {
    public Usage {
        pods = Collections.unmodifiableMap(new LinkedHashMap<>(pods));
    }

    /**
     * @param workingSet bytes the pod's cgroups hold that the kernel cannot drop without I/O (the kubelet's working
     *                   set: usage − inactive file)
     * @param coldBytes  of the working set, bytes not touched recently (memwarden's cold estimate), null when unknown
     * @param containers per container name, empty when only pod totals are known
     */
    public record PodUsage(long workingSet, Long coldBytes, Map<String, ContainerUsage> containers) {
        public PodUsage {
            containers = containers == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(containers));
        }
    }

    /** One container's working set and cold bytes (null when unknown). */
    public record ContainerUsage(long workingSet, Long coldBytes) {}
}
