package io.memwarden.nri;

import static io.memwarden.nri.NriFixtures.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.memwarden.model.Clock;
import io.memwarden.k8s.NodePods;
import io.memwarden.k8s.NodePodsTest;
import io.memwarden.nri.api.ContainerState;
import io.memwarden.nri.api.PodSandbox;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The Kubernetes API's pod cache tells a call waiting for its pod when the pod arrives: under a clock that never
 * moves, only that signal can end the wait.
 */
@EnableKubernetesMockClient(crud = true)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NodePodsArrivalTest {
    KubernetesClient client;

    @AfterEach
    void closeClient() {
        client.close();
    }

    @Test
    void aWaitingCallLooksAgainWhenTheCacheLearnsItsPod() throws Exception {
        try (NodePods pods = new NodePods(client, "node-a", false)) {
            assertThat(pods.start(Duration.ofSeconds(20))).isTrue();
            Clock frozen = () -> 0;
            AtomicInteger lookups = new AtomicInteger();
            LookupPodSource.Lookup counted = (ns, name, uid) -> {
                lookups.incrementAndGet();
                return pods.find(ns, name, uid);
            };
            PodResolver resolver = new PodResolver(new LookupPodSource("kubernetes API", counted, pods::onChange),
                    frozen, Duration.ofMillis(500), () -> Duration.ofSeconds(2));
            PodSandbox web = sandbox("p-web", "shop", "web", "", Map.of(), "kubepods-burstable-pweb.slice");
            PodQuery q = new PodQuery(web, List.of(), container("c-web", "p-web", "app", GI,
                    ContainerState.CONTAINER_CREATED));
            CompletableFuture<ResolvedPod> f = new CompletableFuture<>();
            Thread.ofVirtual().start(() -> f.complete(resolver.resolve(q, true)));

            while (lookups.get() == 0) {
                Thread.sleep(1); // until the call has looked once and waits
            }
            Pod api = NodePodsTest.pod("shop", "web", "node-a", "1Gi");
            api.getMetadata().setAnnotations(Map.of());
            client.pods().inNamespace("shop").resource(api).create();
            ResolvedPod r = f.get(30, TimeUnit.SECONDS);
            assertThat(r.degraded()).isFalse();
            assertThat(r.source()).isEqualTo("kubernetes API");
        }
    }
}
