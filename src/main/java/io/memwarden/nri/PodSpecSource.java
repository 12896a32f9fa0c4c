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

    /**
     * Registers {@code listener}, to be called whenever this source may have learned pods (a watch delivered some):
     * a runtime call waiting for its pod ({@link #mayArriveLater()}) then looks again instead of polling. The
     * listener is quick and thread-safe. By default never called: a waiting call looks again only when its wait
     * ends.
     */
    default void onLearned(Runnable listener) {}

    /** A short description for logs. */
    String describe();
}
