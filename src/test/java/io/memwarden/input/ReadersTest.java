package io.memwarden.input;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.memwarden.model.CgroupVersion;
import io.memwarden.model.ContainerKind;
import io.memwarden.model.SwapBehavior;
import io.memwarden.policy.KubeletSettings;
import io.memwarden.policy.ReservationPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/** Input files: defaults, accepted forms, and errors that name the file, field and value. */
class ReadersTest {

    static JsonNode yaml(String text) throws InputException {
        return YamlDocs.readAll("f.yaml", text).getFirst();
    }

    @Test
    void nodeFactsDefaultsAndErrors() throws Exception {
        var n = NodeFactsReader.parse("node.yaml", yaml("memoryCapacity: 16Gi\ncgroupVersion: 2\n"));
        assertThat(n.swapCapacity()).isZero();
        assertThat(n.pageSize()).isEqualTo(4096);
        assertThat(n.swapControllerAvailable()).isTrue();
        assertThat(n.cgroupVersion()).isEqualTo(CgroupVersion.V2);
        assertThatThrownBy(() -> NodeFactsReader.parse("node.yaml", yaml("memoryCapacity: 16GB\ncgroupVersion: 2\n")))
                .hasMessageStartingWith("node.yaml: field memoryCapacity: \"16GB\" is not a Kubernetes quantity");
        assertThatThrownBy(() -> NodeFactsReader.parse("node.yaml", yaml("memoryCapacity: 16Gi\ncgroupVersion: 3\n")))
                .hasMessage("node.yaml: field cgroupVersion: must be 1 or 2, got 3");
        assertThatThrownBy(() -> NodeFactsReader.parse("node.yaml", yaml("memoryCapacity: 16Gi\ncgroupVersion: 2\nswapCapacity: -1Gi\n")))
                .hasMessageContaining("swapCapacity").hasMessageContaining("negative");
        assertThatThrownBy(() -> NodeFactsReader.parse("node.yaml", yaml("memoryCapacity: 16Gi\ncgroupVersion: 2\nswap: 1Gi\n")))
                .hasMessageContaining("field swap: unknown field");
        assertThatThrownBy(() -> NodeFactsReader.parse("node.yaml", yaml("cgroupVersion: 2\n")))
                .hasMessageContaining("memoryCapacity").hasMessageContaining("required");
        assertThatThrownBy(() -> NodeFactsReader.parse("node.yaml", yaml("memoryCapacity: 16Gi\ncgroupVersion: 2\npageSize: 3000\n")))
                .hasMessageContaining("power of two");
    }

    @Test
    void kubeletDefaultsAre137() throws Exception {
        KubeletSettings k = KubeletConfigReader.parse("k.yaml", yaml("kind: KubeletConfiguration\n"));
        assertThat(k.failSwapOn()).isTrue();
        assertThat(k.swapBehavior()).isEqualTo(SwapBehavior.NO_SWAP);
        assertThat(k.memoryThrottlingFactor()).isNull();
        assertThat(k.memoryReservationPolicy()).isEqualTo(ReservationPolicy.NONE);
        assertThat(k.memoryQosGate()).isTrue();
        assertThat(k.hardMemoryAvailable().quantity()).isEqualTo(100L << 20);
        assertThat(k.evictionHard()).hasSize(4);
    }

    @Test
    void kubeletFieldsHonoured() throws Exception {
        KubeletSettings k = KubeletConfigReader.parse("k.yaml", yaml("""
                kind: KubeletConfiguration
                failSwapOn: false
                memorySwap: {swapBehavior: LimitedSwap}
                memoryThrottlingFactor: 0.8
                memoryReservationPolicy: TieredReservation
                featureGates: {MemoryQoS: false, PodLevelResources: false}
                systemReserved: {memory: 1Gi, cpu: 500m}
                kubeReserved: {memory: 512Mi}
                evictionHard: {memory.available: 5%}
                evictionSoft: {memory.available: 1Gi}
                evictionSoftGracePeriod: {memory.available: 1m30s}
                singleProcessOOMKill: true
                """));
        assertThat(k.failSwapOn()).isFalse();
        assertThat(k.swapBehavior()).isEqualTo(SwapBehavior.LIMITED_SWAP);
        assertThat(k.memoryThrottlingFactor()).isEqualTo(0.8);
        assertThat(k.memoryQosGate()).isFalse();
        assertThat(k.podLevelResourcesGate()).isFalse();
        assertThat(k.systemReservedMemory()).isEqualTo(1L << 30);
        assertThat(k.evictionHard()).singleElement().satisfies(t -> assertThat(t.percentage()).isEqualTo(0.05f));
        assertThat(k.evictionSoft()).singleElement().satisfies(t -> assertThat(t.gracePeriod()).isEqualTo(Duration.ofSeconds(90)));
        assertThat(k.singleProcessOomKill()).isTrue();
    }

