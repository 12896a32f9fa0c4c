package io.memwarden.k8s;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.memwarden.input.InputException;
import io.memwarden.input.PodManifestReader;
import io.memwarden.model.PodSpec;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pods of one node, watched from the Kubernetes API (an informer on pods with {@code spec.nodeName=NODE}):
 * a local cache the NRI plugin asks for pod specs (by name) and the standalone agent asks by uid (with the containers'
 * runtime IDs). Thread-safe; lookups never touch the network.
 */
public final class NodePods implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NodePods.class);

    private static final String UID_INDEX = "uid";

    private final KubernetesClient client;
    private final String nodeName;
    private final boolean fieldSelector;
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
    private SharedIndexInformer<Pod> informer;

    public NodePods(KubernetesClient client, String nodeName) {
        this(client, nodeName, true);
    }

    /**
     * @param fieldSelector watch with the server-side selector {@code spec.nodeName=NODE} (the API server supports
     *                      it for pods; fabric8's mock server does not, so its tests watch every pod). Lookups
     *                      check the node name either way.
     */
    public NodePods(KubernetesClient client, String nodeName, boolean fieldSelector) {
        this.client = client;
        this.nodeName = nodeName;
        this.fieldSelector = fieldSelector;
    }

    /** Starts watching; waits up to {@code syncTimeout} for the first full list. Returns whether it synced. */
    public boolean start(Duration syncTimeout) throws InterruptedException {
        var pods = client.pods().inAnyNamespace();
        // not inform(): it blocks for the first list and throws when the API is unreachable
        informer = (fieldSelector ? pods.withField("spec.nodeName", nodeName) : pods).runnableInformer(0);
        informer.addIndexers(java.util.Map.of(UID_INDEX, p -> p.getMetadata() == null
                || p.getMetadata().getUid() == null ? List.of() : List.of(p.getMetadata().getUid())));
        informer.addEventHandler(new ResourceEventHandler<>() {
            @Override
            public void onAdd(Pod pod) {
                changed();
            }

            @Override
            public void onUpdate(Pod old, Pod pod) {
                changed();
            }

            @Override
            public void onDelete(Pod pod, boolean finalStateUnknown) {
                // a pod gone is nothing a waiting lookup could find
            }
        });
        informer.exceptionHandler((started, t) -> {
            LOG.warn("watching the pods of node {}: {} (retrying)", nodeName, t.toString());
            return true; // keep retrying with the informer's backoff
        });
        try {
            informer.start().toCompletableFuture().get(syncTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            LOG.warn("pods of node {} not listed within {} ms: {}", nodeName, syncTimeout.toMillis(),
                    e.getCause() == null ? e.toString() : e.getCause().toString());
        }
        return informer.hasSynced();
    }

    /**
     * Registers {@code listener}, called on the informer's thread after the cache learned a pod or a pod changed (a
     * lookup waiting for a pod then looks again). It must be quick; its failures are logged.
     */
    public void onChange(Runnable listener) {
        listeners.add(listener);
    }

    private void changed() {
        for (Runnable l : listeners) {
            try {
                l.run();
            } catch (RuntimeException e) {
                LOG.warn("a listener of node {}'s pods failed", nodeName, e);
            }
        }
    }

    public boolean synced() {
        return informer != null && informer.hasSynced();
    }

    /**
     * The pod's spec if the cache holds it (matched by namespace/name, and uid when given), on this node.
     *
     * @throws InputException when the API's pod has an invalid field (the message names it)
     */
    public Optional<PodSpec> find(String namespace, String name, String uid) throws InputException {
        if (informer == null) {
            return Optional.empty();
        }
        Pod pod = informer.getStore().getByKey((namespace.isEmpty() ? "default" : namespace) + "/" + name);
        if (pod == null || pod.getSpec() == null || !nodeName.equals(pod.getSpec().getNodeName())) {
            return Optional.empty();
        }
        if (uid != null && !uid.isEmpty() && pod.getMetadata().getUid() != null && !pod.getMetadata().getUid().isEmpty()
                && !uid.equals(pod.getMetadata().getUid())) {
            return Optional.empty();
        }
        return Optional.of(PodManifestReader.fromPod(pod));
    }

    /**
     * A pod found by uid: its spec and its containers' runtime IDs ({@code status.containerStatuses[].containerID},
     * init and ephemeral containers included, without the {@code containerd://}/{@code cri-o://} scheme) → name.
     */
    public record ByUid(PodSpec spec, Map<String, String> containerNames) {
        public ByUid {
            containerNames = Map.copyOf(containerNames);
        }
    }

    /**
     * The pod with this uid if the cache holds it on this node, with the IDs of its containers as the kubelet last
     * reported them (a container that just started may not be listed yet).
     *
     * @throws InputException when the API's pod has an invalid field (the message names it)
     */
    public Optional<ByUid> byUid(String uid) throws InputException {
        if (informer == null || uid == null || uid.isEmpty()) {
            return Optional.empty();
        }
        for (Pod pod : informer.getIndexer().byIndex(UID_INDEX, uid)) {
            if (pod.getSpec() == null || !nodeName.equals(pod.getSpec().getNodeName())) {
                continue;
            }
            Map<String, String> names = new LinkedHashMap<>();
            if (pod.getStatus() != null) {
                for (var list : List.of(pod.getStatus().getInitContainerStatuses(),
                        pod.getStatus().getContainerStatuses(), pod.getStatus().getEphemeralContainerStatuses())) {
                    for (ContainerStatus cs : list == null ? List.<ContainerStatus>of() : list) {
                        String id = runtimeId(cs.getContainerID());
                        if (id != null && cs.getName() != null) {
                            names.put(id, cs.getName());
                        }
                    }
                }
            }
            return Optional.of(new ByUid(PodManifestReader.fromPod(pod), names));
        }
        return Optional.empty();
    }

    /** {@code containerd://ID}, {@code cri-o://ID}, {@code docker://ID} → ID; null when absent or malformed. */
    static String runtimeId(String containerId) {
        if (containerId == null) {
            return null;
        }
        int at = containerId.indexOf("://");
        String id = at < 0 ? containerId : containerId.substring(at + 3);
        return id.isEmpty() || id.contains("/") ? null : id;
    }

    @Override
    public void close() {
        if (informer != null) {
            informer.close();
        }
    }
}
