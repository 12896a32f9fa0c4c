package io.memwarden.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.api.ListenAddress;
import io.memwarden.cgroup.HostFacts;
import io.memwarden.cli.Main;
import io.memwarden.model.Clock;
import io.memwarden.input.PodManifestReader;
import io.memwarden.input.YamlDocs;
import io.memwarden.model.OomEvent;
import io.memwarden.k8s.ClusterActions;
import io.memwarden.model.CgroupVersion;
import io.memwarden.model.NodeFacts;
import io.memwarden.nri.FakeRuntime;
import io.memwarden.nri.ManifestPodSource;
import io.memwarden.nri.NriPlugin;
import io.memwarden.nri.api.ConfigureRequest;
import io.memwarden.nri.api.ConfigureResponse;
import io.memwarden.nri.api.Container;
import io.memwarden.nri.api.ContainerState;
import io.memwarden.nri.api.CreateContainerRequest;
import io.memwarden.nri.api.CreateContainerResponse;
import io.memwarden.nri.api.LinuxContainer;
import io.memwarden.nri.api.LinuxMemory;
import io.memwarden.nri.api.LinuxResources;
import io.memwarden.nri.api.OptionalInt64;
import io.memwarden.nri.api.PodSandbox;
import io.memwarden.nri.api.SynchronizeRequest;
import io.memwarden.nri.api.SynchronizeResponse;
import io.memwarden.nri.api.UpdateContainersRequest;
import io.memwarden.nri.api.UpdateContainersResponse;
import io.memwarden.policy.KubeletSettings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node agent end to end on fakes at its edges: the runtime side of NRI (our codec's {@link FakeRuntime} on a real
 * unix socket), cgroup files in a temp directory laid out like cgroup v2, a recording cluster. Checks the wiring:
 * the plan reaches the runtime, the loops act on the container the runtime created, the status API shows it, a bad
 * config is rejected with an event and a good one updates running containers, and stopping writes nothing.
 */
class AgentTest {
    static final long GI = 1L << 30;
    static final long MI = 1L << 20;
    static final String POD_UID = "8a1d3c5e-0000-4000-8000-000000000001";
    static final String CGROUPS_PATH = "/kubepods/burstable/pod" + POD_UID + "/c1";

    @TempDir
    Path dir;
    FakeRuntime rt;
    Agent agent;
    Recording cluster = new Recording();
    Path cgroupRoot;
    Path configFile;
    final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void setUp() throws Exception {
        rt = new FakeRuntime(dir);
        cgroupRoot = dir.resolve("cgroup");
        configFile = dir.resolve("memwarden.yaml");
        Files.writeString(configFile, """
                loops:
                  period: 100ms
                  guard: {enabled: false}
                  offload: {enabled: false}
                kubernetes: {events: true}
                agent:
                  protect: [kube-system/coredns-*]
                  history: 50
                """);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (agent != null) {
            agent.close();
        }
        rt.close();
    }

    Agent start() throws Exception {
        HostFacts host = new HostFacts(CgroupVersion.V2, false, cgroupRoot, cgroupRoot, cgroupRoot, true, true,
                16 * GI, 0, List.of(), List.of(), null, "6.12.0", 4096);
        NodeFacts node = new NodeFacts(16 * GI, 0, CgroupVersion.V2, true, 4096, null, "6.12.0");
        PodManifestReader.Result pods = PodManifestReader.parse("pods.yaml", YamlDocs.readAll("pods.yaml", """
                apiVersion: v1
                kind: Pod
                metadata: {name: web, namespace: shop, uid: %s}
                spec:
                  containers:
                  - name: app
                    resources:
                      requests: {memory: 256Mi}
                      limits: {memory: 1Gi}
                """.formatted(POD_UID)));
        AgentConfig cfg = AgentConfigReader.read(configFile);
        agent = new Agent(new Agent.Setup(host, node, KubeletSettings.DEFAULTS, cfg, configFile,
                rt.socket, NriPlugin.Options.DEFAULTS, new ManifestPodSource("pods.yaml", pods.pods()), cluster,
                ListenAddress.parse("127.0.0.1:0"), false, Clock.SYSTEM), true);
        agent.start();
        return agent;
    }

