package io.memwarden.k8s;

import io.fabric8.kubernetes.api.model.policy.v1.Eviction;
import io.fabric8.kubernetes.api.model.policy.v1.EvictionBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * policy/v1 Evictions (so PodDisruptionBudgets are respected) and what each outcome means in words: accepted (then a
 * Warning {@value #REASON_EVICTING} event on the pod), refused by a disruption budget (HTTP 429), pod not found, or
 * failed.
 */
final class Evictions {
    private static final Logger LOG = LoggerFactory.getLogger(KubeCluster.class); // the log name users know

    /** Reason of the Warning event recorded on the pod when the API accepted the eviction. */
    static final String REASON_EVICTING = "MemwardenEvicting";

    private final KubernetesClient api;
    private final boolean enabled;
    private final EventRecorder events;

    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();

    /** @param enabled false: every eviction returns not-evicted, "evictions are disabled" */
    Evictions(KubernetesClient api, boolean enabled, EventRecorder events) {
        this.api = api;
        this.enabled = enabled;
        this.events = events;
    }

    long accepted() {
        return accepted.get();
    }

    long refused() {
        return refused.get();
    }

    long failed() {
        return failed.get();
    }

    ClusterActions.EvictionOutcome evict(String namespace, String pod, String message) {
        ApiCalls.require("pod namespace", namespace);
        ApiCalls.require("pod name", pod);
        String who = namespace + "/" + pod;
        if (!enabled) {
            return new ClusterActions.EvictionOutcome(false, "evictions are disabled in memwarden's configuration; "
                    + who + " not evicted");
        }
        Eviction eviction = new EvictionBuilder().withNewMetadata().withName(pod).withNamespace(namespace)
                .endMetadata().build();
        try {
            if (!api.pods().inNamespace(namespace).withName(pod).evict(eviction)) { // fabric8: false for HTTP 429
                refused.incrementAndGet();
                return notEvicted(false, "eviction of " + who + " refused (HTTP 429 Too Many Requests): its"
                        + " disruption budget (PodDisruptionBudget) does not allow a disruption now; retry later");
            }
        } catch (KubernetesClientException e) {
            failed.incrementAndGet();
            return notEvicted(true, e.getCode() == 404
                    ? "pod " + who + " not found (HTTP 404): nothing evicted"
                    : "eviction of " + who + " failed: " + ApiCalls.brief(e));
        } catch (RuntimeException e) {
            failed.incrementAndGet();
            return notEvicted(true, "eviction of " + who + " failed: " + e);
        }
        accepted.incrementAndGet();
        LOG.info("evicted {} through the Eviction API: {}", who, message);
        if (message != null && !message.isEmpty()) {
            events.podEvent(namespace, pod, null, "Warning", REASON_EVICTING, message);
        }
        return new ClusterActions.EvictionOutcome(true, "eviction of " + who + " accepted by the API (policy/v1)");
    }

    /** Logs the detail (a refusal at INFO: a budget doing its job; a failure at WARN) and returns it. */
    private static ClusterActions.EvictionOutcome notEvicted(boolean failure, String detail) {
        if (failure) {
            LOG.warn("{}", detail);
        } else {
            LOG.info("{}", detail);
        }
        return new ClusterActions.EvictionOutcome(false, detail);
    }
}
