package io.memwarden.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.memwarden.api.ListenAddress;
import io.memwarden.cgroup.HostFacts;
import io.memwarden.input.KubeletConfigReader;
import io.memwarden.input.YamlDocs;
import io.memwarden.k8s.ClusterActions;
import io.memwarden.model.Clock;
import io.memwarden.k8s.KubeCluster;
import io.memwarden.k8s.NodePods;
import io.memwarden.loops.ActionRecord;
import io.memwarden.model.CgroupVersion;
import io.memwarden.model.NodeFacts;
import io.memwarden.nri.FakeRuntime;
import io.memwarden.nri.LookupPodSource;
import io.memwarden.nri.NriPlugin;
import io.memwarden.nri.api.ConfigureRequest;
import io.memwarden.nri.api.ConfigureResponse;
import io.memwarden.nri.api.Container;
import io.memwarden.nri.api.ContainerState;
import io.memwarden.nri.api.CreateContainerRequest;
import io.memwarden.nri.api.CreateContainerResponse;
import io.memwarden.nri.api.LinuxContainer;
import io.memwarden.nri.api.PodSandbox;
import io.memwarden.nri.api.SynchronizeRequest;
import io.memwarden.nri.api.SynchronizeResponse;
import io.memwarden.policy.KubeletSettings;
import io.memwarden.loops.ControlLoops;
import io.memwarden.nri.api.LinuxMemory;
import io.memwarden.nri.api.LinuxResources;
import io.memwarden.nri.api.OptionalInt64;
import io.memwarden.nri.api.UpdateContainersRequest;
import io.memwarden.nri.api.UpdateContainersResponse;
import io.memwarden.nri.api.UpdatePodSandboxRequest;
import io.memwarden.nri.api.UpdatePodSandboxResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node agent with the Kubernetes side against fabric8's mock API server (CRUD mode; the eviction subresource by
 * expectation): pod specs from the API, the node labelled, the pressure guard's victim evicted through the Eviction
 * API with the kubelet-style message and event, the protected pod left alone, a rejected config told on the Node.
 */
@EnableKubernetesMockClient(crud = true)
class AgentKubeTest {
    static final long GI = 1L << 30;
    static final long MI = 1L << 20;
    KubernetesMockServer server;
    KubernetesClient client;

    @TempDir
    Path dir;
    Agent agent;
    NodePods nodePods;
    FakeRuntime rt;

    @AfterEach
    void tearDown() throws Exception {
        if (agent != null) {
            agent.close();
        }
        if (nodePods != null) {
            nodePods.close();
        }
        if (rt != null) {
            rt.close();
        }
        client.close();
    }

    Pod pod(String ns, String name, String uid, Map<String, String> limits) {
        var c = new PodBuilder().withNewMetadata().withNamespace(ns).withName(name).withUid(uid).endMetadata()
                .withNewSpec().withNodeName("node-a").addNewContainer().withName("app").withImage("busybox")
                .withNewResources();
        limits.forEach((k, v) -> c.addToLimits(k, new Quantity(v)).addToRequests(k, new Quantity(v)));
        return client.pods().inNamespace(ns).resource(c.endResources().endContainer().endSpec().build()).create();
    }

    Path fakeCgroup(Path root, String rel, long usage) throws Exception {
        Path cg = root.resolve(rel);
        Files.createDirectories(cg);
        Files.writeString(cg.resolve("memory.current"), Long.toString(usage));
        Files.writeString(cg.resolve("memory.max"), "max");
        Files.writeString(cg.resolve("memory.high"), "max");
        Files.writeString(cg.resolve("memory.swap.max"), "0");
        Files.writeString(cg.resolve("memory.swap.current"), "0");
        Files.writeString(cg.resolve("memory.events"), "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n");
        Files.writeString(cg.resolve("memory.stat"), "anon " + usage + "\ninactive_file 0\n");
        Files.writeString(cg.resolve("cgroup.procs"), "");
        return cg;
    }

