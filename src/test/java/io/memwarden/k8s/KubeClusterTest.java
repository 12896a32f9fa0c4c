package io.memwarden.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.memwarden.model.Clock;
import io.memwarden.model.OomEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * KubeCluster against fabric8's mock API server in CRUD mode (events, pods, nodes); the eviction subresource,
 * which CRUD mode does not implement, is answered by expectations (the mixed dispatcher tries them first).
 */
@EnableKubernetesMockClient(crud = true)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
public class KubeClusterTest {
    KubernetesMockServer server;
    KubernetesClient client;

    static final Instant T0 = Instant.parse("2026-11-23T10:00:00Z");
    final MutableClock clock = new MutableClock(T0);
    KubeCluster cluster;

    static final class MutableClock implements Clock {
        volatile Instant now;

        MutableClock(Instant now) {
            this.now = now;
        }

        @Override
        public long millis() {
            return now.toEpochMilli();
        }

        @Override
        public Instant now() {
            return now;
        }

        void advance(Duration d) {
            now = now.plus(d);
        }
    }

    @BeforeEach
    void setUp() {
        cluster = new KubeCluster(client, "node-a", KubeCluster.Options.defaults(), clock);
    }

    @AfterEach
    void tearDown() {
        cluster.close();
        client.close();
    }

    Pod createPod(String ns, String name) {
        return client.pods().inNamespace(ns).resource(new PodBuilder().withNewMetadata().withNamespace(ns)
                .withName(name).endMetadata().withNewSpec().withNodeName("node-a").addNewContainer().withName("app")
                .withImage("busybox").endContainer().endSpec().build()).create();
    }

    List<Event> events(String ns) {
        assertThat(cluster.flush(Duration.ofSeconds(20))).as("events sent").isTrue();
        return client.v1().events().inNamespace(ns).list().getItems().stream()
                .sorted(Comparator.comparing(e -> e.getMetadata().getName())).toList();
    }

    @Test
    void systemOomIsAWarningOnTheNodeWithTheKubeletsReasonAndMessage() {
        cluster.systemOom(new OomEvent(4242, "stress-ng", "/user.slice", "/", true, "CONSTRAINT_NONE", 1));
        // a container's limit is not a system OOM: no event (kubelet-semantics.md §6)
        cluster.systemOom(new OomEvent(77, "app", "/kubepods/burstable/pod1/c1", "/kubepods/burstable/pod1/c1",
                false, "CONSTRAINT_MEMCG", 2));

        List<Event> evs = events("default");
        assertThat(evs).hasSize(1);
        Event e = evs.getFirst();
        assertThat(e.getType()).isEqualTo("Warning");
        assertThat(e.getReason()).isEqualTo("SystemOOM");
        assertThat(e.getMessage()).isEqualTo("System OOM encountered, victim process: stress-ng, pid: 4242");
        assertThat(e.getInvolvedObject().getKind()).isEqualTo("Node");
        assertThat(e.getInvolvedObject().getName()).isEqualTo("node-a");
        assertThat(e.getInvolvedObject().getUid()).as("the kubelet's nodeRef uid").isEqualTo("node-a");
        assertThat(e.getSource().getComponent()).isEqualTo("memwarden");
        assertThat(e.getSource().getHost()).isEqualTo("node-a");
        assertThat(e.getReportingComponent()).isEqualTo("memwarden");
        assertThat(e.getCount()).isEqualTo(1);
        assertThat(e.getFirstTimestamp()).isEqualTo("2026-11-23T10:00:00Z");
        assertThat(e.getLastTimestamp()).isEqualTo("2026-11-23T10:00:00Z");
        assertThat(e.getMetadata().getName()).startsWith("node-a.");
        assertThat(cluster.stats().eventsCreated()).isEqualTo(1);
    }