    @Test
    void kubeletEvictionSettingsRead() throws Exception {
        KubeletSettings k = KubeletConfigReader.parse("k.yaml", yaml("""
                kind: KubeletConfiguration
                evictionHard: {memory.available: 100Mi, nodefs.available: 10%}
                evictionSoft: {memory.available: 1Gi, allocatableMemory.available: 500Mi}
                evictionSoftGracePeriod: {memory.available: 1m30s, allocatableMemory.available: 30s}
                evictionMinimumReclaim: {memory.available: 0.5Gi, nodefs.available: 5%}
                evictionMaxPodGracePeriod: 60
                evictionPressureTransitionPeriod: 30s
                """));
        assertThat(k.evictionMaxPodGracePeriodSeconds()).isEqualTo(60);
        assertThat(k.evictionPressureTransitionPeriod()).isEqualTo(Duration.ofSeconds(30));
        assertThat(k.minimumReclaim("memory.available").quantity()).isEqualTo(512L << 20);
        assertThat(k.minimumReclaim("nodefs.available").percentage()).isEqualTo(0.05f);
        assertThat(k.memoryThresholds()).extracting(t -> t.field() + " " + t.describe()).containsExactly(
                "evictionHard memory.available<100Mi",
                "evictionSoft memory.available<1Gi",
                "evictionSoft allocatableMemory.available<500Mi",
                "evictionHard memory.available (cloned: enforceNodeAllocatable has pods)"
                        + " allocatableMemory.available<100Mi");
        KubeletSettings d = KubeletConfigReader.parse("k.yaml", yaml("kind: KubeletConfiguration\n"
                + "evictionPressureTransitionPeriod: 0s\n"));
        assertThat(d.evictionPressureTransitionPeriod()).as("0s means 5m").isEqualTo(Duration.ofMinutes(5));
        assertThat(d.evictionMaxPodGracePeriodSeconds()).isZero();
        assertThat(d.evictionMinimumReclaim()).isEmpty();
    }

    @Test
    void kubeletEvictionErrorsNameTheFieldAndTheValue() {
        assertThatThrownBy(() -> KubeletConfigReader.parse("k.yaml", yaml("kind: KubeletConfiguration\n"
                + "evictionSoft: {memory.available: 1Gi}\nevictionSoftGracePeriod: {nodefs.available: 1m}\n")))
                .hasMessage("k.yaml: field evictionSoft.memory.available: \"1Gi\": a soft eviction threshold requires"
                        + " a grace period in evictionSoftGracePeriod.memory.available (the kubelet refuses it too)");
        assertThatThrownBy(() -> KubeletConfigReader.parse("k.yaml", yaml("kind: KubeletConfiguration\n"
                + "evictionSoft: {memory.available: 1Gi}\nevictionSoftGracePeriod: {memory.available: -1m}\n")))
                .hasMessage("k.yaml: field evictionSoftGracePeriod.memory.available: must not be negative: -1m");
        assertThatThrownBy(() -> KubeletConfigReader.parse("k.yaml", yaml("kind: KubeletConfiguration\n"
                + "evictionMinimumReclaim: {memory.available: -1Mi}\n")))
                .hasMessage("k.yaml: field evictionMinimumReclaim.memory.available: a minimum reclaim must not be"
                        + " negative, got -1Mi");
        assertThatThrownBy(() -> KubeletConfigReader.parse("k.yaml", yaml("kind: KubeletConfiguration\n"
                + "evictionMinimumReclaim: {memory.available: 0%}\n")))
                .hasMessageContaining("evictionMinimumReclaim.memory.available").hasMessageContaining("got 0%");
        assertThatThrownBy(() -> KubeletConfigReader.parse("k.yaml", yaml("kind: KubeletConfiguration\n"
                + "evictionMinimumReclaim: {memory.free: 1Gi}\n")))
                .hasMessageContaining("evictionMinimumReclaim.memory.free").hasMessageContaining("\"memory.free\"");
        assertThatThrownBy(() -> KubeletConfigReader.parse("k.yaml", yaml("kind: KubeletConfiguration\n"
                + "evictionMaxPodGracePeriod: -5\n")))
                .hasMessage("k.yaml: field evictionMaxPodGracePeriod: must not be negative, got -5");
        assertThatThrownBy(() -> KubeletConfigReader.parse("k.yaml", yaml("kind: KubeletConfiguration\n"
                + "evictionMaxPodGracePeriod: 1m\n")))
                .hasMessage("k.yaml: field evictionMaxPodGracePeriod: expected whole seconds (an int32), got \"1m\"");
        assertThatThrownBy(() -> KubeletConfigReader.parse("k.yaml", yaml("kind: KubeletConfiguration\n"
                + "evictionPressureTransitionPeriod: soon\n")))
                .hasMessageStartingWith("k.yaml: field evictionPressureTransitionPeriod: \"soon\" is not a duration");
        assertThatThrownBy(() -> KubeletConfigReader.parse("k.yaml", yaml("kind: KubeletConfiguration\n"
                + "evictionPressureTransitionPeriod: -1s\n")))
                .hasMessage("k.yaml: field evictionPressureTransitionPeriod: must not be negative: -1s");
    }

