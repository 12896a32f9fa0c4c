package io.memwarden.policy;

import io.memwarden.model.PodSpec;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The kubelet's memory-signal eviction ranking (kubelet-semantics §4): pods without stats first, then pods whose
 * working set exceeds their memory request, then lower priority first, then larger (working set − request) first.
 * Critical pods are never candidates. The kubelet's sort is unstable; memwarden breaks remaining ties by
 * namespace/name so the order is total and reproducible.
 */
public final class EvictionRanking {
    private EvictionRanking() {}

    /** A candidate: the pod, its memory request (incl. overhead), and its working set (null = no stats). */
    public record Candidate(PodSpec pod, long memoryRequest, Long workingSet) {
        int priority() {
            Integer p = Criticality.effectivePriority(pod);
            return p == null ? 0 : p;
        }

        boolean exceedsRequest() {
            return workingSet != null && workingSet > memoryRequest;
        }
    }

    public static final Comparator<Candidate> ORDER = Comparator
            .comparing((Candidate c) -> c.workingSet() != null) // no stats first
            .thenComparing(c -> !c.exceedsRequest())              // exceeding request first
            .thenComparingInt(Candidate::priority)                // lower priority first
            .thenComparing((Candidate c) -> c.workingSet() == null ? 0L : c.workingSet() - c.memoryRequest(),
                    Comparator.reverseOrder())                    // larger usage above request first
            .thenComparing(c -> c.pod().namespace())
            .thenComparing(c -> c.pod().name());

    /** The eviction order as {@code namespace/name}, critical pods left out. */
    public static List<String> rank(List<Candidate> candidates) {
        List<Candidate> list = new ArrayList<>();
        for (Candidate c : candidates) {
            if (!Criticality.isCritical(c.pod())) {
                list.add(c);
            }
        }
        list.sort(ORDER);
        return list.stream().map(c -> c.pod().key()).toList();
    }
}
