package io.memwarden.k8s;

import io.fabric8.kubernetes.api.model.DeleteOptionsBuilder;
import io.fabric8.kubernetes.api.model.policy.v1.Eviction;
import io.fabric8.kubernetes.api.model.policy.v1.EvictionBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.memwarden.k8s.ClusterActions.EvictionOutcome.Kind;
import java.io.InterruptedIOException;
import java.net.http.HttpTimeoutException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * policy/v1 Evictions (so PodDisruptionBudgets are respected) and what each outcome means in words: accepted (then a
 * Warning {@value #REASON_EVICTING} event on the pod), refused by a disruption budget (HTTP 429), timed out (no answer
 * within the request timeout; counted with the failures), pod not found, or failed.
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
        return evict(namespace, pod, message, null);
    }

    /**
     * @param graceSeconds the Eviction's {@code deleteOptions.gracePeriodSeconds} (null: none, the pod's own
     *                     terminationGracePeriodSeconds applies); 0 is sent as 1, since 0 asks the API server to
     *                     delete the pod object at once, before the kubelet stopped its containers
     */
    ClusterActions.EvictionOutcome evict(String namespace, String pod, String message, Long graceSeconds) {
        ApiCalls.require("pod namespace", namespace);
        ApiCalls.require("pod name", pod);
        String who = namespace + "/" + pod;
        if (!enabled) {
            return new ClusterActions.EvictionOutcome(false, "evictions are disabled in memwarden's configuration; "
                    + who + " not evicted");
        }
        EvictionBuilder b = new EvictionBuilder().withNewMetadata().withName(pod).withNamespace(namespace)
                .endMetadata();
        if (graceSeconds != null) {
            b.withDeleteOptions(new DeleteOptionsBuilder().withGracePeriodSeconds(Math.max(1, graceSeconds)).build());
        }
        Eviction eviction = b.build();
        try {
            if (!api.pods().inNamespace(namespace).withName(pod).evict(eviction)) { // fabric8: false for HTTP 429
                refused.incrementAndGet();
                return notEvicted(Kind.REFUSED, "eviction of " + who + " refused (HTTP 429 Too Many Requests): its"
                        + " disruption budget (PodDisruptionBudget) does not allow a disruption now; retry later");
            }
        } catch (KubernetesClientException e) {
            failed.incrementAndGet();
            if (e.getCode() <= 0 && timedOut(e)) {
                return notEvicted(Kind.TIMED_OUT, "eviction of " + who + " timed out: no answer from the Kubernetes"
                        + " API within the request timeout");
            }
            return notEvicted(Kind.FAILED, e.getCode() == 404
                    ? "pod " + who + " not found (HTTP 404): nothing evicted"
                    : "eviction of " + who + " failed: " + ApiCalls.brief(e));
        } catch (RuntimeException e) {
            failed.incrementAndGet();
            return notEvicted(timedOut(e) ? Kind.TIMED_OUT : Kind.FAILED, "eviction of " + who + " failed: " + e);
        }
        accepted.incrementAndGet();
        LOG.info("evicted {} through the Eviction API: {}", who, message);
        if (message != null && !message.isEmpty()) {
            events.podEvent(namespace, pod, null, "Warning", REASON_EVICTING, message);
        }
        return new ClusterActions.EvictionOutcome(true, "eviction of " + who + " accepted by the API (policy/v1"
                + (graceSeconds == null ? "" : ", gracePeriodSeconds " + Math.max(1, graceSeconds)) + ")");
    }

    /** Logs the detail (a refusal at INFO: a budget doing its job; a failure at WARN) and returns it. */
    private static ClusterActions.EvictionOutcome notEvicted(Kind kind, String detail) {
        if (kind == Kind.REFUSED) {
            LOG.info("{}", detail);
        } else {
            LOG.warn("{}", detail);
        }
        return new ClusterActions.EvictionOutcome(kind, detail);
    }

    /** Whether the cause is the request timeout (the JDK client's, a socket's, or a future's). */
    static boolean timedOut(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof HttpTimeoutException || t instanceof TimeoutException
                    || t instanceof InterruptedIOException) { // SocketTimeoutException is one
                return true;
            }
        }
        return false;
    }
}
