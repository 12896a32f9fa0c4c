package io.memwarden.nri;

import io.memwarden.model.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Finds the pod spec to plan a container with: the primary source's, else the NRI-only reconstruction (degraded,
 * with a note saying what was missing). For a source that may learn the pod later (a watch lagging the runtime) a
 * creating container waits a bounded time: the deadline comes from the injected clock, and the wait ends early when
 * the source signals that it learned pods ({@link PodSpecSource#onLearned}); nothing polls.
 */
final class PodResolver {
    /** How a note about a pod the primary source does not know starts. */
    private static final String POD_NOT_FOUND = "pod ";

    private final PodSpecSource primary;
    private final NriPodSource fallback = new NriPodSource();
    private final PodArrivals arrivals = new PodArrivals();
    private final Clock clock;
    private final Duration podSpecWait;
    private final Supplier<Duration> requestTimeout;

    /**
     * @param primary        the pod-spec source consulted first, or null for NRI-only
     * @param podSpecWait    the longest wait for a pod that may arrive later
     * @param requestTimeout the runtime's current request timeout; the wait is at most half of it
     */
    PodResolver(PodSpecSource primary, Clock clock, Duration podSpecWait, Supplier<Duration> requestTimeout) {
        this.primary = primary;
        this.clock = clock;
        this.podSpecWait = podSpecWait;
        this.requestTimeout = requestTimeout;
        if (primary != null) {
            primary.onLearned(arrivals::signal);
        }
    }

    boolean hasPrimary() {
        return primary != null;
    }

    /** Whether the primary source knows the pod now (no waiting). */
    boolean primaryKnows(PodQuery q) {
        return primary != null && primary.lookup(q).isPresent();
    }

    /**
     * @param mayWait wait (bounded) for a primary source that may learn the pod shortly
     */
    ResolvedPod resolve(PodQuery q, boolean mayWait) {
        String missing = null;
        if (primary != null) {
            Optional<ResolvedPod> r = mayWait && primary.mayArriveLater() ? awaitPod(q) : primary.lookup(q);
            if (r.isPresent()) {
                boolean hasContainer = r.get().spec().containers().stream()
                        .anyMatch(cs -> cs.name().equals(q.container().getName()));
                if (hasContainer) {
                    return r.get();
                }
                missing = "container " + q.container().getName() + " is not in " + primary.describe() + "'s pod "
                        + q.key();
            } else {
                missing = POD_NOT_FOUND + q.key() + " not found in " + primary.describe();
            }
        }
        ResolvedPod fb = fallback.lookup(q).orElseThrow();
        if (missing == null) {
            return fb;
        }
        List<String> notes = new ArrayList<>();
        notes.add(missing);
        notes.addAll(fb.notes());
        return new ResolvedPod(fb.spec(), fb.source(), true, notes);
    }

    /**
     * Whether {@code rp} holds for every container of its pod (then a pass over the registry resolves the pod once):
     * not when the primary source has the pod but not this container.
     */
    boolean samePerPod(ResolvedPod rp) {
        return !rp.degraded() || primary == null || !rp.notes().isEmpty()
                && rp.notes().getFirst().startsWith(POD_NOT_FOUND);
    }

    /**
     * The primary source's pod, waiting at most min(podSpecWait, request timeout / 2) by the clock for it to arrive:
     * the source is asked again after each of its signals and once when the wait ends.
     */
    private Optional<ResolvedPod> awaitPod(PodQuery q) {
        long seen = arrivals.count();
        Optional<ResolvedPod> r = primary.lookup(q);
        if (r.isPresent()) {
            return r;
        }
        long wait = Math.min(podSpecWait.toMillis(), requestTimeout.get().toMillis() / 2);
        long deadline = clock.millis() + wait;
        for (long left = wait; r.isEmpty() && left > 0; left = deadline - clock.millis()) {
            try {
                arrivals.awaitAfter(seen, left);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            seen = arrivals.count();
            r = primary.lookup(q);
        }
        return r;
    }
}