    static Container container(String id, String podId, String cgroupsPath) {
        return Container.newBuilder().setId(id).setPodSandboxId(podId).setName("app")
                .setState(ContainerState.CONTAINER_CREATED)
                .setLinux(LinuxContainer.newBuilder().setCgroupsPath(cgroupsPath)).build();
    }

    @Test
    void podSpecsFromTheApiEvictionThroughTheApiAndEventsOnTheNode() throws Exception {
        client.nodes().resource(new NodeBuilder().withNewMetadata().withName("node-a")
                .addToLabels("kubernetes.io/hostname", "node-a").endMetadata().build()).create();
        // the mock server gives pods their uids; the runtime's sandboxes carry the same
        String webUid = pod("shop", "web", "11111111-1111-4111-8111-111111111111", Map.of()).getMetadata().getUid();
        String dnsUid = pod("kube-system", "coredns-abc", "22222222-2222-4222-8222-222222222222",
                Map.of("memory", "170Mi", "cpu", "100m")).getMetadata().getUid();
        server.expect().post().withPath("/api/v1/namespaces/shop/pods/web/eviction")
                .andReturn(201, new StatusBuilder().withStatus("Success").withCode(201).build()).once();
        nodePods = new NodePods(client, "node-a", false);
        assertThat(nodePods.start(Duration.ofSeconds(10))).isTrue();

        Path cgroupRoot = dir.resolve("cgroup");
        fakeCgroup(cgroupRoot, "kubepods/besteffort/pod1/web", 300 * MI);
        fakeCgroup(cgroupRoot, "kubepods/pod2/dns", 100 * MI);
        Path cfgFile = dir.resolve("memwarden.yaml");
        // thresholds above any machine's memory: the guard is at its hard level from the first round
        Files.writeString(cfgFile, """
                agent: {protect: [kube-system/coredns-*]}
                loops:
                  period: 100ms
                  guard: {softAvailable: 1000Ti, hardAvailable: 999Ti, cooldown: 1h}
                  throttle: {enabled: false}
                  offload: {enabled: false}
                """);
        HostFacts host = new HostFacts(CgroupVersion.V2, false, cgroupRoot, cgroupRoot, cgroupRoot, true, true,
                16 * GI, 0, List.of(), List.of(), null, "6.12.0", 4096);
        NodeFacts node = new NodeFacts(16 * GI, 0, CgroupVersion.V2, true, 4096, null, "6.12.0");
        rt = new FakeRuntime(dir);
        KubeCluster cluster = new KubeCluster(client, "node-a");
        agent = new Agent(new Agent.Setup(host, node, KubeletSettings.DEFAULTS, AgentConfigReader.read(cfgFile),
                cfgFile, rt.socket, NriPlugin.Options.DEFAULTS,
                new LookupPodSource("kubernetes API (node node-a)", nodePods::find), cluster,
                ListenAddress.parse("127.0.0.1:0"), false, Clock.SYSTEM), true);
        agent.start();

        FakeRuntime.Session s = rt.accept().autoRegister();
        s.callOk("Configure", ConfigureRequest.newBuilder().setRuntimeName("containerd").build(),
                ConfigureResponse.parser());
        s.callOk("Synchronize", SynchronizeRequest.getDefaultInstance(), SynchronizeResponse.parser());
        PodSandbox web = PodSandbox.newBuilder().setId("p1").setNamespace("shop").setName("web")
                .setUid(webUid).build();
        PodSandbox dns = PodSandbox.newBuilder().setId("p2").setNamespace("kube-system").setName("coredns-abc")
                .setUid(dnsUid).build();
        CreateContainerResponse dnsAdj = s.callOk("CreateContainer", CreateContainerRequest.newBuilder().setPod(dns)
                .setContainer(container("dns", "p2", "/kubepods/pod2/dns")).build(), CreateContainerResponse.parser());
        // Guaranteed from the API's spec (NRI alone would not know the request): oom_score_adj -997
        assertThat(dnsAdj.getAdjust().getLinux().getOomScoreAdj().getValue()).isEqualTo(-997);
        s.callOk("CreateContainer", CreateContainerRequest.newBuilder().setPod(web)
                .setContainer(container("web", "p1", "/kubepods/besteffort/pod1/web")).build(),
                CreateContainerResponse.parser());

        AgentTest.await("the eviction", () -> agent.loops().history().stream()
                .anyMatch(a -> a.action().startsWith("evict")));
        ActionRecord evict = agent.loops().history().stream()
                .filter(a -> a.action().startsWith("evict")).findFirst().orElseThrow();
        assertThat(evict.pod()).isEqualTo("shop/web");
        assertThat(evict.result()).startsWith("evicted through the Eviction API");
        assertThat(evict.action()).startsWith("evict: The node was low on resource: memory. Threshold quantity: 999Ti");
        assertThat(cluster.flush(Duration.ofSeconds(10))).isTrue();
        List<Event> shopEvents = client.v1().events().inNamespace("shop").list().getItems();
        assertThat(shopEvents).anySatisfy(e -> {
            assertThat(e.getReason()).isEqualTo("MemwardenEvicting");
            assertThat(e.getType()).isEqualTo("Warning");
            assertThat(e.getInvolvedObject().getName()).isEqualTo("web");
            assertThat(e.getMessage()).startsWith("The node was low on resource: memory.");
        });
        assertThat(agent.loops().history()).noneMatch(a -> a.pod().startsWith("kube-system/"));
        assertThat(client.nodes().withName("node-a").get().getMetadata().getLabels())
                .containsEntry("memwarden.io/swap", "NoSwap").containsEntry("kubernetes.io/hostname", "node-a");

        Files.writeString(cfgFile, "kubernetes: {evictions: sometimes}\n");
        AgentTest.await("the rejection event", () -> {
            cluster.flush(Duration.ofSeconds(1));
            return client.v1().events().inNamespace("default").list().getItems().stream()
                    .anyMatch(e -> e.getReason().equals("MemwardenConfigRejected"));
        });
        Event rejected = client.v1().events().inNamespace("default").list().getItems().stream()
                .filter(e -> e.getReason().equals("MemwardenConfigRejected")).findFirst().orElseThrow();
        assertThat(rejected.getInvolvedObject().getKind()).isEqualTo("Node");
        assertThat(rejected.getMessage()).contains("kubernetes.evictions").contains("sometimes");
    }

