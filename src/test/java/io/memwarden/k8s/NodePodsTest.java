package io.memwarden.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.memwarden.input.InputException;
import io.memwarden.model.PodSpec;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The node's pod cache against fabric8's mock API server in CRUD mode. The mock does not implement the
 * {@code spec.nodeName} field selector (it lists nothing), so these tests watch every pod and exercise the
 * client-side node check.
 */
@EnableKubernetesMockClient(crud = true)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
public class NodePodsTest {
    KubernetesClient client;

    /** Close the client (and its watches) before the extension shuts the mock server down. */
    @org.junit.jupiter.api.AfterEach
    void closeClient() {
        client.close();
    }

    public static Pod pod(String ns, String name, String node, String memLimit) {
        return new PodBuilder().withNewMetadata().withNamespace(ns).withName(name).withUid("uid-" + name)
                .addToAnnotations("swap-behavior.memwarden.io", "NoSwap").endMetadata()
                .withNewSpec().withNodeName(node).addNewContainer().withName("app").withImage("busybox")
                .withNewResources().addToLimits("memory", new Quantity(memLimit))
                .addToRequests("memory", new Quantity("64Mi")).endResources().endContainer().endSpec().build();
    }

    static Optional<PodSpec> await(NodePods pods, String ns, String name) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        Optional<PodSpec> p = pods.find(ns, name, "");
        while (p.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(20);
            p = pods.find(ns, name, "");
        }
        return p;
    }

    @Test
    void cachesThisNodesPodsAndFollowsChanges() throws Exception {
        Pod created = client.pods().inNamespace("shop").resource(pod("shop", "web", "node-a", "1Gi")).create();
        client.pods().inNamespace("shop").resource(pod("shop", "elsewhere", "node-b", "1Gi")).create();
        try (NodePods pods = new NodePods(client, "node-a", false)) {
            assertThat(pods.start(Duration.ofSeconds(20))).isTrue();
            PodSpec web = await(pods, "shop", "web").orElseThrow();
            assertThat(web.uid()).isEqualTo(created.getMetadata().getUid()); // the API server assigns uids
            assertThat(web.containers().getFirst().resources().memoryLimit()).isEqualTo(1L << 30);
            assertThat(web.containers().getFirst().resources().memoryRequest()).isEqualTo(64L << 20);
            assertThat(web.annotations()).containsEntry("swap-behavior.memwarden.io", "NoSwap");
            assertThat(pods.find("shop", "elsewhere", "")).as("another node's pod").isEmpty();
            assertThat(pods.find("shop", "web", created.getMetadata().getUid())).isPresent();
            assertThat(pods.find("shop", "web", "uid-other")).as("a recreated pod (other uid)").isEmpty();

            client.pods().inNamespace("shop").resource(pod("shop", "late", "node-a", "2Gi")).create();
            assertThat(await(pods, "shop", "late")).isPresent();

            // an invalid pod from the API is reported with its field
            Pod bad = pod("shop", "bad", "node-a", "1Gi");
            bad.getSpec().getContainers().getFirst().getResources().setRequests(Map.of("memory", new Quantity("2Gi")));
            client.pods().inNamespace("shop").resource(bad).create();
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < until) {
                try {
                    pods.find("shop", "bad", "");
                    Thread.sleep(20);
                } catch (InputException e) {
                    break;
                }
            }
            assertThatThrownBy(() -> pods.find("shop", "bad", "")).isInstanceOf(InputException.class)
                    .hasMessageContaining("requests.memory");

            client.pods().inNamespace("shop").withName("web").delete();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (pods.find("shop", "web", "").isPresent() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(pods.find("shop", "web", "")).isEmpty();
        }
    }
}
