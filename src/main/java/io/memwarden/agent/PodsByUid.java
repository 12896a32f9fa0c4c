package io.memwarden.agent;

import io.memwarden.model.PodSpec;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where the standalone agent finds the pod of a pod cgroup: by the uid in the cgroup's name. The Kubernetes API cache
 * also knows the pod's container IDs ({@code status.containerStatuses}); a static manifest does not. Implementations
 * are thread-safe and do not block.
 */
public interface PodsByUid {

    /**
     * A pod found by uid.
     *
     * @param containerNames runtime container ID → container name, as far as known
     * @param idsKnown       the source reports container IDs (a container cgroup whose ID is not among them is not a
     *                       container of the pod, or not one reported yet); false for a manifest
     * @param source         where the spec came from, for reasons and logs
     */
    record Known(PodSpec spec, Map<String, String> containerNames, boolean idsKnown, String source) {
        public Known {
            containerNames = Map.copyOf(containerNames);
        }
    }

    /** @throws Exception with a message naming the field when the source's pod is invalid */
    Optional<Known> find(String uid) throws Exception;

    String describe();

    /** Pods of a static manifest, by {@code metadata.uid} (pods without one cannot be found). */
    static PodsByUid manifest(String name, List<PodSpec> specs) {
        Map<String, PodSpec> byUid = new HashMap<>();
        for (PodSpec p : specs) {
            if (!p.uid().isEmpty()) {
                byUid.put(p.uid(), p);
            }
        }
        String describe = "manifest " + name;
        return new PodsByUid() {
            @Override
            public Optional<Known> find(String uid) {
                return Optional.ofNullable(byUid.get(uid)).map(p -> new Known(p, Map.of(), false, describe));
            }

            @Override
            public String describe() {
                return describe;
            }
        };
    }

    /** Asks {@code first}, then {@code second}. */
    static PodsByUid firstOf(PodsByUid first, PodsByUid second) {
        return new PodsByUid() {
            @Override
            public Optional<Known> find(String uid) throws Exception {
                Optional<Known> k = first.find(uid);
                return k.isPresent() ? k : second.find(uid);
            }

            @Override
            public String describe() {
                return first.describe() + ", then " + second.describe();
            }
        };
    }
}
