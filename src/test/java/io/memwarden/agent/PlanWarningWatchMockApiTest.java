package io.memwarden.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.memwarden.input.PodManifestReader;
import io.memwarden.input.WardenConfigReader;
import io.memwarden.k8s.KubeCluster;
import io.memwarden.model.CgroupVersion;
import io.memwarden.model.Clock;
import io.memwarden.model.NodeFacts;
import io.memwarden.model.PodSpec;
import io.memwarden.policy.KubeletSettings;
import io.memwarden.policy.PlanWarnings;
import io.memwarden.policy.WardenConfig;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The agent's warnings before surprises against fabric8's mock API server (CRUD mode): the demo pod on a
 * node without swap is one MemwardenSwapUnavailable Warning event on the Node, said once while it stands (the same
 * pods and swap again: no second event), gone when swap is turned on (the gauge back to 0), said again when swap goes
 * off again; with events off, only the log.
 */
@EnableKubernetesMockClient(crud = true)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PlanWarningWatchMockApiTest {
    static final long GI = 1L << 30;
    KubernetesMockServer server;
    KubernetesClient client;
    KubeCluster cluster;

    @AfterEach
    void tearDown() {
        if (cluster != null) {
            cluster.close();
        }
        client.close();
    }

    static final Clock FIXED = new Clock() {
        @Override
        public long millis() {
            return Instant.parse("2026-12-07T23:00:00Z").toEpochMilli();
        }

        @Override
        public Instant now() {
            return Instant.parse("2026-12-07T23:00:00Z");
        }
    };

    List<Event> nodeEvents() {
        assertThat(cluster.flush(Duration.ofSeconds(20))).as("events sent").isTrue();
        return client.v1().events().inNamespace("default").list().getItems().stream()
                .filter(e -> "Node".equals(e.getInvolvedObject().getKind())).toList();
    }

    @Test
    void theDemoWithoutSwapIsOneNodeEventOncePerChange() throws Exception {
        cluster = new KubeCluster(client, "node-a", KubeCluster.Options.defaults(), FIXED);
        List<String> log = new ArrayList<>();
        PlanWarningWatch watch = new PlanWarningWatch(cluster, log::add);
        NodeFacts node = new NodeFacts(16 * GI, 0, CgroupVersion.V2, true, 4096, null, "6.12.0");
        WardenConfig cfg = WardenConfigReader.read(Path.of("examples/demo/memwarden.yaml"));
        List<PodSpec> pods = PodManifestReader.read(Path.of("examples/demo/pod.yaml")).pods();

        List<PlanWarnings.Warning> said = watch.check(node, KubeletSettings.DEFAULTS, cfg, pods, 0, true);
        assertThat(said).extracting(PlanWarnings.Warning::kind).containsExactly(PlanWarnings.Kind.SWAP_UNAVAILABLE);
        List<Event> evs = nodeEvents();
        assertThat(evs).singleElement().satisfies(e -> {
            assertThat(e.getType()).isEqualTo("Warning");
            assertThat(e.getReason()).isEqualTo("MemwardenSwapUnavailable");
            assertThat(e.getInvolvedObject().getName()).isEqualTo("node-a");
            assertThat(e.getMessage()).startsWith("2 container(s) may swap but the node has no swap on:"
                    + " demo/swap-demo/c0-lowprio (unlimited), demo/swap-demo/c1-normal (unlimited)")
                    .contains("memwarden swap file create --size=");
        });
        assertThat(log).singleElement().asString().startsWith("warning: 2 container(s) may swap");
        assertThat(watch.counts()).containsEntry(PlanWarnings.Kind.SWAP_UNAVAILABLE, 1)
                .containsEntry(PlanWarnings.Kind.SWAP_TOO_SMALL, 0);
        PrometheusRegistry registry = new PrometheusRegistry();
        new AgentMetrics().registerWarnings(registry, watch::counts);
        assertThat(scrape(registry)).contains("memwarden_warnings{kind=\"swap_unavailable\"} 1.0",
                "memwarden_warnings{kind=\"swap_too_small\"} 0.0",
                "memwarden_warnings{kind=\"memory_min_overcommitted\"} 0.0",
                "memwarden_warnings{kind=\"guaranteed_unprotected\"} 0.0");

        // the same pods and swap: nothing said again
        assertThat(watch.check(node, KubeletSettings.DEFAULTS, cfg, pods, 0, true)).isEmpty();
        assertThat(nodeEvents()).singleElement().satisfies(e -> assertThat(e.getCount()).isEqualTo(1));

        // swap on: the warning is gone
        assertThat(watch.check(node, KubeletSettings.DEFAULTS, cfg, pods, 4 * GI, true)).isEmpty();
        assertThat(watch.counts()).containsEntry(PlanWarnings.Kind.SWAP_UNAVAILABLE, 0);
        assertThat(scrape(registry)).contains("memwarden_warnings{kind=\"swap_unavailable\"} 0.0");

        // swap off again: said again (the correlator counts the repeat on the same event)
        assertThat(watch.check(node, KubeletSettings.DEFAULTS, cfg, pods, 0, true)).hasSize(1);
        assertThat(nodeEvents()).singleElement().satisfies(e -> assertThat(e.getCount()).isEqualTo(2));
        assertThat(log).hasSize(2);
    }

    static String scrape(PrometheusRegistry r) throws java.io.IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new PrometheusTextFormatWriter(false).write(out, r.scrape());
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void eventsOffLogsOnly() throws Exception {
        cluster = new KubeCluster(client, "node-a", KubeCluster.Options.defaults(), FIXED);
        List<String> log = new ArrayList<>();
        PlanWarningWatch watch = new PlanWarningWatch(cluster, log::add);
        NodeFacts node = new NodeFacts(16 * GI, 0, CgroupVersion.V2, true, 4096, null, "6.12.0");
        WardenConfig cfg = WardenConfigReader.read(Path.of("examples/demo/memwarden.yaml"));
        List<PodSpec> pods = PodManifestReader.read(Path.of("examples/demo/pod.yaml")).pods();
        assertThat(watch.check(node, KubeletSettings.DEFAULTS, cfg, pods, 0, false)).hasSize(1);
        assertThat(log).hasSize(1);
        assertThat(nodeEvents()).isEmpty();
    }
}