    @Test
    void mergeDefaultEvictionSettings() throws Exception {
        KubeletSettings plain = KubeletConfigReader.parse("k.yaml", yaml("kind: KubeletConfiguration\nevictionHard: {nodefs.available: 5%}\n"));
        assertThat(plain.hardMemoryAvailable()).isNull();
        KubeletSettings merged = KubeletConfigReader.parse("k.yaml",
                yaml("kind: KubeletConfiguration\nmergeDefaultEvictionSettings: true\nevictionHard: {nodefs.available: 5%}\n"));
        assertThat(merged.hardMemoryAvailable().quantity()).isEqualTo(100L << 20);
        assertThat(merged.evictionHard()).hasSize(4);
    }

    @Test
    void kubeletErrorsNameTheField() {
        assertThatThrownBy(() -> KubeletConfigReader.parse("k.yaml", yaml("kind: KubeletConfiguration\nmemorySwap: {swapBehavior: UnlimitedSwap}\n")))
                .hasMessageStartingWith("k.yaml: field memorySwap.swapBehavior: \"UnlimitedSwap\"");
        assertThatThrownBy(() -> KubeletConfigReader.parse("k.yaml", yaml("kind: KubeletConfiguration\nmemorySwap: {swapBehavior: Sometimes}\n")))
                .hasMessageContaining("unknown swap behavior \"Sometimes\"");
        assertThatThrownBy(() -> KubeletConfigReader.parse("k.yaml", yaml("kind: KubeletConfiguration\nmemoryThrottlingFactor: 1.5\n")))
                .hasMessage("k.yaml: field memoryThrottlingFactor: must be in (0, 1], got 1.5");
        assertThatThrownBy(() -> KubeletConfigReader.parse("k.yaml", yaml("kind: KubeletConfiguration\nmemoryThrottlingFactor: 0\n")))
                .hasMessageContaining("(0, 1]");
        assertThatThrownBy(() -> KubeletConfigReader.parse("k.yaml", yaml("kind: KubeletConfiguration\nevictionSoft: {memory.available: 1Gi}\n")))
                .hasMessageContaining("evictionSoft.memory.available").hasMessageContaining("grace period");
        assertThatThrownBy(() -> KubeletConfigReader.parse("k.yaml", yaml("kind: KubeletConfiguration\nsystemReserved: {memory: lots}\n")))
                .hasMessageContaining("systemReserved.memory");
        assertThatThrownBy(() -> KubeletConfigReader.parse("k.yaml", yaml("kind: Pod\n")))
                .hasMessageContaining("expected KubeletConfiguration");
        assertThatThrownBy(() -> KubeletConfigReader.parse("k.yaml", yaml("kind: KubeletConfiguration\nmemoryReservationPolicy: Tiered\n")))
                .hasMessageContaining("memoryReservationPolicy");
    }