    @Test
    void repeatsWithinTheWindowIncrementCountAndLastTimestamp() {
        Pod pod = createPod("shop", "web");
        cluster.podEvent("shop", "web", "Normal", "MemwardenThrottleRelief", "raised memory.high of app to 300Mi");
        assertThat(events("shop")).hasSize(1);
        clock.advance(Duration.ofMinutes(1));
        cluster.podEvent("shop", "web", "Normal", "MemwardenThrottleRelief", "raised memory.high of app to 300Mi");
        clock.advance(Duration.ofMinutes(9)); // 9 min after the last one: still the same series
        cluster.podEvent("shop", "web", "Normal", "MemwardenThrottleRelief", "raised memory.high of app to 300Mi");
        cluster.podEvent("shop", "web", "Normal", "MemwardenThrottleRelief", "raised memory.high of app to 400Mi");

        List<Event> evs = events("shop");
        assertThat(evs).hasSize(2);
        Event series = evs.stream().filter(e -> e.getMessage().endsWith("300Mi")).findFirst().orElseThrow();
        assertThat(series.getCount()).isEqualTo(3);
        assertThat(series.getFirstTimestamp()).isEqualTo("2026-11-23T10:00:00Z");
        assertThat(series.getLastTimestamp()).isEqualTo("2026-11-23T10:10:00Z");
        assertThat(series.getInvolvedObject().getKind()).isEqualTo("Pod");
        assertThat(series.getInvolvedObject().getNamespace()).isEqualTo("shop");
        assertThat(series.getInvolvedObject().getUid()).as("looked up from the API")
                .isEqualTo(pod.getMetadata().getUid());
        assertThat(evs.stream().filter(e -> e.getMessage().endsWith("400Mi")).findFirst().orElseThrow().getCount())
                .isEqualTo(1);

        clock.advance(Duration.ofMinutes(11)); // past the window: a new Event
        cluster.podEvent("shop", "web", "Normal", "MemwardenThrottleRelief", "raised memory.high of app to 300Mi");
        assertThat(events("shop")).hasSize(3);
        assertThat(cluster.stats().eventsUpdated()).isEqualTo(2);
        assertThat(cluster.stats().eventsCreated()).isEqualTo(3);
    }

    @Test
    void aUidGivenByTheCallerIsUsedWithoutReadingThePod() throws Exception {
        cluster.podEvent("shop", "web", "1f0c2a9e-0000-4000-8000-000000000001", "Warning", "MemwardenOomKill",
                "container app was OOM-killed at its limit");
        Event e = events("shop").getFirst();
        assertThat(e.getInvolvedObject().getUid()).isEqualTo("1f0c2a9e-0000-4000-8000-000000000001");
        for (RecordedRequest r = server.takeRequest(1, TimeUnit.SECONDS); r != null;
             r = server.takeRequest(1, TimeUnit.SECONDS)) {
            assertThat(r.getPath()).as("no pod read").doesNotContain("/pods/");
        }
    }

    @Test
    void anEventDeletedOnTheServerIsCreatedAgainWithItsCount() {
        createPod("shop", "web");
        cluster.podEvent("shop", "web", "Warning", "MemwardenOffload", "offloaded 12Mi");
        String name = events("shop").getFirst().getMetadata().getName();
        client.v1().events().inNamespace("shop").withName(name).delete(); // the API server's event TTL
        cluster.podEvent("shop", "web", "Warning", "MemwardenOffload", "offloaded 12Mi");
        List<Event> evs = events("shop");
        assertThat(evs).hasSize(1);
        assertThat(evs.getFirst().getMetadata().getName()).isEqualTo(name);
        assertThat(evs.getFirst().getCount()).isEqualTo(2);
    }

    @Test
    void theRateLimitDropsAnObjectsEventsBeyondTheBurstUntilRefilled() {
        createPod("shop", "web");
        createPod("shop", "db");
        for (int i = 0; i < 30; i++) {
            cluster.podEvent("shop", "web", "Warning", "MemwardenOffload", "offload " + i);
        }
        cluster.podEvent("shop", "db", "Warning", "MemwardenOffload", "offload 0"); // another object: own bucket
        List<Event> evs = events("shop");
        assertThat(evs.stream().filter(e -> e.getInvolvedObject().getName().equals("web"))).hasSize(25);
        assertThat(evs.stream().filter(e -> e.getInvolvedObject().getName().equals("db"))).hasSize(1);
        assertThat(cluster.stats().eventsRateLimited()).isEqualTo(5);

        clock.advance(Duration.ofMinutes(5)); // one token back
        cluster.podEvent("shop", "web", "Warning", "MemwardenOffload", "offload 30");
        cluster.podEvent("shop", "web", "Warning", "MemwardenOffload", "offload 31");
        assertThat(events("shop").stream().filter(e -> e.getInvolvedObject().getName().equals("web"))).hasSize(26);
        assertThat(cluster.stats().eventsRateLimited()).isEqualTo(6);
    }

    RecordedRequest evictionRequest() throws InterruptedException {
        for (RecordedRequest r = server.takeRequest(5, TimeUnit.SECONDS); r != null;
             r = server.takeRequest(5, TimeUnit.SECONDS)) {
            if (r.getPath().endsWith("/eviction")) {
                return r;
            }
        }
        throw new AssertionError("no eviction request");
    }

