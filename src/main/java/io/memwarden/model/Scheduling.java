package io.memwarden.model;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What of a pod spec the kube-scheduler's filters read besides resources: {@code spec.nodeName}, {@code
 * spec.nodeSelector}, the required node affinity ({@code requiredDuringSchedulingIgnoredDuringExecution}), {@code
 * spec.tolerations}, and whether the pod is terminated (phase Succeeded/Failed: it holds no resources).
 *
 * @param nodeName      the node the pod is bound to, null when not bound
 * @param requiredTerms the required node affinity's {@code nodeSelectorTerms} (ORed), null when there is none
 */
public record Scheduling(String nodeName, Map<String, String> nodeSelector, List<Term> requiredTerms,
                         List<Toleration> tolerations, boolean terminated) {

    public static final Scheduling NONE = new Scheduling(null, Map.of(), null, List.of(), false);

    public Scheduling {
        nodeName = nodeName == null || nodeName.isEmpty() ? null : nodeName;
        nodeSelector = nodeSelector == null ? Map.of() : Map.copyOf(nodeSelector);
        requiredTerms = requiredTerms == null ? null : List.copyOf(requiredTerms);
        tolerations = tolerations == null ? List.of() : List.copyOf(tolerations);
    }

    /** This pod's constraints with more tolerations (a DaemonSet's defaults). */
    public Scheduling withTolerations(List<Toleration> more) {
        List<Toleration> all = new java.util.ArrayList<>(tolerations);
        all.addAll(more);
        return new Scheduling(nodeName, nodeSelector, requiredTerms, all, terminated);
    }

    /** One {@code nodeSelectorTerm}: its {@code matchExpressions} (ANDed) and {@code matchFields} on metadata.name. */
    public record Term(List<Requirement> matchExpressions, List<Requirement> matchFields) {
        public Term {
            matchExpressions = matchExpressions == null ? List.of() : List.copyOf(matchExpressions);
            matchFields = matchFields == null ? List.of() : List.copyOf(matchFields);
        }
    }

    /** A node selector requirement: operator In, NotIn, Exists, DoesNotExist, Gt or Lt. */
    public record Requirement(String key, Operator operator, List<String> values) {
        public Requirement {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(operator, "operator");
            values = values == null ? List.of() : List.copyOf(values);
        }
    }

    public enum Operator { In, NotIn, Exists, DoesNotExist, Gt, Lt }

    /** A toleration; {@code key} empty with Exists matches every key; {@code effect} null matches every effect. */
    public record Toleration(String key, boolean exists, String value, TaintEffect effect) {
        public Toleration {
            key = key == null ? "" : key;
            value = value == null ? "" : value;
        }
    }

    /** A node taint. */
    public record Taint(String key, String value, TaintEffect effect) {
        public Taint {
            Objects.requireNonNull(key, "key");
            value = value == null ? "" : value;
            Objects.requireNonNull(effect, "effect");
        }

        /** As the scheduler prints it in "untolerated taint {key: value}". */
        public String text() {
            return "{" + key + ": " + value + "}";
        }
    }

    public enum TaintEffect {
        NoSchedule, PreferNoSchedule, NoExecute;

        /** Whether the scheduler's TaintToleration filter reads this effect (PreferNoSchedule only scores). */
        public boolean filters() {
            return this != PreferNoSchedule;
        }
    }
}