    /** A v2 container cgroup (as files): 1 GiB max, memory.high 256 MiB, usage at the high mark, PSI 50 %. */
    Path fakeCgroup() throws Exception {
        Path cg = cgroupRoot.resolve(CGROUPS_PATH.substring(1));
        Files.createDirectories(cg);
        Files.writeString(cg.resolve("memory.current"), Long.toString(256 * MI));
        Files.writeString(cg.resolve("memory.max"), Long.toString(GI));
        Files.writeString(cg.resolve("memory.high"), Long.toString(256 * MI));
        Files.writeString(cg.resolve("memory.swap.max"), "0");
        Files.writeString(cg.resolve("memory.swap.current"), "0");
        Files.writeString(cg.resolve("memory.events"), "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n");
        Files.writeString(cg.resolve("memory.stat"), "anon " + 250 * MI + "\ninactive_file 0\n"
                + "workingset_refault_anon 7\n");
        Files.writeString(cg.resolve("memory.pressure"), "some avg10=50.00 avg60=20.00 avg300=5.00 total=900000\n"
                + "full avg10=10.00 avg60=5.00 avg300=1.00 total=200000\n");
        Files.writeString(cg.resolve("cgroup.procs"), "");
        return cg;
    }

    FakeRuntime.Session connect() throws Exception {
        FakeRuntime.Session s = rt.accept().autoRegister();
        ConfigureResponse c = s.callOk("Configure", ConfigureRequest.newBuilder().setRuntimeName("containerd")
                .setRuntimeVersion("1.7.24").build(), ConfigureResponse.parser());
        assertThat(c.getEvents()).isNotZero();
        SynchronizeResponse sync = s.callOk("Synchronize", SynchronizeRequest.getDefaultInstance(),
                SynchronizeResponse.parser());
        assertThat(sync.getUpdateList()).isEmpty();
        return s;
    }

    static PodSandbox sandbox() {
        return PodSandbox.newBuilder().setId("sb1").setNamespace("shop").setName("web").setUid(POD_UID).build();
    }

    static Container container() {
        return Container.newBuilder().setId("c1").setPodSandboxId("sb1").setName("app")
                .setState(ContainerState.CONTAINER_CREATED)
                .setLinux(LinuxContainer.newBuilder().setCgroupsPath(CGROUPS_PATH).setResources(LinuxResources
                        .newBuilder().setMemory(LinuxMemory.newBuilder().setLimit(OptionalInt64.newBuilder()
                                .setValue(GI))))).build();
    }

