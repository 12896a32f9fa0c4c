package io.memwarden.k8s;

import io.memwarden.model.OomEvent;
import java.util.Map;

/**
 * What the node agent does to the cluster. Implementations never throw on API failure: they log and report.
 * {@link KubeCluster} is the Kubernetes API implementation; {@link #NONE} is the one without a cluster.
 */
public interface ClusterActions extends AutoCloseable {

    /** Warning event on this Node, reason SystemOOM, kubelet's message format (kubelet-semantics.md §6). */
    void systemOom(OomEvent e);

    /**
     * An event on a pod (type "Normal" or "Warning"; reason CamelCase e.g. MemwardenThrottleRelief, MemwardenOffload,
     * MemwardenEvicting, MemwardenOomKill).
     */
    void podEvent(String namespace, String pod, String type, String reason, String message);

    /**
     * {@link #podEvent(String, String, String, String, String)} when the caller knows the pod's uid (e.g. from its
     * cgroup path or the pod cache), which saves the implementation looking it up. A null or empty uid means unknown.
     */
    default void podEvent(String namespace, String pod, String uid, String type, String reason, String message) {
        podEvent(namespace, pod, type, reason, message);
    }

    /** An event on this Node (e.g. reason MemwardenConfigRejected when a reloaded config is invalid). */
    void nodeEvent(String type, String reason, String message);

    /**
     * Evicts the pod through the Eviction API (policy/v1, so PodDisruptionBudgets are respected) with a kubelet-style
     * message (see {@link EvictionMessage#kubeletStyleMessage}).
     */
    EvictionOutcome evict(String namespace, String pod, String message);

    /**
     * {@link #evict(String, String, String)} with the Eviction's {@code deleteOptions.gracePeriodSeconds} (the
     * kubelet's pod grace period for the eviction, kubelet-semantics §4). Without an override, the grace is dropped.
     */
    default EvictionOutcome evict(String namespace, String pod, String message, long graceSeconds) {
        return evict(namespace, pod, message);
    }

    /**
     * Sets this node's label memwarden.io/swap=&lt;swapBehavior&gt; (when enabled) and, when taint is true and swap is
     * on, the taint memwarden.io/swap=&lt;behavior&gt;:NoSchedule (removes the taint when swap is off or taint false).
     * Idempotent.
     */
    void markNode(String swapBehavior, boolean swapOn, boolean label, boolean taint);

    /**
     * This Node's labels and annotations as the API has them now (e.g. KubeVirt virt-handler's KSM overrides), or
     * null when there is no cluster or the Node cannot be read (the implementation logs why).
     */
    default NodeMetadata nodeMetadata() {
        return null;
    }

    /**
     * KubeVirt's VirtualMachineInstance {@code namespace/name} as the API has it now (JSON), or null when there is no
     * cluster, no such VMI, or KubeVirt's objects cannot be read (the implementation logs why).
     */
    default String virtualMachineInstance(String namespace, String name) {
        return null;
    }

    /** The cluster's {@code kubevirt.io/v1} KubeVirt CR (JSON), or null as for {@link #virtualMachineInstance}. */
    default String kubeVirt() {
        return null;
    }

    /** A Node's {@code metadata.labels} and {@code metadata.annotations} (empty when absent). */
    record NodeMetadata(Map<String, String> labels, Map<String, String> annotations) {
        public NodeMetadata {
            labels = labels == null ? Map.of() : Map.copyOf(labels);
            annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
        }
    }

    @Override
    void close();

    /** Does nothing (no cluster): evict returns not-evicted with detail "no Kubernetes API". */
    ClusterActions NONE = new ClusterActions() {
        @Override
        public void systemOom(OomEvent e) {
        }

        @Override
        public void podEvent(String namespace, String pod, String type, String reason, String message) {
        }

        @Override
        public void nodeEvent(String type, String reason, String message) {
        }

        @Override
        public EvictionOutcome evict(String namespace, String pod, String message) {
            return new EvictionOutcome(false, "no Kubernetes API");
        }

        @Override
        public void markNode(String swapBehavior, boolean swapOn, boolean label, boolean taint) {
        }

        @Override
        public void close() {
        }

        @Override
        public String toString() {
            return "ClusterActions.NONE";
        }
    };

    /**
     * @param kind   what the API answered
     * @param detail what happened, for the agent's log and explain (names the pod and the API's answer)
     */
    record EvictionOutcome(Kind kind, String detail) {
        /** ACCEPTED when evicted, else FAILED. */
        public EvictionOutcome(boolean evicted, String detail) {
            this(evicted ? Kind.ACCEPTED : Kind.FAILED, detail);
        }

        public boolean evicted() {
            return kind == Kind.ACCEPTED;
        }

        /**
         * ACCEPTED (HTTP 201/200); REFUSED (HTTP 429: a PodDisruptionBudget); TIMED_OUT (no answer within the
         * request timeout); FAILED (anything else: another HTTP error such as 500 or 404, the API unreachable,
         * evictions disabled, no API).
         */
        public enum Kind { ACCEPTED, REFUSED, TIMED_OUT, FAILED }
    }
}
