package io.memwarden.nri;

import java.util.Optional;

/** Asks {@code first}, then {@code second} (e.g. a static manifest, then the Kubernetes API). */
public record FirstOfPodSource(PodSpecSource first, PodSpecSource second) implements PodSpecSource {
    @Override
    public Optional<ResolvedPod> lookup(PodQuery query) {
        Optional<ResolvedPod> r = first.lookup(query);
        return r.isPresent() ? r : second.lookup(query);
    }

    @Override
    public boolean mayArriveLater() {
        return first.mayArriveLater() || second.mayArriveLater();
    }

    @Override
    public void onLearned(Runnable listener) {
        first.onLearned(listener);
        second.onLearned(listener);
    }

    @Override
    public String describe() {
        return first.describe() + ", then " + second.describe();
    }
}
