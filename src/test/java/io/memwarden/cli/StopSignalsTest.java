package io.memwarden.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.memwarden.cgroup.HostProbe;
import io.memwarden.nri.FakeRuntime;
import io.memwarden.nri.api.ConfigureRequest;
import io.memwarden.nri.api.ConfigureResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM and SIGINT end the daemons in order, with exit code 0 (docs/agent.md, docs/nri.md, "Shutdown"); a second
 * signal, or a stop that does not finish within its bound, still ends the process. Real processes: only they show a
 * signal's exit code.
 */
class StopSignalsTest {
    private static final Duration START = Duration.ofSeconds(60);
    private static final Duration STOP = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void agentStopsInOrderOnSigtermAndExitsZero() throws Exception {
        assumeTrue(HostProbe.probe().memoryController() != null, "the agent needs a cgroup memory controller");
        Path kcfg = dir.resolve("kubelet.yaml");
        Files.writeString(kcfg, "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
                + "failSwapOn: false\n");
        try (FakeRuntime rt = new FakeRuntime(dir);
             CliProcess agent = CliProcess.memwarden(dir.resolve("agent.log"), "agent", "--nri-socket",
                     rt.socket.toString(), "--kubelet-config", kcfg.toString(), "--listen", "off", "--kube", "off")) {
            FakeRuntime.Session s = rt.accept().autoRegister();
            agent.await("memwarden agent: serving", START);

            agent.process.destroy(); // SIGTERM

            assertThat(agent.exitCode(STOP)).as(agent.output()).isZero();
            String out = agent.output();
            assertThat(out).contains("memwarden agent: SIGTERM received: stopping",
                    "memwarden agent: stopped by SIGTERM: NRI connection, loops, OOM watch and status API closed;"
                            + " every container keeps its cgroup values");
            assertThat(out).doesNotContain("Exception");
            assertThat(s.awaitClosed()).as("the plugin closed its NRI connection").isIn("eof", "reset");
        }
    }

    @Test
    void nriStopsInOrderOnSigintAndExitsZero() throws Exception {
        try (FakeRuntime rt = new FakeRuntime(dir);
             CliProcess nri = CliProcess.memwarden(dir.resolve("nri.log"), "nri", "--socket", rt.socket.toString(),
                     "--node", "examples/node.yaml")) {
            FakeRuntime.Session s = rt.accept().autoRegister();
            s.callOk("Configure", ConfigureRequest.getDefaultInstance(), ConfigureResponse.parser()); // serving

            nri.signal("INT");

            assertThat(nri.exitCode(STOP)).as(nri.output()).isZero();
            assertThat(nri.output()).contains("memwarden nri: SIGINT received: stopping",
                    "memwarden nri: stopped by SIGINT: NRI connection closed; every container keeps its cgroup values")
                    .doesNotContain("Exception");
            assertThat(s.awaitClosed()).isIn("eof", "reset");
        }
    }

    @Test
    void nriStopsOnSigtermWhileTheRuntimeIsAwayToo() throws Exception {
        // no runtime: the plugin is between reconnect attempts
        try (CliProcess nri = CliProcess.memwarden(dir.resolve("nri.log"), "nri", "--socket",
                dir.resolve("absent.sock").toString(), "--node", "examples/node.yaml")) {
            nri.await("cannot connect to NRI socket", START);
            nri.process.destroy();
            assertThat(nri.exitCode(STOP)).as(nri.output()).isZero();
            assertThat(nri.output()).contains("memwarden nri: stopped by SIGTERM");
        }
    }

    @Test
    void aStopThatHangsEndsAtItsBoundWithExitCodeOne() throws Exception {
        try (CliProcess p = probe("hang")) {
            p.process.destroy();
            assertThat(p.exitCode(STOP)).as(p.output()).isEqualTo(ExitCodes.FAILURE);
            assertThat(p.output()).contains("probe: SIGTERM received: stopping",
                    "probe: the orderly stop did not finish within 1 s of SIGTERM: exiting at once (exit code 1)")
                    .doesNotContain("probe: stopped by");
        }
    }

    @Test
    void aSecondSignalWhileStoppingEndsTheProcessAtOnce() throws Exception {
        // a bound far beyond the test's wait: only the second signal can end it in time
        try (CliProcess p = CliProcess.start(dir.resolve("probe.log"), List.of(), StopSignalsProbe.class.getName(),
                "600000", "hang")) {
            p.await("probe: ready", START);
            p.signal("TERM");
            p.await("probe: SIGTERM received: stopping", START);
            p.signal("INT");
            assertThat(p.exitCode(STOP)).as(p.output()).isEqualTo(128 + 2);
            assertThat(p.output()).contains("probe: SIGINT while stopping after SIGTERM: exiting at once (exit code"
                    + " 130)");
        }
    }

    @Test
    void aStopThatFinishesExitsWithTheCommandsCode() throws Exception {
        try (CliProcess p = probe("finish")) {
            p.signal("INT");
            assertThat(p.exitCode(STOP)).as(p.output()).isZero();
            assertThat(p.output()).contains("probe: stopped by SIGINT");
        }
    }

    private CliProcess probe(String mode) throws Exception {
        CliProcess p = CliProcess.start(dir.resolve("probe.log"), List.of(), StopSignalsProbe.class.getName(), "1000",
                mode);
        p.await("probe: ready", START);
        return p;
    }
}
