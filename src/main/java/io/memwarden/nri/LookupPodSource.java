package io.memwarden.nri;

import io.memwarden.model.PodSpec;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A pod-spec source backed by a lookup by namespace, name and uid, such as a cache of the Kubernetes API's pods
 * (which may lag the runtime: {@link #mayArriveLater()} is true, so the plugin waits briefly for it, looking again
 * when the cache says it learned pods).
 */
public final class LookupPodSource implements PodSpecSource {
    private static final Logger LOG = LoggerFactory.getLogger(LookupPodSource.class);

    /** Finds a pod; throws with a message naming the field when the pod's spec is invalid. */
    @FunctionalInterface
    public interface Lookup {
        Optional<PodSpec> find(String namespace, String name, String uid) throws Exception;
    }

    private final String name;
    private final Lookup lookup;
    private final Consumer<Runnable> learned;

    /** A lookup that does not say when it learns pods: a waiting call asks it again when its wait ends. */
    public LookupPodSource(String name, Lookup lookup) {
        this(name, lookup, listener -> { });
    }

    /**
     * @param learned registers a listener called when the lookup may have learned pods (e.g. the cache's
     *                {@code onChange}), so a call waiting for its pod looks again at once
     */
    public LookupPodSource(String name, Lookup lookup, Consumer<Runnable> learned) {
        this.name = name;
        this.lookup = lookup;
        this.learned = learned;
    }

    @Override
    public Optional<ResolvedPod> lookup(PodQuery q) {
        try {
            return lookup.find(q.namespace(), q.name(), q.uid())
                    .map(p -> new ResolvedPod(p, name, false, List.of()));
        } catch (Exception e) {
            LOG.warn("{}: pod {}: {}", name, q.key(), e.getMessage());
            return Optional.empty();
        }
    }

    @Override
    public boolean mayArriveLater() {
        return true;
    }

    @Override
    public void onLearned(Runnable listener) {
        learned.accept(listener);
    }

    @Override
    public String describe() {
        return name;
    }
}
