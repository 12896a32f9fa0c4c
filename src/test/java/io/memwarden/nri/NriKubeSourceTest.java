package io.memwarden.nri;

import static io.memwarden.nri.NriFixtures.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.memwarden.k8s.NodePods;
import io.memwarden.k8s.NodePodsTest;
import io.memwarden.nri.api.ConfigureRequest;
import io.memwarden.nri.api.ConfigureResponse;
import io.memwarden.nri.api.ContainerState;
import io.memwarden.nri.api.CreateContainerRequest;
import io.memwarden.nri.api.CreateContainerResponse;
import io.memwarden.nri.api.PodSandbox;
import io.memwarden.policy.WardenConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The plugin with the Kubernetes API pod-spec source (fabric8 mock server, CRUD mode). */
@EnableKubernetesMockClient(crud = true)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NriKubeSourceTest {
    KubernetesClient client;

    /** Close the client (and its watches) before the extension shuts the mock server down. */
    @org.junit.jupiter.api.AfterEach
    void closeClient() {
        client.close();
    }

    @TempDir
    Path dir;

    @Test
    void aPodThatArrivesShortlyAfterTheContainerIsWaitedForAndOneThatNeverDoesFallsBack() throws Exception {
        try (FakeRuntime rt = new FakeRuntime(dir); NodePods pods = new NodePods(client, "node-a", false)) {
            pods.start(Duration.ofSeconds(20));
            // warm the client up: its first create takes about a second (serializer set-up), the watch then ~20 ms
            client.pods().inNamespace("shop").resource(NodePodsTest.pod("shop", "warm", "node-a", "1Gi")).create();
            while (pods.find("shop", "warm", "").isEmpty()) {
                Thread.sleep(10);
            }
            NriPlugin plugin = new NriPlugin(NriPlugin.Options.DEFAULTS, V2, kubelet(), WardenConfig.DEFAULTS,
                    new LookupPodSource("kubernetes API", pods::find));
            Thread runner = Thread.ofPlatform().daemon().start(() -> {
                try {
                    plugin.runExternal(rt.socket);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            try {
                FakeRuntime.Session s = rt.accept().autoRegister();
                s.callOk("Configure", ConfigureRequest.newBuilder().setRequestTimeout(2000).build(),
                        ConfigureResponse.parser());

                Pod api = NodePodsTest.pod("shop", "web", "node-a", "1Gi");
                api.getMetadata().setAnnotations(Map.of());
                Thread.ofVirtual().start(() -> {
                    try {
                        Thread.sleep(150);
                        client.pods().inNamespace("shop").resource(api).create();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                PodSandbox web = sandbox("p-web", "shop", "web", "", Map.of(), "kubepods-burstable-pweb.slice");
                CreateContainerResponse resp = s.callOk("CreateContainer", CreateContainerRequest.newBuilder()
                        .setPod(web).setContainer(container("c-web", "p-web", "app", GI,
                                ContainerState.CONTAINER_CREATED)).build(), CreateContainerResponse.parser());
                var linux = resp.getAdjust().getLinux();
                // the API's request (64Mi) is known: LimitedSwap 64Mi/16Gi of 4Gi swap = 16Mi, and oom_score_adj
                assertThat(linux.getResources().getUnifiedMap()).containsEntry("memory.swap.max",
                        Long.toString(16 * MI));
                assertThat(linux.hasOomScoreAdj()).isTrue();

                long t0 = System.nanoTime();
                PodSandbox ghost = sandbox("p-g", "shop", "ghost", "", Map.of(), "kubepods-burstable-pg.slice");
                CreateContainerResponse fallback = s.callOk("CreateContainer", CreateContainerRequest.newBuilder()
                        .setPod(ghost).setContainer(container("c-g", "p-g", "app", GI,
                                ContainerState.CONTAINER_CREATED)).build(), CreateContainerResponse.parser());
                long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                assertThat(millis).as("bounded wait, well under the 2 s request timeout").isBetween(400L, 1500L);
                assertThat(fallback.getAdjust().getLinux().hasOomScoreAdj()).as("degraded").isFalse();
            } finally {
                plugin.stop();
                runner.join(5000);
            }
        }
    }
}