    @Test
    void memoryQosSectionUsesThePluginsCaseInsensitiveKeys() throws Exception {
        var cfg = WardenConfigReader.parse("c.yaml", yaml("""
                memoryQos:
                  Classes:
                    - NAME: gold
                      SwapLimitRatio: 0.1
                      ignored: yes
                  UNIFIEDANNOTATIONS: [memory.high]
                  somethingElse: 1
                """));
        assertThat(cfg.memoryQos().classes()).singleElement().satisfies(c -> {
            assertThat(c.name()).isEqualTo("gold");
            assertThat(c.swapLimitRatio()).isEqualTo(0.1f);
        });
        assertThat(cfg.memoryQos().unifiedAnnotations()).containsExactly("memory.high");
        assertThatThrownBy(() -> WardenConfigReader.parse("c.yaml", yaml("memoryQos: {classes: [{name: a, swaplimitratio: \"0.5\"}]}")))
                .hasMessageContaining("memoryQos.classes[0].swaplimitratio");
    }

    @Test
    void memwardenSectionsAreStrict() {
        assertThatThrownBy(() -> WardenConfigReader.parse("c.yaml", yaml("swapp: {}\n"))).hasMessageContaining("field swapp: unknown field");
        assertThatThrownBy(() -> WardenConfigReader.parse("c.yaml", yaml("swap: {behavior: Lots}\n"))).hasMessageContaining("swap.behavior");
        assertThatThrownBy(() -> WardenConfigReader.parse("c.yaml", yaml("swap: {maxPerPod: 150%}\n"))).hasMessageContaining("swap.maxPerPod");
        assertThatThrownBy(() -> WardenConfigReader.parse("c.yaml", yaml("annotations: {allowed: [swap-everything]}\n")))
                .hasMessageContaining("annotations.allowed").hasMessageContaining("swap-everything");
    }

    @Test
    void nodeSwapCapKeys() throws Exception {
        var cfg = WardenConfigReader.parse("c.yaml", yaml("swap: {nodeCap: 50%, systemReserved: 512Mi}\n"));
        assertThat(cfg.swap().nodeCap().percentOfSwap()).isEqualTo(50.0);
        assertThat(cfg.swap().systemReserved()).isEqualTo(512L << 20);
        assertThat(cfg.swap().capsNode()).isTrue();
        assertThat(WardenConfigReader.parse("c.yaml", yaml("swap: {nodeCap: 3Gi}\n")).swap().nodeCap().bytes())
                .isEqualTo(3L << 30);
        assertThat(WardenConfigReader.parse("c.yaml", yaml("swap: {}\n")).swap().capsNode()).isFalse();
        assertThatThrownBy(() -> WardenConfigReader.parse("c.yaml", yaml("swap: {nodeCap: 101%}\n")))
                .hasMessage("c.yaml: field swap.nodeCap: \"101%\" is not a percentage in [0%, 100%]");
        assertThatThrownBy(() -> WardenConfigReader.parse("c.yaml", yaml("swap: {nodeCap: lots}\n")))
                .hasMessageContaining("field swap.nodeCap").hasMessageContaining("lots");
        assertThatThrownBy(() -> WardenConfigReader.parse("c.yaml", yaml("swap: {systemReserved: 10%}\n")))
                .hasMessage("c.yaml: field swap.systemReserved: expected a quantity (512Mi), got the percentage \"10%\"");
        assertThatThrownBy(() -> WardenConfigReader.parse("c.yaml", yaml("swap: {systemReserved: -1Gi}\n")))
                .hasMessage("c.yaml: field swap.systemReserved: \"-1Gi\" must not be negative");
        assertThatThrownBy(() -> WardenConfigReader.parse("c.yaml", yaml("swap: {systemReserved: [1]}\n")))
                .hasMessageContaining("field swap.systemReserved");
    }

    @Test
    void podManifestsInEveryForm() throws Exception {
        var r = PodManifestReader.parse("pods.yaml", YamlDocs.readAll("pods.yaml", """
                apiVersion: v1
                kind: Pod
                metadata: {name: a}
                spec:
                  initContainers:
                    - {name: init, image: x}
                    - {name: proxy, image: x, restartPolicy: Always}
                  containers: [{name: c, image: x, resources: {limits: {memory: 1Gi}}}]
                ---
                apiVersion: v1
                kind: List
                items:
                  - apiVersion: v1
                    kind: Pod
                    metadata: {name: b, namespace: ns}
                    spec: {containers: [{name: c, image: x}], priority: 7, overhead: {memory: 64Mi}}
                """));
        assertThat(r.errors()).isEmpty();
        assertThat(r.pods()).extracting(p -> p.key()).containsExactly("default/a", "ns/b");
        assertThat(r.pods().getFirst().containers()).extracting(c -> c.kind())
                .containsExactly(ContainerKind.INIT, ContainerKind.SIDECAR, ContainerKind.REGULAR);
        assertThat(r.pods().get(1).priority()).isEqualTo(7);
        assertThat(r.pods().get(1).overheadMemory()).isEqualTo(64L << 20);
    }