    @Test
    void evictionThroughPolicyV1AndAnEventWithTheMessage() throws Exception {
        createPod("shop", "web");
        server.expect().post().withPath("/api/v1/namespaces/shop/pods/web/eviction")
                .andReturn(201, new StatusBuilder().withStatus("Success").withCode(201).build()).once();
        String msg = EvictionMessage.kubeletStyleMessage("100Mi", 80L << 20,
                List.of(new EvictionMessage.ContainerUsage("app", 900L << 20, 256L << 20)));

        ClusterActions.EvictionOutcome out = cluster.evict("shop", "web", msg);

        assertThat(out.evicted()).isTrue();
        assertThat(out.detail()).contains("shop/web");
        RecordedRequest r = evictionRequest();
        assertThat(r.getMethod()).isEqualTo("POST");
        assertThat(r.getUtf8Body()).contains("\"apiVersion\":\"policy/v1\"").contains("\"kind\":\"Eviction\"")
                .contains("\"name\":\"web\"");
        Event e = events("shop").getFirst();
        assertThat(e.getReason()).isEqualTo("MemwardenEvicting");
        assertThat(e.getType()).isEqualTo("Warning");
        assertThat(e.getMessage()).isEqualTo("The node was low on resource: memory. Threshold quantity: 100Mi,"
                + " available: 80Mi. Container app was using 900Mi, request is 256Mi, has larger consumption of memory. ");
        assertThat(cluster.stats().evictions()).isEqualTo(1);
    }

    @Test
    void aDisruptionBudgetRefusalIsAnOutcomeNotAnException() throws Exception {
        createPod("shop", "web");
        server.expect().post().withPath("/api/v1/namespaces/shop/pods/web/eviction")
                .andReturn(429, new StatusBuilder().withStatus("Failure").withCode(429).withReason("TooManyRequests")
                        .withMessage("Cannot evict pod as it would violate the pod's disruption budget.").build())
                .once();

        ClusterActions.EvictionOutcome out = cluster.evict("shop", "web", "The node was low on resource: memory. ");

        assertThat(out.evicted()).isFalse();
        assertThat(out.detail()).contains("disruption budget").contains("shop/web").contains("429");
        assertThat(cluster.stats().evictionsRefused()).isEqualTo(1);
        assertThat(events("shop")).as("no MemwardenEvicting event for a refused eviction").isEmpty();
        assertThat(client.pods().inNamespace("shop").withName("web").get()).as("pod untouched").isNotNull();
        int evictionPosts = 0;
        for (RecordedRequest r = server.takeRequest(1, TimeUnit.SECONDS); r != null;
             r = server.takeRequest(1, TimeUnit.SECONDS)) {
            evictionPosts += r.getPath().endsWith("/eviction") ? 1 : 0;
        }
        assertThat(evictionPosts).as("one request: fabric8's retry of 429 is off").isEqualTo(1);
    }

    @Test
    void evictingAMissingPodIsNotEvictedWithDetail() {
        server.expect().post().withPath("/api/v1/namespaces/shop/pods/gone/eviction")
                .andReturn(404, new StatusBuilder().withStatus("Failure").withCode(404).withReason("NotFound")
                        .withMessage("pods \"gone\" not found").build()).once();
        ClusterActions.EvictionOutcome out = cluster.evict("shop", "gone", "m");
        assertThat(out.evicted()).isFalse();
        assertThat(out.detail()).isEqualTo("pod shop/gone not found (HTTP 404): nothing evicted");
        assertThat(cluster.stats().evictionsFailed()).isEqualTo(1);
    }

    @Test
    void nodeMetadataIsReadFromTheApi() {
        assertThat(cluster.nodeMetadata()).isNull(); // no such node yet: null, counted
        assertThat(cluster.stats().nodeFailures()).isEqualTo(1);
        createNode();
        client.nodes().withName("node-a").edit(n -> new NodeBuilder(n).editMetadata()
                .addToAnnotations("kubevirt.io/ksm-pages-boost-override", "200")
                .addToAnnotations("kubevirt.io/ksm-handler-managed", "true").endMetadata().build());
        ClusterActions.NodeMetadata m = cluster.nodeMetadata();
        assertThat(m.labels()).containsEntry("team", "db");
        assertThat(m.annotations()).containsEntry("kubevirt.io/ksm-pages-boost-override", "200")
                .containsEntry("kubevirt.io/ksm-handler-managed", "true");
        assertThat(cluster.stats().nodeFailures()).isEqualTo(1);
        assertThat(ClusterActions.NONE.nodeMetadata()).isNull();
    }

