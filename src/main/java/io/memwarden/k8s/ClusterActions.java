package io.memwarden.k8s;

/** What the node agent does to the cluster. Implementations never throw on API failure: they log and report. */
public interface ClusterActions extends AutoCloseable {
    /** Warning event on this Node, reason SystemOOM, kubelet's message format (kubelet-semantics.md §6). */
    void systemOom(io.memwarden.kernel.OomEvent e);

    /** An event on a pod (type "Normal" or "Warning"; reason CamelCase). */
    void podEvent(String namespace, String pod, String type, String reason, String message);

    /** An event on this Node (e.g. reason MemwardenConfigRejected when a reloaded config is invalid). */
    void nodeEvent(String type, String reason, String message);

    /** Evicts the pod through the Eviction API (policy/v1, so PodDisruptionBudgets are respected). */
    EvictionOutcome evict(String namespace, String pod, String message);

    /** Label memwarden.io/swap=<behavior> and the swap taint on this node. Idempotent. */
    void markNode(String swapBehavior, boolean swapOn, boolean label, boolean taint);

    @Override
    void close();

    /** Does nothing (no cluster). */
    ClusterActions NONE = new ClusterActions() {
        @Override
        public void systemOom(io.memwarden.kernel.OomEvent e) {}

        @Override
        public void podEvent(String namespace, String pod, String type, String reason, String message) {}

        @Override
        public void nodeEvent(String type, String reason, String message) {}

        @Override
        public EvictionOutcome evict(String namespace, String pod, String message) {
            return new EvictionOutcome(false, "no Kubernetes API");
        }

        @Override
        public void markNode(String swapBehavior, boolean swapOn, boolean label, boolean taint) {}

        @Override
        public void close() {}
    };

    record EvictionOutcome(boolean evicted, String detail) {}
}
