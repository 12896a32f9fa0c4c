package io.memwarden.density;

import io.memwarden.model.ClusterNode;
import io.memwarden.model.Scheduling;
import io.memwarden.model.Scheduling.Requirement;
import io.memwarden.model.Scheduling.Taint;
import io.memwarden.model.Scheduling.Term;
import io.memwarden.model.Scheduling.Toleration;
import java.util.List;
import java.util.Map;

/**
 * The kube-scheduler's label and taint filters (scheduler-and-density §2), in the default profile's order: the
 * NodeUnschedulable and TaintToleration filters, then NodeAffinity ({@code nodeSelector} and the required node
 * affinity). Each check answers with the scheduler's own reason text, or null when the node passes.
 */
public final class NodeFilters {
    private NodeFilters() {}

    /** The taint the API server's NodeUnschedulable controller mirrors {@code spec.unschedulable} into. */
    public static final String UNSCHEDULABLE = "node.kubernetes.io/unschedulable";

    public static final String AFFINITY_REASON = "node(s) didn't match Pod's node affinity/selector";
    public static final String UNSCHEDULABLE_REASON = "node(s) were unschedulable";

    /** The first reason this node is filtered out for the pod by labels or taints, or null when it passes. */
    public static String reject(Scheduling pod, ClusterNode node) {
        Taint t = untoleratedTaint(pod.tolerations(), node.taints());
        if (t != null) {
            return t.key().equals(UNSCHEDULABLE) ? UNSCHEDULABLE_REASON : "node(s) had untolerated taint " + t.text();
        }
        return matchesAffinity(pod, node) ? null : AFFINITY_REASON;
    }

    /** The first NoSchedule/NoExecute taint no toleration tolerates, or null (PreferNoSchedule never filters). */
    public static Taint untoleratedTaint(List<Toleration> tolerations, List<Taint> taints) {
        for (Taint t : taints) {
            if (!t.effect().filters()) {
                continue;
            }
            boolean tolerated = false;
            for (Toleration tol : tolerations) {
                if (tolerates(tol, t)) {
                    tolerated = true;
                    break;
                }
            }
            if (!tolerated) {
                return t;
            }
        }
        return null;
    }

    /**
     * {@code ToleratesTaint}: effects match (an empty toleration effect matches all), keys are equal (or the
     * toleration's key is empty with Exists), and Exists ignores the value while Equal compares it.
     */
    public static boolean tolerates(Toleration tol, Taint t) {
        if (tol.effect() != null && tol.effect() != t.effect()) {
            return false;
        }
        if (tol.key().isEmpty()) {
            return tol.exists();
        }
        if (!tol.key().equals(t.key())) {
            return false;
        }
        return tol.exists() || tol.value().equals(t.value());
    }

    /** {@code nodeSelector} (every label present with that value) and the required node affinity's terms (ORed). */
    public static boolean matchesAffinity(Scheduling pod, ClusterNode node) {
        Map<String, String> labels = node.labels();
        for (Map.Entry<String, String> e : pod.nodeSelector().entrySet()) {
            if (!e.getValue().equals(labels.get(e.getKey()))) {
                return false;
            }
        }
        if (pod.requiredTerms() == null) {
            return true;
        }
        for (Term term : pod.requiredTerms()) {
            if (matches(term, node)) {
                return true;
            }
        }
        return false; // no terms, or none matched
    }

    /** A term matches when all its expressions and fields do; an empty term matches no node. */
    static boolean matches(Term term, ClusterNode node) {
        if (term.matchExpressions().isEmpty() && term.matchFields().isEmpty()) {
            return false;
        }
        for (Requirement r : term.matchExpressions()) {
            if (!matches(r, node.labels().get(r.key()))) {
                return false;
            }
        }
        for (Requirement r : term.matchFields()) {
            // the only field a node selector may name is metadata.name (the API server rejects others)
            if (!r.key().equals("metadata.name") || !matches(r, node.name())) {
                return false;
            }
        }
        return true;
    }

    /** One requirement against a label value (null when the node has no such label). */
    static boolean matches(Requirement r, String value) {
        return switch (r.operator()) {
            case In -> value != null && r.values().contains(value);
            case NotIn -> value == null || !r.values().contains(value);
            case Exists -> value != null;
            case DoesNotExist -> value == null;
            case Gt, Lt -> {
                if (value == null || r.values().size() != 1) {
                    yield false;
                }
                Long have = integer(value);
                Long bound = integer(r.values().getFirst());
                yield have != null && bound != null && (r.operator() == Scheduling.Operator.Gt ? have > bound
                        : have < bound);
            }
        };
    }

    /** A label value as Go's {@code strconv.ParseInt(v, 10, 64)} reads it, or null. */
    private static Long integer(String s) {
        if (!s.matches("[+-]?[0-9]+")) {
            return null;
        }
        try {
            return Long.parseLong(s.startsWith("+") ? s.substring(1) : s);
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
