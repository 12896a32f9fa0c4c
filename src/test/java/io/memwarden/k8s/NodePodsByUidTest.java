package io.memwarden.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The standalone agent's lookup: a pod of this node by uid, with its containers' runtime IDs from its status. */
@EnableKubernetesMockClient(crud = true)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NodePodsByUidTest {
    KubernetesClient client;

    @AfterEach
    void closeClient() {
        client.close();
    }

    @Test
    void findsThePodByUidWithTheIdsOfItsContainersAsTheStatusReportsThem() throws Exception {
        Pod created = client.pods().inNamespace("shop").resource(NodePodsTest.pod("shop", "web", "node-a", "1Gi"))
                .create();
        Pod other = client.pods().inNamespace("shop").resource(NodePodsTest.pod("shop", "far", "node-b", "1Gi"))
                .create();
        String uid = created.getMetadata().getUid();
        try (NodePods pods = new NodePods(client, "node-a", false)) {
            assertThat(pods.start(Duration.ofSeconds(20))).isTrue();
            Optional<NodePods.ByUid> found = await(pods, uid, 0);
            assertThat(found).hasValueSatisfying(p -> {
                assertThat(p.spec().key()).isEqualTo("shop/web");
                assertThat(p.containerNames()).isEmpty(); // no status yet
            });
            assertThat(pods.byUid(other.getMetadata().getUid())).isEmpty(); // another node's
            assertThat(pods.byUid("no-such-uid")).isEmpty();

            Pod withStatus = new PodBuilder(created).editOrNewStatus()
                    .addToInitContainerStatuses(new ContainerStatusBuilder().withName("init")
                            .withContainerID("containerd://" + "1".repeat(64)).build())
                    .addToContainerStatuses(new ContainerStatusBuilder().withName("app")
                            .withContainerID("cri-o://" + "2".repeat(64)).build(),
                            new ContainerStatusBuilder().withName("starting").build()) // no ID yet
                    .endStatus().build();
            client.pods().inNamespace("shop").resource(withStatus).updateStatus();
            assertThat(await(pods, uid, 2)).hasValueSatisfying(p -> assertThat(p.containerNames())
                    .isEqualTo(Map.of("1".repeat(64), "init", "2".repeat(64), "app")));
        }
    }

    @Test
    void runtimeIds() {
        assertThat(NodePods.runtimeId("containerd://abc")).isEqualTo("abc");
        assertThat(NodePods.runtimeId("docker://abc")).isEqualTo("abc");
        assertThat(NodePods.runtimeId("abc")).isEqualTo("abc");
        assertThat(NodePods.runtimeId("containerd://")).isNull();
        assertThat(NodePods.runtimeId(null)).isNull();
        assertThat(NodePods.runtimeId("x://a/b")).isNull();
    }

    static Optional<NodePods.ByUid> await(NodePods pods, String uid, int ids) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        Optional<NodePods.ByUid> p = pods.byUid(uid);
        while ((p.isEmpty() || p.get().containerNames().size() < ids) && System.nanoTime() < deadline) {
            Thread.sleep(20);
            p = pods.byUid(uid);
        }
        return p;
    }
}
