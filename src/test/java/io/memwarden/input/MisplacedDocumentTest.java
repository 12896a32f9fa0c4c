package io.memwarden.input;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.memwarden.policy.KubeletSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** A document given to the wrong option names the option it belongs to (issue #18 item 3). */
class MisplacedDocumentTest {
    @TempDir
    Path dir;

    /** The bundled example files, each passed as plan's -f, name their own option. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "examples/kubelet-config.yaml | this is a KubeletConfiguration: pass it with --kubelet-config",
            "examples/memwarden.yaml      | : pass it with --config",
            "examples/node.yaml           | this looks like node facts (",
            "examples/kubevirt.yaml       | this is the KubeVirt CR: pass it with --kubevirt-config",
            "examples/usage.yaml          | this looks like a usage file (pods: namespace, name, workingSet): pass it with --usage"})
    void planFileOfAnotherOptionNamesIt(String file, String hint) {
        assertThatThrownBy(() -> PodManifestReader.read(Path.of(file)))
                .isInstanceOf(InputException.class)
                .hasMessageContaining(file + " document 1: ")
                .hasMessageContaining(hint);
    }

    @Test
    void aNodeAsPlanInputPointsAtNodeFactsAndDensity() throws IOException {
        Path f = write("apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n");
        assertThatThrownBy(() -> PodManifestReader.read(f)).isInstanceOf(InputException.class)
                .hasMessageContaining("kind \"Node\" is not supported")
                .hasMessageContaining("this is a Node: pass node facts with --node")
                .hasMessageContaining("memwarden density --nodes");
    }

    @Test
    void densityWorkloadsNameNodesAndKubeletConfig() throws IOException {
        Path node = write("apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n");
        assertThatThrownBy(() -> ClusterReader.readWorkloads(node)).isInstanceOf(InputException.class)
                .hasMessageContaining("this is a Node: pass it with --nodes");
        assertThatThrownBy(() -> ClusterReader.readWorkloads(Path.of("examples/kubelet-config.yaml")))
                .isInstanceOf(InputException.class).hasMessageContaining("pass it with --kubelet-config");
        Path pod = write("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c}]}\n");
        assertThatThrownBy(() -> ClusterReader.readNodes(pod, KubeletSettings.DEFAULTS))
                .isInstanceOf(InputException.class).hasMessageContaining("this is a Pod: pass workloads with -f");
    }

    @Test
    void anUnknownKindOrAPodGetsNoHint() throws IOException {
        Path f = write("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n");
        assertThatThrownBy(() -> PodManifestReader.read(f)).isInstanceOf(InputException.class)
                .hasMessageEndingWith("(expected Pod, List, PodList, VirtualMachineInstance or VirtualMachine)");
        Path noKind = write("foo: 1\n");
        assertThatThrownBy(() -> PodManifestReader.read(noKind)).isInstanceOf(InputException.class)
                .hasMessageEndingWith("VirtualMachineInstance or VirtualMachine)");
    }

    @Test
    void hintIsOneLine() throws IOException {
        assertThat(MisplacedDocument.hint(null, "--node")).isEmpty();
    }

    private Path write(String text) throws IOException {
        Path f = dir.resolve("doc" + System.nanoTime() + ".yaml");
        Files.writeString(f, text);
        return f;
    }
}
