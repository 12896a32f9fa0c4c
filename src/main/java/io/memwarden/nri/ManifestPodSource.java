package io.memwarden.nri;

import io.memwarden.model.PodSpec;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Pod specs from a static manifest file (read by {@code PodManifestReader}): matched by namespace and name, and by
 * uid when both the manifest and the runtime give one.
 */
public final class ManifestPodSource implements PodSpecSource {
    private final String name;
    private final Map<String, PodSpec> pods = new HashMap<>();

    public ManifestPodSource(String name, List<PodSpec> specs) {
        this.name = name;
        for (PodSpec p : specs) {
            pods.put(p.key(), p);
        }
    }

    @Override
    public Optional<ResolvedPod> lookup(PodQuery q) {
        PodSpec p = pods.get(q.key());
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