    @Test
    void aContainerPlannedBeforeItsPodReachedTheCacheIsPlannedAgainWhenItDoes() throws Exception {
        client.nodes().resource(new NodeBuilder().withNewMetadata().withName("node-a").endMetadata().build()).create();
        nodePods = new NodePods(client, "node-a", false);
        assertThat(nodePods.start(Duration.ofSeconds(10))).isTrue();
        Path cgroupRoot = dir.resolve("cgroup");
        fakeCgroup(cgroupRoot, "kubepods/pod3/db", 100 * MI);
        Path cfgFile = dir.resolve("memwarden.yaml");
        Files.writeString(cfgFile, "loops: {period: 100ms, guard: {enabled: false}, offload: {enabled: false}}\n");
        HostFacts host = new HostFacts(CgroupVersion.V2, false, cgroupRoot, cgroupRoot, cgroupRoot, true, true,
                16 * GI, 4 * GI, List.of("/swap"), List.of(), null, "6.12.0", 4096);
        NodeFacts node = new NodeFacts(16 * GI, 4 * GI, CgroupVersion.V2, true, 4096, null, "6.12.0");
        // LimitedSwap: without the pod's request (NRI data alone) a Burstable container gets no swap
        KubeletSettings limited = KubeletConfigReader.parse("k.yaml", YamlDocs
                .readAll("k.yaml", "kind: KubeletConfiguration\nfailSwapOn: false\n"
                        + "memorySwap: {swapBehavior: LimitedSwap}\n").getFirst());
        rt = new FakeRuntime(dir);
        agent = new Agent(new Agent.Setup(host, node, limited, AgentConfigReader.read(cfgFile),
                null, rt.socket, new NriPlugin.Options("memwarden", "50", Duration.ofMillis(100), Duration.ofSeconds(5)),
                new LookupPodSource("kubernetes API (node node-a)", nodePods::find), KubeClusterNone.INSTANCE, null,
                false, Clock.SYSTEM), true);
        agent.start();
        FakeRuntime.Session s = rt.accept().autoRegister();
        s.callOk("Configure", ConfigureRequest.newBuilder().setRuntimeName("containerd").build(),
                ConfigureResponse.parser());
        s.callOk("Synchronize", SynchronizeRequest.getDefaultInstance(), SynchronizeResponse.parser());
        PodSandbox db = PodSandbox.newBuilder().setId("p3").setNamespace("shop").setName("db").setUid("u-3").build();
        Container ctr = container("db", "p3", "/kubepods/pod3/db").toBuilder()
                .setLinux(LinuxContainer.newBuilder().setCgroupsPath("/kubepods/pod3/db").setResources(
                        LinuxResources.newBuilder().setMemory(LinuxMemory
                                .newBuilder().setLimit(OptionalInt64.newBuilder()
                                        .setValue(512 * MI))))).build();
        CreateContainerResponse first = s.callOk("CreateContainer", CreateContainerRequest.newBuilder().setPod(db)
                .setContainer(ctr).build(), CreateContainerResponse.parser());
        assertThat(first.getAdjust().getLinux().hasOomScoreAdj()).as("degraded: no oom_score_adj").isFalse();
        assertThat(first.getAdjust().getLinux().getResources().getUnifiedMap()).containsEntry("memory.swap.max", "0");
        assertThat(agent.plugin().managed()).singleElement().satisfies(m -> assertThat(m.degraded()).isTrue());

        // the pod reaches the API (and the cache): Burstable with a 256Mi request → LimitedSwap's share of swap
        Pod created = client.pods().inNamespace("shop").resource(new PodBuilder().withNewMetadata()
                .withNamespace("shop").withName("db").endMetadata().withNewSpec().withNodeName("node-a")
                .addNewContainer().withName("app").withImage("x").withNewResources()
                .addToRequests("memory", new Quantity("256Mi")).addToLimits("memory", new Quantity("512Mi"))
                .endResources()
                .endContainer().endSpec().build()).create();
        assertThat(created.getMetadata().getUid()).isNotEqualTo("u-3");
        // the runtime's sandbox has the API's uid (as on a real node)
        s.callOk("UpdatePodSandbox", UpdatePodSandboxRequest.newBuilder()
                .setPod(db.toBuilder().setUid(created.getMetadata().getUid())).build(),
                UpdatePodSandboxResponse.parser());
        FakeRuntime.PluginCall update = s.awaitCall("UpdateContainers");
        var req = UpdateContainersRequest.parseFrom(update.request().getPayload());
        // 256Mi / 16Gi of 4Gi swap = 64Mi (kubelet-semantics §1)
        assertThat(req.getUpdateList()).singleElement().satisfies(u -> {
            assertThat(u.getContainerId()).isEqualTo("db");
            assertThat(u.getLinux().getResources().getUnifiedMap()).containsEntry("memory.swap.max",
                    Long.toString(64 * MI));
        });
        s.reply(update, UpdateContainersResponse.getDefaultInstance());
        assertThat(agent.plugin().managed()).singleElement().satisfies(m -> {
            assertThat(m.degraded()).isFalse();
            assertThat(m.plan().reasons().getFirst()).isEqualTo("pod spec from kubernetes API (node node-a)");
        });
    }

    /** No cluster side for this test. */
    static final class KubeClusterNone {
        static final ClusterActions INSTANCE = ClusterActions.NONE;
    }
}
