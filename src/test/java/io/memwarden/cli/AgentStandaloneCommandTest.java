package io.memwarden.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code memwarden agent --standalone}: its usage errors (the mode itself is tested in AgentStandaloneTest). */
class AgentStandaloneCommandTest {
    @TempDir
    Path dir;

    int run(StringWriter err, String... args) {
        return Main.run(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true), args);
    }

    @Test
    void standaloneExcludesTheNriOptions() {
        for (String[] nri : new String[][] {{"--nri-socket", "/run/nri.sock"}, {"--nri-index", "10"}}) {
            StringWriter err = new StringWriter();
            assertThat(run(err, "agent", "--standalone", nri[0], nri[1])).isEqualTo(ExitCodes.USAGE);
            assertThat(err.toString()).contains("--standalone and " + nri[0] + " exclude each other");
        }
    }

    @Test
    void standaloneNeedsPodSpecs() throws Exception {
        Path kcfg = dir.resolve("kubelet.yaml");
        Files.writeString(kcfg, "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
                + "failSwapOn: false\n");
        StringWriter err = new StringWriter();
        assertThat(run(err, "agent", "--standalone", "--kube", "off", "--listen", "off", "--kubelet-config",
                kcfg.toString())).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).contains("--standalone needs pod specs: the Kubernetes API (--kube on, or a"
                + " kubeconfig) or --pods PODS.yaml");
    }

    @Test
    void helpMentionsStandalone() {
        StringWriter out = new StringWriter();
        Main.run(new PrintWriter(out, true), new PrintWriter(new StringWriter(), true), "agent", "--help");
        assertThat(out.toString().replaceAll("\\s+", " ")).contains("[--standalone]").contains("docs/agent-standalone");
    }
}
