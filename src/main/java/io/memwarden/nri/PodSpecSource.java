package io.memwarden.nri;

import java.util.Optional;

/**
 * Where the plugin gets a pod's spec (requests, limits, priority, annotations) for planning. Implementations: a
 * static manifest file ({@link ManifestPodSource}) and the NRI-only reconstruction ({@link NriPodSource}); a
 * Kubernetes API watch fits the same interface. Implementations must be thread-safe and must not block (except a
 * manifest still being bound at start, once: {@link ManifestPodSource}).
 */
public interface PodSpecSource {
    /** The pod's spec as this source knows it now; empty when it does not know the pod (yet). */
    Optional<ResolvedPod> lookup(PodQuery query);

    /**
     * Whether a pod unknown now may become known shortly (a watch that lags the runtime): then the plugin waits a
     * bounded time before falling back. A static file never learns new pods.
     */
    default boolean mayArriveLater() {
        return false;
    }

    /** A short description for logs. */
    String describe();
}