    @Test
    void badPodIsAnErrorForThatPodOnly() throws Exception {
        var r = PodManifestReader.parse("pods.yaml", YamlDocs.readAll("pods.yaml", """
                kind: Pod
                metadata: {name: bad}
                spec: {containers: [{name: c, resources: {limits: {memory: 12XB}}}]}
                ---
                kind: Pod
                metadata: {name: inverted}
                spec: {containers: [{name: c, resources: {requests: {memory: 2Gi}, limits: {memory: 1Gi}}}]}
                ---
                kind: Pod
                metadata: {name: good}
                spec: {containers: [{name: c}]}
                """));
        assertThat(r.pods()).extracting(p -> p.name()).containsExactly("good");
        assertThat(r.errors()).hasSize(2);
        assertThat(r.errors().get(0).pod()).isEqualTo("default/bad");
        assertThat(r.errors().get(0).message()).contains("spec.containers[0].resources.limits.memory").contains("12XB");
        assertThat(r.errors().get(1).message()).contains("must be less than or equal to memory limit");
    }

    @Test
    void duplicatesAndBadPodsAreReportedInFileOrder() throws Exception {
        var r = PodManifestReader.parse("pods.yaml", YamlDocs.readAll("pods.yaml", """
                kind: Pod
                metadata: {name: a}
                spec: {containers: [{name: c}]}
                ---
                kind: Pod
                metadata: {name: a}
                spec: {containers: [{name: c}]}
                ---
                kind: Pod
                metadata: {name: bad}
                spec: {containers: [{name: c, resources: {limits: {memory: 12XB}}}]}
                ---
                kind: Pod
                metadata: {name: bad}
                spec: {containers: [{name: c}]}
                """));
        assertThat(r.pods()).extracting(p -> p.name()).containsExactly("a");
        assertThat(r.errors()).extracting(e -> e.pod() + " " + e.message().substring(0, 9))
                .containsExactly("default/a duplicate", "default/bad spec.cont", "default/bad duplicate");
    }

    @Test
    void aManifestPreparedAheadIsUsedOnlyWhileTheFileIsUnchanged(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("pods.yaml");
        Files.writeString(f, "kind: Pod\nmetadata: {name: first}\nspec: {containers: [{name: c}]}\n");
        PodManifestReader.prepare(f);
        assertThat(PodManifestReader.readItems(f).bind().pods()).extracting(p -> p.name()).containsExactly("first");

        PodManifestReader.prepare(f);
        Files.writeString(f, "kind: Pod\nmetadata: {name: second}\nspec: {containers: [{name: c}]}\n");
        assertThat(PodManifestReader.readItems(f).bind().pods()).extracting(p -> p.name()).containsExactly("second");

        // a structural error is still an input error when read, whatever was prepared
        PodManifestReader.prepare(f);
        Files.writeString(f, "kind: Deployment\nmetadata: {name: x}\n");
        assertThatThrownBy(() -> PodManifestReader.readItems(f)).isInstanceOf(InputException.class)
                .hasMessageContaining("kind \"Deployment\" is not supported");
        PodManifestReader.prepare(dir.resolve("missing.yaml"));
        assertThatThrownBy(() -> PodManifestReader.readItems(dir.resolve("missing.yaml")))
                .hasMessageContaining("missing.yaml: cannot read");
    }

    @Test
    void otherKindsAndBrokenYamlAreInputErrors() {
        assertThatThrownBy(() -> PodManifestReader.parse("p.yaml", YamlDocs.readAll("p.yaml", "kind: Deployment\nmetadata: {name: x}\n")))
                .hasMessageContaining("kind \"Deployment\" is not supported");
        assertThatThrownBy(() -> YamlDocs.readAll("p.yaml", "kind: [Pod\n")).hasMessageStartingWith("p.yaml: not valid YAML");
    }

    @Test
    void goDurations() {
        assertThat(YamlDocs.goDuration("1m30s")).isEqualTo(Duration.ofSeconds(90));
        assertThat(YamlDocs.goDuration("1.5h")).isEqualTo(Duration.ofMinutes(90));
        assertThat(YamlDocs.goDuration("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThatThrownBy(() -> YamlDocs.goDuration("90")).hasMessageContaining("not a duration");
    }
}
