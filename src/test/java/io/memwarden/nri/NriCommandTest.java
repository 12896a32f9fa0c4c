package io.memwarden.nri;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.cli.Main;
import io.memwarden.nri.api.ConfigureRequest;
import io.memwarden.nri.api.ConfigureResponse;
import io.memwarden.nri.api.ContainerState;
import io.memwarden.nri.api.CreateContainerRequest;
import io.memwarden.nri.api.CreateContainerResponse;
import io.memwarden.nri.api.Empty;
import io.memwarden.nri.api.RegisterPluginRequest;
import io.memwarden.nri.api.UpdateContainersRequest;
import io.memwarden.nri.api.UpdateContainersResponse;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code memwarden nri}: the command-line contract, and one whole run against the fake runtime. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class NriCommandTest {
    @TempDir
    Path dir;

    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void helpListsTheContract() {
        Run r = run("nri", "--help");
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("--socket", "--index", "--name", "--config",
                "--kubelet-config", "--node", "--pods");
    }

    @Test
    void badInputsAreUsageErrors() {
        Run idx = run("nri", "--node", "examples/node.yaml", "--index", "5");
        assertThat(idx.code()).isEqualTo(2);
        assertThat(idx.err()).contains("exactly two digits");
        Run name = run("nri", "--node", "examples/node.yaml", "--name", "no spaces");
        assertThat(name.code()).isEqualTo(2);
        Run pods = run("nri", "--node", "examples/node.yaml", "--pods", dir.resolve("missing.yaml").toString());
        assertThat(pods.code()).isEqualTo(2);
        assertThat(pods.err()).contains("missing.yaml");
    }

    @Test
    void aChangedConfigFileUpdatesRunningContainers() throws Exception {
        Path cfg = dir.resolve("memwarden.yaml");
        java.nio.file.Files.writeString(cfg, "{}\n");
        try (FakeRuntime rt = new FakeRuntime(dir)) {
            CompletableFuture<Run> done = CompletableFuture.supplyAsync(() -> run("nri", "--socket",
                    rt.socket.toString(), "--node", "examples/node.yaml", "--config", cfg.toString()));
            FakeRuntime.Session s = rt.accept().autoRegister();
            s.callOk("Configure", ConfigureRequest.getDefaultInstance(), ConfigureResponse.parser());
            var pod = NriFixtures.sandbox("p1", "shop", "q", "", Map.of("class.memory-qos.nri.io", "bronze"),
                    "kubepods-burstable-p1.slice");
            CreateContainerResponse resp = s.callOk("CreateContainer", CreateContainerRequest.newBuilder().setPod(pod)
                    .setContainer(NriFixtures.container("c1", "p1", "app", NriFixtures.GI,
                            ContainerState.CONTAINER_RUNNING)).build(), CreateContainerResponse.parser());
            assertThat(resp.getAdjust().getLinux().getResources().getUnifiedMap()).doesNotContainKey("memory.high");

            java.nio.file.Files.writeString(cfg, "memoryQos: {classes: [{name: bronze, swaplimitratio: 0.5}]}\n");
            FakeRuntime.PluginCall call = s.awaitCall("UpdateContainers");
            var req = UpdateContainersRequest.parseFrom(call.request().getPayload());
            assertThat(req.getUpdate(0).getLinux().getResources().getUnifiedMap())
                    .containsEntry("memory.high", Long.toString(512 * NriFixtures.MI));
            s.reply(call, UpdateContainersResponse.getDefaultInstance());

            s.callOk("Shutdown", Empty.getDefaultInstance(), Empty.parser());
            Run r = done.get(10, TimeUnit.SECONDS);
            assertThat(r.code()).as(r.err()).isZero();
        }
    }

    @Test
    void servesTheRuntimeAndStopsOnShutdown() throws Exception {
        try (FakeRuntime rt = new FakeRuntime(dir)) {
            CompletableFuture<Run> done = CompletableFuture.supplyAsync(() -> run("nri", "--socket",
                    rt.socket.toString(), "--node", "examples/node.yaml", "--kubelet-config",
                    "examples/kubelet-config.yaml", "--config", "examples/memwarden.yaml", "--pods",
                    "examples/pods.yaml", "--index", "42"));
            FakeRuntime.Session s = rt.accept();
            FakeRuntime.PluginCall reg = s.awaitCall("RegisterPlugin");
            assertThat(RegisterPluginRequest.parseFrom(reg.request().getPayload())
                    .getPluginIdx()).isEqualTo("42");
            s.reply(reg, Empty.getDefaultInstance());
            s.callOk("Configure", ConfigureRequest.getDefaultInstance(), ConfigureResponse.parser());
            var pod = NriFixtures.sandbox("p1", "shop", "web", "", Map.of(), "kubepods-burstable-p1.slice");
            CreateContainerResponse resp = s.callOk("CreateContainer", CreateContainerRequest.newBuilder().setPod(pod)
                    .setContainer(NriFixtures.container("c1", "p1", "app", NriFixtures.GI,
                            ContainerState.CONTAINER_CREATED)).build(), CreateContainerResponse.parser());
            assertThat(resp.getAdjust().getLinux().getResources().getUnifiedMap()).containsKey("memory.swap.max");
            assertThat(resp.getAdjust().getLinux().hasOomScoreAdj()).as("manifest pod: full plan").isTrue();
            s.callOk("Shutdown", Empty.getDefaultInstance(), Empty.parser());
            Run r = done.get(10, TimeUnit.SECONDS);
            assertThat(r.code()).as(r.err()).isZero();
        }
    }
}