    String get(String path) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(agent.api().url() + path))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(path).isEqualTo(200);
        return r.body();
    }

    static void await(String what, BooleanSupplier cond) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    @Test
    void planReachesTheRuntimeAndTheLoopsActOnTheCreatedContainer() throws Exception {
        Path cg = fakeCgroup();
        start();
        FakeRuntime.Session s = connect();
        CreateContainerResponse created = s.callOk("CreateContainer", CreateContainerRequest.newBuilder()
                .setPod(sandbox()).setContainer(container()).build(), CreateContainerResponse.parser());
        // Burstable, NoSwap on a swapless node: memory limit kept, swap.max 0
        assertThat(created.getAdjust().getLinux().getResources().getUnifiedMap()).containsEntry("memory.swap.max", "0");
        assertThat(agent.plugin().managed()).singleElement().satisfies(m -> {
            assertThat(m.podKey()).isEqualTo("shop/web");
            assertThat(m.source()).isEqualTo("manifest pods.yaml");
        });
        assertThat(agent.workload().snapshot()).singleElement().satisfies(c -> {
            assertThat(c.cgroup()).isEqualTo(cg);
            assertThat(c.usage().highBytes()).isEqualTo(256 * MI);
        });

        // throttled: high events climb and PSI is 50 % → relief raises memory.high toward memory.max
        long events = 0;
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (Long.parseLong(Files.readString(cg.resolve("memory.high")).strip()) == 256 * MI) {
            assertThat(System.nanoTime()).as("memory.high raised within 10 s").isLessThan(end);
            events += 500;
            Files.writeString(cg.resolve("memory.events"), "low 0\nhigh " + events + "\nmax 0\noom 0\noom_kill 0\n");
            Thread.sleep(50);
        }
        long raised = Long.parseLong(Files.readString(cg.resolve("memory.high")).strip());
        assertThat(raised).isGreaterThan(256 * MI).isLessThanOrEqualTo(GI);
        await("the relief event", () -> cluster.podEvents.stream().anyMatch(e -> e.contains("MemwardenThrottleRelief")));
        assertThat(cluster.podEvents).anySatisfy(e -> assertThat(e).startsWith("shop/web Normal MemwardenThrottleRelief"
                + " container app: memory.high="));

        String status = get("/status");
        assertThat(status).contains("\"pod\" : \"web\"").contains("throttle-relief").contains("manifest pods.yaml");
        // the operator's views read the agent's API: the row shows the raised memory.high and the loop's action
        java.io.StringWriter top = new java.io.StringWriter();
        assertThat(Main.run(new java.io.PrintWriter(top, true), new java.io.PrintWriter(System.err, true),
                "top", "--once", "--server", agent.api().url())).isZero();
        assertThat(top.toString()).containsPattern("shop/web +app +.*throttle-relief memory\\.high=");
        java.io.StringWriter explain = new java.io.StringWriter();
        assertThat(Main.run(new java.io.PrintWriter(explain, true),
                new java.io.PrintWriter(System.err, true), "explain", "shop/web/app", "--server", agent.api().url()))
                .isZero();
        assertThat(explain.toString()).contains("    - memory.high not written: memoryThrottlingFactor unset")
                .contains("memory.max        1073741824 (1Gi)  live 1073741824 (1Gi)")
                .contains("  live (cgroup v2):").contains("throttle-relief  memory.high=" + raised + "  -> ok");
        String metrics = get("/metrics");
        assertThat(metrics).contains("memwarden_nri_request_duration_seconds_count{method=\"CreateContainer\"} 1")
                .contains("memwarden_container_memory_high_bytes{")
                .containsPattern("memwarden_loop_actions_total\\{[^}]*loop=\"throttle-relief\"")
                .contains("memwarden_container_anon_refaults_total{container=\"app\",namespace=\"shop\",pod=\"web\"} 7.0");

        // stopping writes nothing: the raised value stays
        agent.close();
        assertThat(Long.parseLong(Files.readString(cg.resolve("memory.high")).strip())).isGreaterThanOrEqualTo(raised);
        assertThat(Files.readString(cg.resolve("memory.max")).strip()).isEqualTo(Long.toString(GI));
        assertThat(s.awaitClosed()).isNotNull();
    }

    @Test
    void theNodeSwapCapFromTheConfigIsWrittenOnKubepodsAndReported() throws Exception {
        // nodeCap 0: the cap does not depend on this machine's swap
        Files.writeString(configFile, Files.readString(configFile) + "swap: {nodeCap: \"0\", systemReserved: 1Gi}\n");
        Path kubepods = Files.createDirectories(cgroupRoot.resolve("kubepods"));
        Files.writeString(kubepods.resolve("memory.swap.max"), "max\n");
        start();
        await("kubepods memory.swap.max written", () -> {
            try {
                return Files.readString(kubepods.resolve("memory.swap.max")).strip().equals("0");
            } catch (java.io.IOException e) {
                return false;
            }
        });
        await("the swap-cap action", () -> agent.loops().history().stream().anyMatch(a -> a.loop().equals("swap-cap")));
        assertThat(agent.loops().history()).filteredOn(a -> a.loop().equals("swap-cap")).singleElement()
                .satisfies(a -> assertThat(a.result()).isEqualTo("ok"));
        String metrics = get("/metrics");
        assertThat(metrics).contains("memwarden_node_swap_cap_bytes 0.0").contains("memwarden_node_swap_cap_enforced 1.0");
    }

    @Test
    void aRoundWokenByPsiSaysSoInItsActions() throws Exception {
        // the agent's own thread ticks once at start, then waits a minute (no trigger): the rounds below are ours
        Files.writeString(configFile, """
                loops:
                  period: 1m
                  psiTrigger: "off"
                  guard: {enabled: false}
                  offload: {enabled: false}
                """);
        Path cg = fakeCgroup();
        start();
        FakeRuntime.Session s = connect();
        s.callOk("CreateContainer", CreateContainerRequest.newBuilder().setPod(sandbox()).setContainer(container())
                .build(), CreateContainerResponse.parser());
        assertThat(agent.config().loops().psiTrigger()).isNull();
        long events = 0;
        for (int i = 0; i < 20 && Long.parseLong(Files.readString(cg.resolve("memory.high")).strip()) == 256 * MI;
                i++) {
            events += 500;
            Files.writeString(cg.resolve("memory.events"), "low 0\nhigh " + events + "\nmax 0\noom 0\noom_kill 0\n");
            agent.loops().tick("PSI trigger some 150000/2000000");
        }
        assertThat(agent.loops().history()).filteredOn(r -> r.loop().equals("throttle-relief")).isNotEmpty()
                .allSatisfy(r -> assertThat(r.trigger()).endsWith("; woken by PSI trigger some 150000/2000000"));
        // an action recorded outside a round (the standalone applier's) is not annotated
        agent.loops().recordAction("apply", "shop/web", "app", "memory.max=1", "plan", "ok");
        assertThat(agent.loops().history().getLast().trigger()).isEqualTo("plan");
    }

    @Test
    void invalidConfigIsRejectedWithAnEventAndAValidOneUpdatesRunningContainers() throws Exception {
        fakeCgroup();
        start();
        FakeRuntime.Session s = connect();
        s.callOk("CreateContainer", CreateContainerRequest.newBuilder().setPod(sandbox()).setContainer(container())
                .build(), CreateContainerResponse.parser());

        Files.writeString(configFile, "loops:\n  period: 5ms\n");
        await("the rejection event", () -> !cluster.nodeEvents.isEmpty());
        assertThat(cluster.nodeEvents.getFirst()).startsWith("Warning MemwardenConfigRejected memwarden kept its"
                + " previous config: ").contains("loops.period").contains("5ms");
        assertThat(agent.config().loops().period()).isEqualTo(Duration.ofMillis(100));

        // a cap on every container's memory.high via memory QoS is not what we change here: the swap behaviour
        // override to UnlimitedSwap changes memory.swap.max of the running container → UpdateContainers
        Files.writeString(configFile, """
                swap: {behavior: UnlimitedSwap}
                loops: {period: 200ms, guard: {enabled: false}, offload: {enabled: false}}
                """);
        FakeRuntime.PluginCall update = s.awaitCall("UpdateContainers");
        UpdateContainersRequest req = UpdateContainersRequest.parseFrom(update.request().getPayload());
        assertThat(req.getUpdateList()).singleElement().satisfies(u -> {
            assertThat(u.getContainerId()).isEqualTo("c1");
            assertThat(u.getLinux().getResources().getUnifiedMap()).containsEntry("memory.swap.max", "max");
        });
        s.reply(update, UpdateContainersResponse.getDefaultInstance());
        await("the new loop period", () -> agent.config().loops().period().equals(Duration.ofMillis(200)));
        assertThat(get("/metrics")).contains("memwarden_config_reloads_total{result=\"rejected\"} 1.0")
                .contains("memwarden_config_reloads_total{result=\"applied\"} 1.0");
    }

    @Test
    void aPoisonedPodGetsAPlanFailedEventAndTheOthersAreServed() throws Exception {
        Files.writeString(configFile, Files.readString(configFile)
                + "memoryQos: {unifiedannotations: [memory.swap.max]}\nswap: {maxPerContainer: 1Gi}\n");
        fakeCgroup();
        start();
        FakeRuntime.Session s = connect();
        PodSandbox evil = PodSandbox.newBuilder().setId("sb-evil").setNamespace("shop").setName("evil").setUid("uid-e")
                .putAnnotations("memory.swap.max.memory-qos.nri.io", "99999999999999999999").build();
        Container hog = container().toBuilder().setId("c-evil").setPodSandboxId("sb-evil").build();
        var refused = s.call("CreateContainer", CreateContainerRequest.newBuilder().setPod(evil).setContainer(hog)
                .build());
        assertThat(refused.getStatus().getCode()).isNotZero();
        await("the plan-failed event", () -> cluster.podEvents.stream().anyMatch(e -> e.contains("MemwardenPlanFailed")));
        assertThat(cluster.podEvents).anySatisfy(e -> assertThat(e).startsWith("shop/evil Warning MemwardenPlanFailed"
                + " container app: not planned: annotation memory.swap.max.memory-qos.nri.io: memory.swap.max="
                + "\"99999999999999999999\": out of range"));
        CreateContainerResponse ok = s.callOk("CreateContainer", CreateContainerRequest.newBuilder().setPod(sandbox())
                .setContainer(container()).build(), CreateContainerResponse.parser());
        assertThat(ok.getAdjust().getLinux().getResources().getUnifiedMap()).containsEntry("memory.swap.max", "0");
        assertThat(get("/status")).contains("\"web\"").doesNotContain("\"evil\"");
    }

    @Test
    void theStatusApiServesBeforeTheRuntimeIsThereAndTheAgentReconnects() throws Exception {
        start();
        assertThat(get("/healthz")).isEqualTo("ok\n");
        assertThat(get("/status")).contains("\"containers\" : [ ]");
        FakeRuntime.Session first = connect();
        first.close();
        // the runtime restarts: the plugin registers again (and is synchronized again)
        FakeRuntime.Session second = connect();
        // counted when the plugin has read the runtime's reply, which may come after the runtime's next calls
        await("the second registration", () -> agent.plugin().registrations() == 2);
        second.close();
    }

    /** Records what the agent asks of the cluster. */
    static class Recording implements ClusterActions {
        final List<String> podEvents = new CopyOnWriteArrayList<>();
        final List<String> nodeEvents = new CopyOnWriteArrayList<>();
        final List<String> marks = new CopyOnWriteArrayList<>();
        final List<OomEvent> systemOoms = new CopyOnWriteArrayList<>();

        @Override
        public void systemOom(OomEvent e) {
            systemOoms.add(e);
        }

        @Override
        public void podEvent(String namespace, String pod, String type, String reason, String message) {
            podEvents.add(namespace + "/" + pod + " " + type + " " + reason + " " + message);
        }

        @Override
        public void nodeEvent(String type, String reason, String message) {
            nodeEvents.add(type + " " + reason + " " + message);
        }

        @Override
        public EvictionOutcome evict(String namespace, String pod, String message) {
            return new EvictionOutcome(true, "recorded");
        }

        @Override
        public void markNode(String swapBehavior, boolean swapOn, boolean label, boolean taint) {
            marks.add(swapBehavior + " swapOn=" + swapOn + " label=" + label + " taint=" + taint);
        }

        @Override
        public void close() {}
    }
}
