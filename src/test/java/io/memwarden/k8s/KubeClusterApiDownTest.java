package io.memwarden.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.memwarden.model.Clock;
import io.memwarden.model.OomEvent;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** KubeCluster when the API server is not there (connection refused) or does not answer: no exception, logged. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
public class KubeClusterApiDownTest {

    static KubernetesClient clientFor(int port) {
        return new KubernetesClientBuilder().withConfig(new ConfigBuilder().withMasterUrl("http://127.0.0.1:" + port)
                .withConnectionTimeout(2000).withRequestTimeout(2000).withRequestRetryBackoffLimit(0)
                .withNamespace("default").build()).build();
    }

    static int closedPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Test
    void everyActionReturnsAndIsLoggedAndCounted() throws Exception {
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream err = System.err;
        KubeCluster.Stats stats;
        ClusterActions.EvictionOutcome out;
        try (KubernetesClient client = clientFor(closedPort())) {
            System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8)); // slf4j-simple writes here
            try (KubeCluster cluster = new KubeCluster(client, "node-a", KubeCluster.Options.defaults()
                    .withRequestTimeout(Duration.ofSeconds(2)), Clock.SYSTEM)) {
                cluster.podEvent("shop", "web", "Warning", "MemwardenOffload", "offloaded 12Mi");
                cluster.systemOom(new OomEvent(1, "x", "/", "/", true, "", 1));
                out = cluster.evict("shop", "web", "m");
                cluster.markNode("LimitedSwap", true, true, true);
                assertThat(cluster.flush(Duration.ofSeconds(30))).isTrue();
                stats = cluster.stats();
            }
        } finally {
            System.setErr(err);
        }
        String log = captured.toString(StandardCharsets.UTF_8);
        assertThat(out.evicted()).isFalse();
        assertThat(out.detail()).startsWith("eviction of shop/web failed: Kubernetes API unreachable");
        assertThat(stats.eventsFailed()).isEqualTo(2);
        assertThat(stats.eventsCreated()).isZero();
        assertThat(stats.evictionsFailed()).isEqualTo(1);
        assertThat(stats.nodeFailures()).isEqualTo(1);
        assertThat(log).contains("could not create event Warning MemwardenOffload on Pod shop/web")
                .contains("could not create event Warning SystemOOM on Node node-a")
                .contains("eviction of shop/web failed")
                .contains("could not read node node-a");
    }

    @Test
    void aFullQueueDropsAndCountsInsteadOfBlocking() throws Exception {
        // a server that accepts connections and never answers: the sender is stuck on its first event
        ServerSocket blackhole = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        {
            List<Socket> accepted = new ArrayList<>();
            Thread acceptor = Thread.ofPlatform().daemon().start(() -> {
                try {
                    while (true) {
                        accepted.add(blackhole.accept());
                    }
                } catch (Exception e) {
                    // closed
                }
            });
            try (KubernetesClient client = clientFor(blackhole.getLocalPort());
                 KubeCluster cluster = new KubeCluster(client, "node-a", KubeCluster.Options.defaults()
                         .withQueueCapacity(2).withRequestTimeout(Duration.ofSeconds(2)), Clock.SYSTEM)) {
                for (int i = 0; i < 10; i++) {
                    cluster.nodeEvent("Warning", "MemwardenConfigRejected", "bad config " + i);
                }
                // at most one event in flight and two queued: at least seven dropped
                assertThat(cluster.stats().eventsDropped()).isGreaterThanOrEqualTo(7);
                assertThat(cluster.flush(Duration.ofSeconds(30))).isTrue();
                KubeCluster.Stats s = cluster.stats();
                assertThat(s.eventsDropped() + s.eventsFailed()).isEqualTo(10);
            } finally {
                blackhole.close();
                acceptor.join(5000);
                for (Socket s : accepted) {
                    s.close();
                }
            }
        }
    }
}