    @Test
    void kubeVirtObjectsAreReadAsJsonAndAbsentOnesAreNull() {
        assertThat(cluster.virtualMachineInstance("vms", "web")).isNull();
        assertThat(cluster.kubeVirt()).isNull();
        GenericKubernetesResource vmi = new GenericKubernetesResource();
        vmi.setApiVersion("kubevirt.io/v1");
        vmi.setKind("VirtualMachineInstance");
        vmi.setMetadata(new ObjectMetaBuilder().withName("web").withNamespace("vms").build());
        vmi.setAdditionalProperty("spec", Map.of("domain", Map.of("resources", Map.of("requests",
                Map.of("memory", "2Gi")))));
        String uid = client.genericKubernetesResources(KubeVirtObjects.VMIS).inNamespace("vms").resource(vmi).create()
                .getMetadata().getUid();
        GenericKubernetesResource kv = new GenericKubernetesResource();
        kv.setApiVersion("kubevirt.io/v1");
        kv.setKind("KubeVirt");
        kv.setMetadata(new ObjectMetaBuilder().withName("kubevirt").withNamespace("kubevirt").build());
        kv.setAdditionalProperty("spec", Map.of("configuration", Map.of("additionalGuestMemoryOverheadRatio", "1.5")));
        client.genericKubernetesResources(KubeVirtObjects.KUBEVIRTS).inNamespace("kubevirt").resource(kv).create();

        assertThat(cluster.virtualMachineInstance("vms", "web")).contains("\"kind\":\"VirtualMachineInstance\"")
                .contains("\"memory\":\"2Gi\"").contains("\"uid\":\"" + uid + "\"");
        assertThat(cluster.virtualMachineInstance("vms", "other")).isNull();
        assertThat(cluster.kubeVirt()).contains("\"additionalGuestMemoryOverheadRatio\":\"1.5\"");
        assertThat(ClusterActions.NONE.virtualMachineInstance("vms", "web")).isNull();
    }

    Node createNode() {
        return client.nodes().resource(new NodeBuilder().withNewMetadata().withName("node-a")
                .addToLabels("kubernetes.io/hostname", "node-a").addToLabels("team", "db").endMetadata()
                .withNewSpec().addNewTaint().withKey("dedicated").withValue("db").withEffect("NoSchedule").endTaint()
                .addNewTaint().withKey(KubeCluster.SWAP_KEY).withValue("x").withEffect("NoExecute").endTaint()
                .endSpec().build()).create();
    }

    Node node() {
        return client.nodes().withName("node-a").get();
    }

    static List<String> taints(Node n) {
        return n.getSpec().getTaints() == null ? List.of() : n.getSpec().getTaints().stream()
                .map(KubeClusterTest::taint).toList();
    }

    static String taint(Taint t) {
        return t.getKey() + "=" + t.getValue() + ":" + t.getEffect();
    }

    @Test
    void labelAndTaintAreSetAndRemovedIdempotentlyLeavingOthersAlone() {
        createNode();
        cluster.markNode("LimitedSwap", true, true, true);
        Node n = node();
        assertThat(n.getMetadata().getLabels()).containsEntry("memwarden.io/swap", "LimitedSwap")
                .containsEntry("kubernetes.io/hostname", "node-a").containsEntry("team", "db").hasSize(3);
        assertThat(taints(n)).containsExactly("dedicated=db:NoSchedule", "memwarden.io/swap=x:NoExecute",
                "memwarden.io/swap=LimitedSwap:NoSchedule");
        String rv = n.getMetadata().getResourceVersion();

        cluster.markNode("LimitedSwap", true, true, true); // again: nothing to write
        assertThat(node().getMetadata().getResourceVersion()).isEqualTo(rv);
        assertThat(cluster.stats().nodeWrites()).isEqualTo(1);

        cluster.markNode("NoSwap", true, true, true); // behaviour changed: replaced, not added
        assertThat(node().getMetadata().getLabels()).containsEntry("memwarden.io/swap", "NoSwap");
        assertThat(taints(node())).containsExactly("dedicated=db:NoSchedule", "memwarden.io/swap=x:NoExecute",
                "memwarden.io/swap=NoSwap:NoSchedule");

        cluster.markNode("NoSwap", false, true, true); // swap off: our taint goes, the label stays
        assertThat(taints(node())).containsExactly("dedicated=db:NoSchedule", "memwarden.io/swap=x:NoExecute");
        assertThat(node().getMetadata().getLabels()).containsEntry("memwarden.io/swap", "NoSwap");

        cluster.markNode("LimitedSwap", true, false, false); // both disabled: ours removed, the rest untouched
        assertThat(node().getMetadata().getLabels()).doesNotContainKey("memwarden.io/swap")
                .containsEntry("kubernetes.io/hostname", "node-a").containsEntry("team", "db");
        assertThat(taints(node())).containsExactly("dedicated=db:NoSchedule", "memwarden.io/swap=x:NoExecute");
        String rv2 = node().getMetadata().getResourceVersion();
        cluster.markNode("LimitedSwap", true, false, false);
        assertThat(node().getMetadata().getResourceVersion()).isEqualTo(rv2);
        assertThat(cluster.stats().nodeWrites()).isEqualTo(4);
        assertThat(cluster.stats().nodeFailures()).isZero();
    }

