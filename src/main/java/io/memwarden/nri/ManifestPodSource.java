package io.memwarden.nri;

import io.memwarden.model.PodSpec;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Pod specs from a static manifest file (read by {@code PodManifestReader}): matched by namespace and name, and by
 * uid when both the manifest and the runtime give one.
 * <p>
 * A daemon may hand over the manifest while its pods are still being bound (a cold start's slowest step, done while
 * the plugin registers): a lookup before that finishes waits for it, once, at start.
 */
public final class ManifestPodSource implements PodSpecSource {
    private final String name;
    private final CompletableFuture<Map<String, PodSpec>> pods;

    public ManifestPodSource(String name, List<PodSpec> specs) {
        this(name, CompletableFuture.completedFuture(specs));
    }

    /** The pods once {@code specs} completes; lookups wait for it (it must complete, normally or not). */
    public ManifestPodSource(String name, CompletableFuture<List<PodSpec>> specs) {
        this.name = name;
        this.pods = specs.thenApply(list -> {
            Map<String, PodSpec> byKey = new HashMap<>();
            for (PodSpec p : list) {
                byKey.put(p.key(), p);
            }
            return byKey;
        });
    }

    @Override
    public Optional<ResolvedPod> lookup(PodQuery q) {
        PodSpec p = pods.join().get(q.key());
        if (p == null) {
            return Optional.empty();
        }
        if (!p.uid().isEmpty() && !q.uid().isEmpty() && !p.uid().equals(q.uid())) {
            return Optional.empty();
        }
        return Optional.of(new ResolvedPod(p, describe(), false, List.of()));
    }

    @Override
    public String describe() {
        return "manifest " + name;
    }
}
