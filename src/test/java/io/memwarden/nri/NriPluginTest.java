package io.memwarden.nri;

import static io.memwarden.nri.NriFixtures.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.memwarden.model.PodSpec;
import io.memwarden.nri.api.ConfigureRequest;
import io.memwarden.nri.api.ConfigureResponse;
import io.memwarden.nri.api.Container;
import io.memwarden.nri.api.ContainerState;
import io.memwarden.nri.api.ContainerUpdate;
import io.memwarden.nri.api.CreateContainerRequest;
import io.memwarden.nri.api.CreateContainerResponse;
import io.memwarden.nri.api.Empty;
import io.memwarden.nri.api.Event;
import io.memwarden.nri.api.LinuxMemory;
import io.memwarden.nri.api.LinuxResources;
import io.memwarden.nri.api.OptionalInt64;
import io.memwarden.nri.api.PodSandbox;
import io.memwarden.nri.api.RegisterPluginRequest;
import io.memwarden.nri.api.RemovePodSandboxRequest;
import io.memwarden.nri.api.RunPodSandboxRequest;
import io.memwarden.nri.api.StartContainerRequest;
import io.memwarden.nri.api.StateChangeEvent;
import io.memwarden.nri.api.StopContainerRequest;
import io.memwarden.nri.api.StopContainerResponse;
import io.memwarden.nri.api.SynchronizeRequest;
import io.memwarden.nri.api.SynchronizeResponse;
import io.memwarden.nri.api.UpdateContainerRequest;
import io.memwarden.nri.api.UpdateContainerResponse;
import io.memwarden.nri.api.UpdateContainersRequest;
import io.memwarden.nri.api.UpdateContainersResponse;
import io.memwarden.nri.wire.FdChannel;
import io.memwarden.nri.wire.RpcException;
import io.memwarden.nri.wire.StatusCode;
import io.memwarden.nri.wire.TtrpcMessage;
import io.memwarden.nri.wire.WireFormat;
import io.memwarden.nri.wire.pb.Request;
import io.memwarden.nri.wire.pb.Response;
import io.memwarden.policy.Plan.ContainerPlan;
import io.memwarden.policy.Plan.PlanError;
import io.memwarden.policy.Planner;
import io.memwarden.policy.WardenConfig;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The plugin against a fake runtime over a real unix socket, speaking mux + ttrpc with memwarden's codec. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class NriPluginTest {
    @TempDir
    Path dir;
    FakeRuntime rt;
    NriPlugin plugin;
    Thread runner;

    static final int MASK_V06 = 0x1 | 0x4 | 0x8 | 0x80 | 0x200 | 0x400;

    @BeforeEach
    void runtime() throws Exception {
        rt = new FakeRuntime(dir);
    }

    @AfterEach
    void stop() throws Exception {
        if (plugin != null) {
            plugin.stop();
        }
        if (runner != null) {
            runner.join(5000);
            assertThat(runner.isAlive()).as("plugin stopped").isFalse();
        }
        rt.close();
    }

    void start(PodSpecSource source, WardenConfig cfg) {
        plugin = new NriPlugin(NriPlugin.Options.DEFAULTS, V2, kubelet(), cfg, source);
        // no sync counts as late (a loaded machine can take seconds): the test of late syncs sets its own clock
        plugin.useClock(() -> 0);
        runner = Thread.ofPlatform().daemon().start(() -> {
            try {
                plugin.runExternal(rt.socket);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    static ManifestPodSource manifest() {
        return new ManifestPodSource("pods.yaml", pods());
    }

    /** Accepts, answers RegisterPlugin, configures with an old runtime and no config. */
    FakeRuntime.Session connect() throws Exception {
        FakeRuntime.Session s = rt.accept().autoRegister();
        configure(s, "");
        return s;
    }

    static ConfigureResponse configure(FakeRuntime.Session s, String config) throws Exception {
        return s.callOk("Configure", ConfigureRequest.newBuilder().setConfig(config).setRuntimeName("containerd")
                .setRuntimeVersion("1.7.24").setRegistrationTimeout(5000).setRequestTimeout(2000).build(),
                ConfigureResponse.parser());
    }

    static CreateContainerResponse create(FakeRuntime.Session s, PodSandbox pod, Container c) throws Exception {
        return s.callOk("CreateContainer", CreateContainerRequest.newBuilder().setPod(pod).setContainer(c).build(),
                CreateContainerResponse.parser());
    }

    static Map<String, String> withoutMemoryMax(Map<String, String> files) {
        Map<String, String> m = new LinkedHashMap<>(files);
        m.remove("memory.max");
        return m;
    }

    static final PodSandbox WEB = sandbox("pod-web", "shop", "web", "uid-web", Map.of(),
            "kubepods-burstable-poduid_web.slice");

    @Test
    void registersAndAnswersConfigureBeforeTheRegisterReply() throws Exception {
        start(manifest(), WardenConfig.DEFAULTS);
        FakeRuntime.Session s = rt.accept();
        FakeRuntime.PluginCall reg = s.awaitCall("RegisterPlugin");
        assertThat(reg.request().getService()).isEqualTo(WireFormat.RUNTIME_SERVICE);
        assertThat(reg.streamId()).isEqualTo(1);
        RegisterPluginRequest r = RegisterPluginRequest.parseFrom(reg.request().getPayload());
        assertThat(r.getPluginName()).isEqualTo("memwarden");
        assertThat(r.getPluginIdx()).isEqualTo("50");

        // Configure arrives while the plugin still waits for its Register reply
        ConfigureResponse old = configure(s, "");
        assertThat(old.getEvents()).isEqualTo(MASK_V06);
        ConfigureResponse recent = s.callOk("Configure", ConfigureRequest.newBuilder().setRuntimeName("containerd")
                .setRuntimeVersion("v2.2.1").build(), ConfigureResponse.parser());
        assertThat(recent.getEvents()).isEqualTo(MASK_V06 | 0x800);
        assertThat(plugin.registrations()).isZero();

        s.reply(reg, Empty.getDefaultInstance());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (plugin.registrations() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(plugin.registrations()).isEqualTo(1);
    }

    @Test
    void createContainerGetsThePlannersValuesForAManifestPod() throws Exception {
        start(manifest(), WardenConfig.DEFAULTS);
        FakeRuntime.Session s = connect();
        Container app = container("ctr-app", "pod-web", "app", 2 * GI, ContainerState.CONTAINER_CREATED);
        CreateContainerResponse resp = create(s, WEB, app);

        ContainerPlan expected = new Planner(V2, kubelet(), WardenConfig.DEFAULTS).planPod(pod("web")).plan()
                .containers().getFirst();
        assertThat(expected.cgroup()).containsKeys("memory.max", "memory.swap.max");
        var linux = resp.getAdjust().getLinux();
        assertThat(linux.getResources().getUnifiedMap()).isEqualTo(withoutMemoryMax(expected.cgroup()));
        assertThat(linux.getResources().hasMemory()).as("limit unchanged: not claimed").isFalse();
        assertThat(linux.hasOomScoreAdj()).isTrue();
        assertThat(linux.getOomScoreAdj().getValue()).isEqualTo(expected.oomScoreAdj());
        // LimitedSwap with the manifest's request: 1Gi/16Gi of 4Gi swap
        assertThat(linux.getResources().getUnifiedMap()).containsEntry("memory.swap.max", Long.toString(256 * MI));
    }

    @Test
    void registersBeforeTheManifestIsBoundAndItsFirstLookupWaitsForIt() throws Exception {
        var bound = new java.util.concurrent.CompletableFuture<java.util.List<PodSpec>>();
        start(new ManifestPodSource("pods.yaml", bound), WardenConfig.DEFAULTS);
        FakeRuntime.Session s = connect();
        assertThat(plugin.awaitFirstSync(java.time.Duration.ofMillis(50))).as("not synchronized yet").isFalse();
        s.callOk("Synchronize", SynchronizeRequest.getDefaultInstance(), SynchronizeResponse.parser());
        assertThat(plugin.awaitFirstSync(java.time.Duration.ofSeconds(5))).isTrue();

        Thread.ofPlatform().daemon().start(() -> {
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            bound.complete(pods());
        });
        CreateContainerResponse resp = create(s, WEB, container("ctr-app", "pod-web", "app", 2 * GI,
                ContainerState.CONTAINER_CREATED));
        // the manifest's request (LimitedSwap: 1Gi/16Gi of 4Gi swap), not the NRI-only fallback
        assertThat(resp.getAdjust().getLinux().getResources().getUnifiedMap())
                .containsEntry("memory.swap.max", Long.toString(256 * MI));
    }

    @Test
    void aDifferentLimitIsSetThroughLinuxMemory() throws Exception {
        start(manifest(), WardenConfig.DEFAULTS);
        FakeRuntime.Session s = connect();
        CreateContainerResponse resp = create(s, WEB, container("c1", "pod-web", "app", null,
                ContainerState.CONTAINER_CREATED));
        assertThat(resp.getAdjust().getLinux().getResources().getMemory().getLimit().getValue()).isEqualTo(2 * GI);
    }

    @Test
    void podsOutsideTheManifestFallBackToNriData() throws Exception {
        start(manifest(), WardenConfig.DEFAULTS);
        FakeRuntime.Session s = connect();
        PodSandbox other = sandbox("pod-o", "shop", "other", "uid-o", Map.of(), "kubepods-burstable-poduid_o.slice");
        CreateContainerResponse resp = create(s, other, container("c-o", "pod-o", "main", GI,
                ContainerState.CONTAINER_CREATED));
        var linux = resp.getAdjust().getLinux();
        // requests unknown: LimitedSwap's allowance is request-proportional, so no swap
        assertThat(linux.getResources().getUnifiedMap()).containsEntry("memory.swap.max", "0");
        assertThat(linux.hasOomScoreAdj()).as("degraded: oom_score_adj left to the kubelet").isFalse();
        assertThat(linux.getResources().hasMemory()).isFalse();
    }

    @Test
    void degradedModeKeepsTheKubeletsRequestDependentValues() throws Exception {
        start(null, config());
        FakeRuntime.Session s = connect();
        PodSandbox pod = sandbox("pod-k", "shop", "k", "", Map.of("class.memory-qos.nri.io", "bronze"),
                "kubepods-burstable-podk.slice");
        Container c = container("c-k", "pod-k", "main", GI, ContainerState.CONTAINER_CREATED);
        // the kubelet put its LimitedSwap value (computed with the real request) and a memory.high into the request
        c = c.toBuilder().setLinux(c.getLinux().toBuilder().setResources(c.getLinux().getResources().toBuilder()
                .putUnified("memory.swap.max", "134217728").putUnified("memory.high", "1"))).build();
        CreateContainerResponse resp = create(s, pod, c);
        Map<String, String> unified = resp.getAdjust().getLinux().getResources().getUnifiedMap();
        // memory-qos's class sets memory.swap.max=max regardless of the request: the explicit choice wins; the
        // class's memory.high depends only on the limit, so it is set too
        assertThat(unified).containsEntry("memory.swap.max", "max").containsEntry("memory.high", Long.toString(512 * MI));

        PodSandbox plain = sandbox("pod-p", "shop", "p", "", Map.of(), "kubepods-burstable-podp.slice");
        Container cp = container("c-p", "pod-p", "main", GI, ContainerState.CONTAINER_CREATED);
        cp = cp.toBuilder().setLinux(cp.getLinux().toBuilder().setResources(cp.getLinux().getResources().toBuilder()
                .putUnified("memory.swap.max", "134217728"))).build();
        Map<String, String> plainUnified = create(s, plain, cp).getAdjust().getLinux().getResources().getUnifiedMap();
        assertThat(plainUnified).as("LimitedSwap is request-proportional: the kubelet's value stays")
                .doesNotContainKey("memory.swap.max").containsEntry("memory.oom.group", "1");
    }

    @Test
    void nriOnlyModeInfersTheQosClassFromTheCgroupParent() throws Exception {
        start(null, WardenConfig.DEFAULTS);
        FakeRuntime.Session s = connect();
        PodSandbox g = sandbox("pod-g", "shop", "g", "uid-g", Map.of(), "/kubepods/poduid-g");
        CreateContainerResponse resp = create(s, g, container("c-g", "pod-g", "main", GI,
                ContainerState.CONTAINER_CREATED));
        assertThat(resp.getAdjust().getLinux().getResources().getUnifiedMap())
                .containsEntry("memory.swap.max", "0").containsEntry("memory.oom.group", "1");
        assertThat(NriPodSource.inferQos("/kubepods/besteffort/pod1")).hasToString("BestEffort");
        assertThat(NriPodSource.inferQos("kubepods-burstable-pod1.slice")).hasToString("Burstable");
        assertThat(NriPodSource.inferQos("kubepods-pod1.slice")).hasToString("Guaranteed");
    }

    @Test
    void configFromConfigureReplacesTheCommandLineConfig() throws Exception {
        start(manifest(), WardenConfig.DEFAULTS);
        FakeRuntime.Session s = rt.accept().autoRegister();
        configure(s, CONFIG);
        PodSandbox qos = sandbox("pod-q", "shop", "qos", "", Map.of("class.memory-qos.nri.io", "bronze"),
                "kubepods-burstable-podq.slice");
        CreateContainerResponse resp = create(s, qos, container("c-q", "pod-q", "app", GI,
                ContainerState.CONTAINER_CREATED));
        assertThat(resp.getAdjust().getLinux().getResources().getUnifiedMap())
                .containsEntry("memory.high", Long.toString(512 * MI)).containsEntry("memory.swap.max", "max");

        Response bad = s.call("Configure", ConfigureRequest.newBuilder().setConfig("swap: {behavior: Sometimes}").build());
        assertThat(bad.getStatus().getCode()).isEqualTo(StatusCode.UNKNOWN);
        assertThat(bad.getStatus().getMessage()).contains("swap.behavior");
    }

    @Test
    void updateContainerRecomputesForTheNewLimit() throws Exception {
        start(manifest(), config());
        FakeRuntime.Session s = connect();
        PodSandbox qos = sandbox("pod-q", "shop", "qos", "", Map.of("class.memory-qos.nri.io", "bronze"),
                "kubepods-burstable-podq.slice");
        Container c = container("c-q", "pod-q", "app", GI, ContainerState.CONTAINER_RUNNING);
        create(s, qos, c);
        LinuxResources resized = LinuxResources.newBuilder().setMemory(LinuxMemory.newBuilder()
                .setLimit(OptionalInt64.newBuilder().setValue(2 * GI))).build();
        UpdateContainerResponse u = s.callOk("UpdateContainer", UpdateContainerRequest.newBuilder().setPod(qos)
                .setContainer(c).setLinuxResources(resized).build(), UpdateContainerResponse.parser());
        assertThat(u.getUpdateList()).hasSize(1);
        ContainerUpdate up = u.getUpdate(0);
        assertThat(up.getContainerId()).isEqualTo("c-q");
        assertThat(up.getLinux().getResources().getUnifiedMap()).containsEntry("memory.high", Long.toString(GI));
        assertThat(up.getLinux().getResources().hasMemory()).as("the runtime applies the new limit itself").isFalse();
    }

    @Test
    void anInvalidAnnotationFailsOnlyThatContainer() throws Exception {
        start(manifest(), config());
        FakeRuntime.Session s = connect();
        PodSandbox bad = sandbox("pod-b", "shop", "bad", "", Map.of("class.memory-qos.nri.io/app", "gold"),
                "kubepods-burstable-podb.slice");
        Response r = s.call("CreateContainer", CreateContainerRequest.newBuilder().setPod(bad)
                .setContainer(container("c-app", "pod-b", "app", GI, ContainerState.CONTAINER_CREATED)).build());
        List<PlanError> errors = new Planner(V2, kubelet(), config()).planPod(pod("bad")).errors();
        assertThat(errors).hasSize(1);
        assertThat(r.getStatus().getCode()).isEqualTo(StatusCode.UNKNOWN);
        assertThat(r.getStatus().getMessage()).isEqualTo(errors.getFirst().message());

        CreateContainerResponse side = create(s, bad, container("c-side", "pod-b", "side", GI,
                ContainerState.CONTAINER_CREATED));
        assertThat(side.hasAdjust()).isTrue();
    }

    @Test
    void aCallWaitingForItsPodSpecDoesNotHoldUpOtherCalls() throws Exception {
        PodSpecSource lagging = new PodSpecSource() {
            @Override
            public java.util.Optional<ResolvedPod> lookup(PodQuery query) {
                return java.util.Optional.empty();
            }

            @Override
            public boolean mayArriveLater() {
                return true;
            }

            @Override
            public String describe() {
                return "a watch that never delivers";
            }
        };
        start(lagging, WardenConfig.DEFAULTS);
        FakeRuntime.Session s = connect();
        long t0 = System.nanoTime();
        var pending = s.callRaw(WireFormat.PLUGIN_SERVICE, "CreateContainer", CreateContainerRequest.newBuilder()
                .setPod(WEB).setContainer(container("c1", "pod-web", "app", GI, ContainerState.CONTAINER_CREATED))
                .build().toByteArray());
        assertThat(configure(s, "").getEvents()).isEqualTo(MASK_V06);
        assertThat(pending).as("still waiting for the pod spec").isNotDone();
        Response r = pending.get(5, TimeUnit.SECONDS);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertThat(r.getStatus().getCode()).isZero();
        assertThat(millis).isBetween(450L, 1500L);
        assertThat(CreateContainerResponse.parseFrom(r.getPayload()).getAdjust().getLinux().hasOomScoreAdj())
                .as("fell back to NRI data").isFalse();
    }

    @Test
    void unknownMethodsAndServicesAreUnimplemented() throws Exception {
        start(null, WardenConfig.DEFAULTS);
        FakeRuntime.Session s = connect();
        Response r = s.call("ValidateContainerAdjustment", Empty.getDefaultInstance());
        assertThat(r.getStatus().getCode()).isEqualTo(StatusCode.UNIMPLEMENTED);
        Response r2 = s.callRaw("grpc.health.v1.Health", "Check", new byte[0]).get(5, TimeUnit.SECONDS);
        assertThat(r2.getStatus().getCode()).isEqualTo(StatusCode.UNIMPLEMENTED);
        // the connection still works
        assertThat(configure(s, "").getEvents()).isEqualTo(MASK_V06);
    }

    /**
     * A Synchronize answered after the runtime's request timeout (here 2 s, timed by a fake clock: a sync taking 1 s
     * is answered, one taking 3 s is not): the runtime has given up on it. The real NRI v0.6.1 runtime then keeps the connection
     * open but never adds the plugin, so no event would ever come (seen in the interop tier with a cold JVM and 150
     * containers on a busy core). memwarden must close the connection and register again; the runtime's next
     * Synchronize is answered normally.
     */
    @Test
    void aSynchronizeAnsweredPastTheRequestTimeoutStartsANewConnection() throws Exception {
        start(manifest(), WardenConfig.DEFAULTS);
        java.util.concurrent.atomic.AtomicLong now = new java.util.concurrent.atomic.AtomicLong();
        java.util.concurrent.atomic.AtomicLong step = new java.util.concurrent.atomic.AtomicLong(1000);
        plugin.useClock(() -> now.getAndAdd(step.get()));
        FakeRuntime.Session s = connect();
        Container app = container("ctr-app", "pod-web", "app", 2 * GI, ContainerState.CONTAINER_RUNNING);
        SynchronizeRequest sync = SynchronizeRequest.newBuilder().addPods(WEB).addContainers(app).build();
        // 1 s of a 2 s timeout: in time
        assertThat(s.callOk("Synchronize", sync, SynchronizeResponse.parser()).getUpdateList()).hasSize(1);
        step.set(3000);
        s.callRaw(WireFormat.PLUGIN_SERVICE, "Synchronize", sync.toByteArray()); // its answer would come too late
        assertThat(s.awaitClosed()).as("memwarden closes the connection").isIn("eof", "reset");
        step.set(0);
        FakeRuntime.Session again = connect();
        SynchronizeResponse resp = again.callOk("Synchronize", sync, SynchronizeResponse.parser());
        assertThat(resp.getUpdateList()).extracting(ContainerUpdate::getContainerId).containsExactly("ctr-app");
        assertThat(plugin.awaitFirstSync(java.time.Duration.ofSeconds(5))).isTrue();
    }

    @Test
    void splitSynchronizeEchoesMoreAndUpdatesOnlyAfterTheLastChunk() throws Exception {
        start(manifest(), WardenConfig.DEFAULTS);
        FakeRuntime.Session s = connect();
        Container app = container("ctr-app", "pod-web", "app", 2 * GI, ContainerState.CONTAINER_RUNNING);
        SynchronizeResponse first = s.callOk("Synchronize", SynchronizeRequest.newBuilder().addPods(WEB)
                .setMore(true).build(), SynchronizeResponse.parser());
        assertThat(first.getMore()).isTrue();
        assertThat(first.getUpdateList()).isEmpty();
        SynchronizeResponse last = s.callOk("Synchronize", SynchronizeRequest.newBuilder().addContainers(app)
                .build(), SynchronizeResponse.parser());
        assertThat(last.getMore()).isFalse();
        assertThat(last.getUpdateList()).hasSize(1);
        ContainerPlan expected = new Planner(V2, kubelet(), WardenConfig.DEFAULTS).planPod(pod("web")).plan()
                .containers().getFirst();
        assertThat(last.getUpdate(0).getContainerId()).isEqualTo("ctr-app");
        assertThat(last.getUpdate(0).getIgnoreFailure()).isTrue();
        assertThat(last.getUpdate(0).getLinux().getResources().getUnifiedMap())
                .isEqualTo(withoutMemoryMax(expected.cgroup()));
    }

    @Test
    void largeAnswersAreSentInMuxFramesOfAtMost4096Bytes() throws Exception {
        start(null, WardenConfig.DEFAULTS);
        FakeRuntime.Session s = connect();
        // 300 containers in 10 pods: an answer of many mux frames (planning cost grows with a pod's size, and a
        // node's pods hold a handful of containers each)
        SynchronizeRequest.Builder sync = SynchronizeRequest.newBuilder();
        for (int p = 0; p < 10; p++) {
            sync.addPods(sandbox("pod-big" + p, "shop", "big" + p, "", Map.of(),
                    "kubepods-burstable-podbig" + p + ".slice"));
        }
        for (int i = 0; i < 300; i++) {
            sync.addContainers(container("container-with-a-long-id-" + i, "pod-big" + i % 10, "c" + i, GI,
                    ContainerState.CONTAINER_RUNNING));
        }
        SynchronizeResponse resp = s.callOk("Synchronize", sync.build(), SynchronizeResponse.parser());
        assertThat(resp.getUpdateList()).hasSize(300);
        assertThat(resp.getSerializedSize()).isGreaterThan(3 * 4096);
        assertThat(s.frameSizes).allMatch(n -> n <= 4096).contains(4096);
    }

    @Test
    void reconfigureSendsUnsolicitedUpdates() throws Exception {
        start(manifest(), WardenConfig.DEFAULTS);
        FakeRuntime.Session s = connect();
        PodSandbox qos = sandbox("pod-q", "shop", "qos", "", Map.of("class.memory-qos.nri.io", "bronze"),
                "kubepods-burstable-podq.slice");
        Container c = container("c-q", "pod-q", "app", GI, ContainerState.CONTAINER_RUNNING);
        CreateContainerResponse created = create(s, qos, c);
        assertThat(created.getAdjust().getLinux().getResources().getUnifiedMap()).doesNotContainKey("memory.high");

        var future = plugin.reconfigure(config());
        FakeRuntime.PluginCall call = s.awaitCall("UpdateContainers");
        UpdateContainersRequest req = UpdateContainersRequest.parseFrom(call.request().getPayload());
        assertThat(req.getUpdateList()).hasSize(1);
        assertThat(req.getUpdate(0).getContainerId()).isEqualTo("c-q");
        assertThat(req.getUpdate(0).getLinux().getResources().getUnifiedMap())
                .containsEntry("memory.high", Long.toString(512 * MI)).containsEntry("memory.swap.max", "max");
        s.reply(call, UpdateContainersResponse.getDefaultInstance());
        assertThat(future.get(5, TimeUnit.SECONDS)).isEmpty();

        // stopped (and removed via StateChange) containers are forgotten: nothing more to update
        s.callOk("StopContainer", StopContainerRequest.newBuilder().setPod(qos).setContainer(c).build(),
                StopContainerResponse.parser());
        s.callOk("StateChange", StateChangeEvent.newBuilder().setEvent(Event.REMOVE_CONTAINER).setPod(qos)
                .setContainer(c).build(), Empty.parser());
        assertThat(plugin.reconfigure(WardenConfig.DEFAULTS).get(5, TimeUnit.SECONDS)).isEmpty();
        assertThat(s.pluginCalls).isEmpty();
    }

    @Test
    void dedicatedLifecycleCallsAreAnswered() throws Exception {
        start(null, WardenConfig.DEFAULTS);
        FakeRuntime.Session s = connect();
        RunPodSandboxRequest run = RunPodSandboxRequest.newBuilder()
                .setPod(WEB).build();
        assertThat(s.call("RunPodSandbox", run).getStatus().getCode()).isZero();
        assertThat(s.call("StartContainer", StartContainerRequest.newBuilder().setPod(WEB)
                .build()).getStatus().getCode()).isZero();
        assertThat(s.call("RemovePodSandbox", RemovePodSandboxRequest.newBuilder().setPod(WEB)
                .build()).getStatus().getCode()).isZero();
        assertThat(s.call("StateChange", StateChangeEvent.newBuilder().setEvent(Event.POST_START_CONTAINER).build())
                .getStatus().getCode()).isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = {"oversize-mux", "unknown-conn", "conn-zero", "oversize-ttrpc", "bad-type"})
    void malformedFramesCloseTheConnectionAndThePluginReconnects(String kind) throws Exception {
        start(null, WardenConfig.DEFAULTS);
        FakeRuntime.Session s = connect();
        ByteBuffer b = ByteBuffer.allocate(64);
        switch (kind) {
            case "oversize-mux" -> b.putInt(1).putInt((4 << 20) + 11);
            case "unknown-conn" -> b.putInt(7).putInt(10).put(new byte[10]);
            case "conn-zero" -> b.putInt(0).putInt(0);
            case "oversize-ttrpc" -> b.putInt(1).putInt(10).putInt((4 << 20) + 1).putInt(3).put((byte) 1).put((byte) 0);
            case "bad-type" -> b.putInt(1).putInt(10).putInt(0).putInt(3).put((byte) 9).put((byte) 0);
            default -> throw new IllegalArgumentException(kind);
        }
        b.flip();
        s.writeRaw(b);
        assertThat(s.awaitClosed()).isIn("eof", "reset");
        // reconnect with backoff and register again
        FakeRuntime.Session again = rt.accept().autoRegister();
        assertThat(configure(again, "").getEvents()).isEqualTo(MASK_V06);
    }

    @Test
    void garbageClosesTheConnectionWithoutHanging() throws Exception {
        start(null, WardenConfig.DEFAULTS);
        FakeRuntime.Session s = connect();
        byte[] junk = new byte[256];
        new java.util.Random(42).nextBytes(junk);
        junk[0] = (byte) 0xff; // conn id 0xff…: unknown
        s.writeRaw(ByteBuffer.wrap(junk));
        assertThat(s.awaitClosed()).isIn("eof", "reset");
    }

    @Test
    void evenStreamIdsAreRefused() throws Exception {
        start(null, WardenConfig.DEFAULTS);
        FakeRuntime.Session s = connect();
        // a Request on stream 2 (even): the plugin answers InvalidArgument on that stream and stays up
        var req = Request.newBuilder().setService(WireFormat.PLUGIN_SERVICE)
                .setMethod("Configure").build();
        s.send(new TtrpcMessage(1, 2, WireFormat.TYPE_REQUEST, (byte) 0, req.toByteArray()));
        assertThat(configure(s, "").getEvents()).isEqualTo(MASK_V06);
    }

    @Test
    void launchedPluginServesAnInheritedSocket() throws Exception {
        FdChannel[] pair = FdChannel.socketPair();
        plugin = new NriPlugin(NriPlugin.Options.DEFAULTS.withName("mw").withIndex("07"), V2, kubelet(),
                WardenConfig.DEFAULTS, manifest());
        runner = Thread.ofPlatform().daemon().start(() -> {
            try {
                plugin.runSession(pair[0]);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        FakeRuntime.Session s = new FakeRuntime.Session(pair[1]);
        FakeRuntime.PluginCall reg = s.awaitCall("RegisterPlugin");
        assertThat(RegisterPluginRequest.parseFrom(reg.request().getPayload()).getPluginIdx()).isEqualTo("07");
        s.reply(reg, Empty.getDefaultInstance());
        configure(s, "");
        CreateContainerResponse resp = create(s, WEB, container("ctr-app", "pod-web", "app", 2 * GI,
                ContainerState.CONTAINER_CREATED));
        assertThat(resp.getAdjust().getLinux().getResources().getUnifiedMap()).containsKey("memory.swap.max");
        s.close();
        runner.join(5000);
        assertThat(runner.isAlive()).as("session ends when the runtime closes the socket").isFalse();
    }

    @Test
    void registrationIsRefusedWhenTheRuntimeSaysSo() throws Exception {
        start(null, WardenConfig.DEFAULTS);
        FakeRuntime.Session s = rt.accept();
        s.replyError(s.awaitCall("RegisterPlugin"), StatusCode.INVALID_ARGUMENT, "plugin name taken");
        assertThat(s.awaitClosed()).isIn("eof", "reset");
        assertThat(plugin.registrations()).isZero();
        assertThatThrownBy(() -> new NriPlugin.Options("bad name", "50", null, null))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> NriPlugin.Options.DEFAULTS.withIndex("5"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    static void unused(RpcException e) {}
}
