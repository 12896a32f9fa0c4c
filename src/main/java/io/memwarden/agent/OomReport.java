package io.memwarden.agent;

import io.memwarden.k8s.ClusterActions;
import io.memwarden.loops.OomAttribution;

/**
 * What the agent tells the cluster about a kernel OOM kill: a {@value #REASON} Warning event on the pod of the
 * managed container it hit ("container C, pid P (NAME): " and the "OOM while swap was free" diagnosis), and the
 * kubelet's SystemOOM Node event for a system OOM (docs/kubernetes.md).
 */
final class OomReport {
    /** The reason of the pod event. */
    static final String REASON = "MemwardenOomKill";

    private OomReport() {}

    /**
     * @param events the config's {@code kubernetes.events}: false sends nothing
     * @param uid    the victim pod's uid when known (else the cluster side reads it when it creates the event)
     */
    static void send(OomAttribution.Kill k, ClusterActions cluster, boolean events, String uid) {
        if (!events) {
            return;
        }
        if (k.victim() != null) {
            cluster.podEvent(k.victim().namespace(), k.victim().name(), uid, "Warning", REASON, k.eventMessage());
        }
        if (k.event().systemOom()) {
            cluster.systemOom(k.event());
        }
    }
}