    @Test
    void aConcurrentNodeChangeIsReReadAndRetried() throws Exception {
        createNode();
        // the API server answers a JSON Patch whose resourceVersion test fails with 422 (apiserver patch.go)
        server.expect().patch().withPath("/api/v1/nodes/node-a")
                .andReturn(422, new StatusBuilder().withStatus("Failure").withCode(422)
                        .withMessage("testing value /metadata/resourceVersion failed").build()).once();
        cluster.markNode("LimitedSwap", true, true, true);
        assertThat(node().getMetadata().getLabels()).containsEntry("memwarden.io/swap", "LimitedSwap");
        assertThat(taints(node())).contains("memwarden.io/swap=LimitedSwap:NoSchedule");
        assertThat(cluster.stats().nodeWrites()).isEqualTo(1);
        assertThat(cluster.stats().nodeFailures()).isZero();

        // the refused first patch: a JSON Patch that tests the resourceVersion it read
        RecordedRequest first = null;
        for (RecordedRequest r = server.takeRequest(5, TimeUnit.SECONDS); r != null && first == null;
             r = server.takeRequest(1, TimeUnit.SECONDS)) {
            if (r.getMethod().equals("PATCH")) {
                first = r;
            }
        }
        assertThat(first).isNotNull();
        assertThat(first.getHeader("Content-Type")).startsWith("application/json-patch+json");
        assertThat(first.getUtf8Body()).contains("{\"op\":\"test\",\"path\":\"/metadata/resourceVersion\"")
                .contains("\"path\":\"/metadata/labels/memwarden.io~1swap\"").contains("\"path\":\"/spec/taints\"");
    }

    @Test
    void aMissingNodeIsLoggedAndCounted() {
        cluster.markNode("LimitedSwap", true, true, true);
        assertThat(cluster.stats().nodeFailures()).isEqualTo(1);
    }

    @Test
    void switchedOffPartsDoNothing() throws Exception {
        createPod("shop", "web");
        createNode();
        int before = server.getRequestCount();
        try (KubeCluster off = new KubeCluster(client, "node-a", KubeCluster.Options.defaults().withEvents(false)
                .withEvictions(false).withNodeMarking(false), clock)) {
            off.podEvent("shop", "web", "Warning", "MemwardenOffload", "x");
            off.systemOom(new OomEvent(1, "a", "/", "/", true, "", 1));
            ClusterActions.EvictionOutcome out = off.evict("shop", "web", "m");
            assertThat(out.evicted()).isFalse();
            assertThat(out.detail()).contains("disabled");
            off.markNode("LimitedSwap", true, true, true);
        }
        assertThat(server.getRequestCount()).as("no API request").isEqualTo(before);
        assertThat(node().getMetadata().getLabels()).doesNotContainKey("memwarden.io/swap");
    }

    @Test
    void noneDoesNothingAndSaysWhy() {
        ClusterActions none = ClusterActions.NONE;
        none.podEvent("a", "b", "Normal", "X", "y");
        none.markNode("NoSwap", true, true, true);
        assertThat(none.evict("a", "b", "m")).isEqualTo(new ClusterActions.EvictionOutcome(false, "no Kubernetes API"));
        none.close();
    }

    @Test
    void badArgumentsNameTheField() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> cluster.podEvent("shop", "web", "Error", "X", "m"))
                .hasMessageContaining("Normal or Warning").hasMessageContaining("Error");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> cluster.nodeEvent("Normal", "not camel", "m"))
                .hasMessageContaining("reason").hasMessageContaining("not camel");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> cluster.markNode("No Swap", true, true, false))
                .hasMessageContaining("\"No Swap\"").hasMessageContaining("label value");
        assertThat(Map.of()).isEmpty();
    }
}
