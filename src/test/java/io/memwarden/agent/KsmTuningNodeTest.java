package io.memwarden.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.memwarden.control.KubevirtKsm;
import io.memwarden.k8s.KubeCluster;
import io.memwarden.kernel.Ksm;
import io.memwarden.loops.KsmLoop;
import io.memwarden.model.Clock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's KSM tuner in Kubernetes mode (docs/vm-nodes.md "KSM tuner"): virt-handler's override annotations and
 * KSM label/annotation read from this Node through {@link KubeCluster} (fabric8's mock API server, CRUD mode), over a
 * fake KSM directory.
 */
@EnableKubernetesMockClient(crud = true)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class KsmTuningNodeTest {
    KubernetesMockServer server;
    KubernetesClient client;
    KubeCluster cluster;
    @TempDir
    Path tmp;
    final List<String> log = new ArrayList<>();
    final long[] now = {0};

    @BeforeEach
    void setUp() {
        cluster = new KubeCluster(client, "node-a", KubeCluster.Options.defaults(), Clock.SYSTEM);
        client.nodes().resource(new NodeBuilder().withNewMetadata().withName("node-a").endMetadata().build()).create();
    }

    @AfterEach
    void tearDown() {
        cluster.close();
        client.close();
    }

    void annotate(Map<String, String> ann) {
        client.nodes().withName("node-a").edit(n -> new NodeBuilder(n).editMetadata().withAnnotations(ann)
                .endMetadata().build());
    }

    void label(String k, String v) {
        client.nodes().withName("node-a").edit(n -> new NodeBuilder(n).editMetadata().addToLabels(k, v)
                .endMetadata().build());
    }

    /** KSM stopped, a 16 GiB node under pressure (MemAvailable 1 GB). */
    Ksm stoppedKsmUnderPressure() throws IOException {
        Path ksm = Files.createDirectories(tmp.resolve("sys/kernel/mm/ksm"));
        Files.writeString(ksm.resolve("run"), "0\n");
        Files.writeString(ksm.resolve("pages_to_scan"), "100\n");
        Files.writeString(ksm.resolve("sleep_millisecs"), "20\n");
        for (String f : List.of("pages_shared", "pages_sharing", "pages_unshared", "pages_volatile", "full_scans")) {
            Files.writeString(ksm.resolve(f), "0\n");
        }
        Files.writeString(ksm.resolve("advisor_mode"), "[none] scan-time\n");
        Files.createDirectories(tmp.resolve("proc"));
        Files.writeString(tmp.resolve("proc/meminfo"), "MemTotal: 16777216 kB\nMemFree: 1000000 kB\n"
                + "MemAvailable: 1000000 kB\n");
        return new Ksm(tmp.resolve("proc"), tmp.resolve("sys"));
    }

    long ksm(String file) throws IOException {
        return Long.parseLong(Files.readString(tmp.resolve("sys/kernel/mm/ksm/" + file)).strip());
    }

    KsmTuning tuning() throws IOException {
        return KsmTuning.create(stoppedKsmUnderPressure(), AgentConfig.Ksm.DEFAULTS, false, () -> now[0], log::add,
                cluster::nodeMetadata);
    }

    @Test
    void overrideAnnotationsFeedTheKubevirtPolicy() throws Exception {
        annotate(Map.of("kubevirt.io/ksm-pages-init-override", "333", "kubevirt.io/ksm-sleep-ms-baseline-override",
                "50"));
        KsmTuning t = tuning();
        KsmLoop.Pass p = t.onePass();
        // virt-handler starts with pages-init: 333 from the node instead of the config's 100; sleep from baseline 50
        assertThat(p.written()).containsExactly("sleep_millisecs=53", "pages_to_scan=333", "run=1");
        assertThat(ksm("pages_to_scan")).isEqualTo(333);
        assertThat(t.settings()).isEqualTo(new KubevirtKsm.Settings(300, -50, 64, 1250, 333, 50, 0.2f));
        assertThat(log).anyMatch(l -> l.startsWith("KSM: kubevirt settings pagesBoost 300, pagesDecay -50, pagesMin"
                + " 64, pagesMax 1250, pagesInit 333, sleepMsBaseline 50, freePercent 0.2 (the config's with the"
                + " node's kubevirt.io/ksm-*-override annotations)"));
        // the node's annotations change: boost 17, and init and the baseline back to the config's
        annotate(Map.of("kubevirt.io/ksm-pages-boost-override", "17"));
        assertThat(t.onePass().written()).containsExactly("sleep_millisecs=106", "pages_to_scan=350");
    }

    @Test
    void aBadAnnotationIsAWarningAndTheConfigsValueIsKept() throws Exception {
        annotate(Map.of("kubevirt.io/ksm-pages-init-override", "many"));
        KsmTuning t = tuning();
        assertThat(t.onePass().written()).containsExactly("sleep_millisecs=106", "run=1"); // init 100 = the file's
        assertThat(log).containsOnlyOnce("KSM: warning: node annotation kubevirt.io/ksm-pages-init-override=\"many\""
                + " is not an integer: memwarden keeps its configured 100");
        t.onePass();
        assertThat(log.stream().filter(l -> l.contains("warning")).count()).as("logged once").isEqualTo(1);
    }

    @Test
    void virtHandlerManagingKsmMakesMemwardenObserveOnly() throws Exception {
        annotate(Map.of("kubevirt.io/ksm-handler-managed", "true"));
        KsmTuning t = tuning();
        KsmLoop.Pass p = t.onePass();
        assertThat(p.written()).isEmpty();
        assertThat(p.observeOnly()).startsWith("KubeVirt's virt-handler switched KSM on on this node");
        assertThat(ksm("run")).isZero();
        // the claim lifted (annotation false, label not set): memwarden tunes
        annotate(Map.of("kubevirt.io/ksm-handler-managed", "false"));
        assertThat(t.onePass().written()).containsExactly("sleep_millisecs=106", "run=1");
        assertThat(log).contains("KSM: KubeVirt's virt-handler no longer claims KSM on this node");
        // the node label claims it again
        label("kubevirt.io/ksm-enabled", "true");
        KsmLoop.Pass q = t.onePass();
        assertThat(q.written()).isEmpty();
        assertThat(q.observeOnly()).startsWith("KubeVirt's virt-handler tunes KSM on this node (node label");
    }

    @Test
    void withoutANodeTheConfigHolds() throws Exception {
        KsmTuning t = KsmTuning.create(stoppedKsmUnderPressure(), AgentConfig.Ksm.DEFAULTS, false, () -> now[0],
                log::add, () -> null);
        assertThat(t.onePass().written()).containsExactly("sleep_millisecs=106", "run=1");
        assertThat(t.settings()).isEqualTo(KubevirtKsm.Settings.DEFAULTS);
        assertThat(log).isEmpty();
    }
}
