package io.memwarden.k8s;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.RequestConfigBuilder;
import java.time.Duration;

/** How memwarden's cluster parts call the API: the client they share, their argument checks, failures in words. */
final class ApiCalls {
    private ApiCalls() {}

    /**
     * A client derived from the caller's without fabric8's retries (it retries 429 and 5xx with backoff, which would
     * hide a PodDisruptionBudget refusal for seconds) and with this per-request timeout. Closing it leaves the
     * caller's client open.
     */
    static KubernetesClient withoutRetries(KubernetesClient client, Duration requestTimeout) {
        return client.newClient(new RequestConfigBuilder(client.getConfiguration().getRequestConfig())
                        .withRequestRetryBackoffLimit(0)
                        .withRequestTimeout((int) Math.min(Integer.MAX_VALUE, requestTimeout.toMillis()))
                        .build())
                .adapt(KubernetesClient.class);
    }

    /** "HTTP 409: message" or, without an HTTP answer, the cause (connection refused, timeout). */
    static String brief(KubernetesClientException e) {
        if (e.getCode() > 0) {
            String m = e.getStatus() != null && e.getStatus().getMessage() != null ? e.getStatus().getMessage()
                    : e.getMessage();
            return "HTTP " + e.getCode() + ": " + m;
        }
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return "Kubernetes API unreachable: " + (root == e ? e.getMessage() : root.toString());
    }

    static void require(String what, String value) {
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException(what + " is missing");
        }
    }
}
