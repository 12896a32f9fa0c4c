package io.memwarden.nri;

import static io.memwarden.nri.NriFixtures.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.input.InputException;
import io.memwarden.input.WardenConfigReader;
import io.memwarden.input.YamlDocs;
import io.memwarden.nri.api.ConfigureRequest;
import io.memwarden.nri.api.ConfigureResponse;
import io.memwarden.nri.api.Container;
import io.memwarden.nri.api.ContainerState;
import io.memwarden.nri.api.ContainerUpdate;
import io.memwarden.nri.api.CreateContainerRequest;
import io.memwarden.nri.api.CreateContainerResponse;
import io.memwarden.nri.api.PodSandbox;
import io.memwarden.nri.api.SynchronizeRequest;
import io.memwarden.nri.api.SynchronizeResponse;
import io.memwarden.nri.wire.pb.Response;
import io.memwarden.policy.WardenConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * One poisoned pod among good ones (issue #11, class 1): the Synchronize still answers for every other container,
 * the poisoned pod's containers alone are refused with a message that names the annotation and its value, the
 * connection stays up, and the refusal is reported (the agent turns it into a pod event).
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class NriPoisonedPodTest {
    @TempDir
    Path dir;
    FakeRuntime rt;
    NriPlugin plugin;
    Thread runner;
    final List<String> failures = new CopyOnWriteArrayList<>();

    /** Annotations a hostile pod author writes; each one poisons its pod. */
    static final Map<String, Map<String, String>> POISON = Map.of(
            "huge", Map.of("memory.swap.max.memory-qos.nri.io", "99999999999999999999"),
            "spelled", Map.of("memory.high.memory-qos.nri.io", "100Gi"),
            "newline", Map.of("memory.swap.max.memory-qos.nri.io", "1\nmemwarden: forged log line"),
            "path", Map.of("../../cgroup.procs.memory-qos.nri.io", "1"),
            "nul", Map.of("memory.high.memory-qos.nri.io/app", "1G\0"));

    static WardenConfig cappedConfig() throws InputException {
        return WardenConfigReader.parse("config.yaml", YamlDocs.readAll("config.yaml", CONFIG
                + "swap: {maxPerContainer: 1Gi}\n").getFirst());
    }

    @BeforeEach
    void start() throws Exception {
        rt = new FakeRuntime(dir);
        plugin = new NriPlugin(NriPlugin.Options.DEFAULTS, V2, kubelet(), cappedConfig(), null)
                .onPlanFailure((ns, pod, uid, c, m) -> failures.add(ns + "/" + pod + ":" + c + ": " + m));
        runner = Thread.ofPlatform().daemon().start(() -> {
            try {
                plugin.runExternal(rt.socket);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    @AfterEach
    void stop() throws Exception {
        plugin.stop();
        runner.join(5000);
        rt.close();
    }

    FakeRuntime.Session connect() throws Exception {
        FakeRuntime.Session s = rt.accept().autoRegister();
        s.callOk("Configure", ConfigureRequest.newBuilder().setRuntimeName("containerd").setRuntimeVersion("1.7.24")
                .setRegistrationTimeout(5000).setRequestTimeout(2000).build(), ConfigureResponse.parser());
        return s;
    }

    static PodSandbox pod(String name, Map<String, String> annotations) {
        return sandbox("pod-" + name, "shop", name, "uid-" + name, annotations, "kubepods-pod" + name + ".slice");
    }

    static Container app(String pod) {
        return container("ctr-" + pod, "pod-" + pod, "app", GI, ContainerState.CONTAINER_RUNNING);
    }

    @Test
    void synchronizeAnswersForEveryGoodContainerAndRefusesOnlyThePoisonedPods() throws Exception {
        FakeRuntime.Session s = connect();
        SynchronizeRequest.Builder sync = SynchronizeRequest.newBuilder();
        sync.addPods(pod("good1", Map.of())).addContainers(app("good1"));
        for (var e : POISON.entrySet()) {
            sync.addPods(pod(e.getKey(), e.getValue())).addContainers(app(e.getKey()));
        }
        // a good pod whose value is spelled with a unit: read as 100 GiB, then capped at 1 GiB
        sync.addPods(pod("good2", Map.of("memory.swap.max.memory-qos.nri.io", " 100G\n"))).addContainers(app("good2"));

        SynchronizeResponse resp = s.callOk("Synchronize", sync.build(), SynchronizeResponse.parser());

        Map<String, ContainerUpdate> byId = resp.getUpdateList().stream()
                .collect(Collectors.toMap(ContainerUpdate::getContainerId, u -> u));
        assertThat(byId.keySet()).containsExactlyInAnyOrder("ctr-good1", "ctr-good2");
        assertThat(byId.get("ctr-good2").getLinux().getResources().getUnifiedMap())
                .containsEntry("memory.swap.max", Long.toString(GI));
        // the runtime's other calls are still served on the same connection
        CreateContainerResponse created = s.callOk("CreateContainer", CreateContainerRequest.newBuilder()
                .setPod(pod("good3", Map.of())).setContainer(app("good3")).build(), CreateContainerResponse.parser());
        assertThat(created.getAdjust().getLinux().getResources().getUnifiedMap()).containsKey("memory.swap.max");
        assertThat(plugin.managed()).extracting(NriPlugin.ManagedContainer::pod)
                .containsExactlyInAnyOrder("good1", "good2", "good3");
        // each poisoned pod reported once, in one line, naming what is wrong
        assertThat(failures).hasSize(POISON.size());
        assertThat(failures).allSatisfy(f -> assertThat(f).doesNotContain("\n").doesNotContain("java.")
                .doesNotContain("Exception"));
        assertThat(failures).anySatisfy(f -> assertThat(f).startsWith("shop/huge:app: ")
                .contains("memory.swap.max.memory-qos.nri.io").contains("99999999999999999999"));
        assertThat(failures).anySatisfy(f -> assertThat(f).startsWith("shop/spelled:app: ").contains("100Gi"));
        assertThat(failures).anySatisfy(f -> assertThat(f).startsWith("shop/newline:app: ").contains("1\\nmemwarden"));
        assertThat(failures).anySatisfy(f -> assertThat(f).startsWith("shop/path:app: ")
                .contains("../../cgroup.procs"));
    }

    @Test
    void createContainerOfAPoisonedPodFailsAloneWithTheReason() throws Exception {
        FakeRuntime.Session s = connect();
        for (var e : POISON.entrySet()) {
            Response r = s.call("CreateContainer", CreateContainerRequest.newBuilder().setPod(pod(e.getKey(),
                    e.getValue())).setContainer(app(e.getKey())).build());
            assertThat(r.hasStatus()).as(e.getKey()).isTrue();
            assertThat(r.getStatus().getCode()).as(e.getKey()).isNotZero();
            assertThat(r.getStatus().getMessage()).as(e.getKey()).doesNotContain("\n").doesNotContain("java.")
                    .containsAnyOf("memory-qos.nri.io", "invalid annotation");
            // the next pod is served as usual
            CreateContainerResponse ok = s.callOk("CreateContainer", CreateContainerRequest.newBuilder()
                    .setPod(pod("ok-" + e.getKey(), Map.of())).setContainer(app("ok-" + e.getKey())).build(),
                    CreateContainerResponse.parser());
            assertThat(ok.hasAdjust()).isTrue();
        }
        assertThat(failures).hasSize(POISON.size());
    }
}
