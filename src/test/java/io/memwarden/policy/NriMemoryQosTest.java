package io.memwarden.policy;

import static io.memwarden.policy.TestPods.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.memwarden.model.PodSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

/** nri-protocol.md §6: the nri-plugins memory-qos plugin's annotations, arithmetic, precedence and errors. */
class NriMemoryQosTest {
    static final WardenConfig.MemoryQosConfig CFG = new WardenConfig.MemoryQosConfig(List.of(
            new WardenConfig.MemoryQosClass("bronze", 0.5f), new WardenConfig.MemoryQosClass("silver", 0.2f),
            new WardenConfig.MemoryQosClass("off", 0f)), List.of("memory.swap.max", "memory.high"));

    private static PodSpec annotated(String... kv) {
        TestPods.Builder b = pod("p").ns("ns");
        for (int i = 0; i < kv.length; i += 2) {
            b.annotation(kv[i], kv[i + 1]);
        }
        return b.container("c0", mem("64Mi", "100M")).container("c1", mem("64Mi", "100M")).build();
    }

    @Test
    void classSetsHighFromFloat32ArithmeticAndSwapMax() throws Exception {
        var r = NriMemoryQos.apply(CFG, annotated("class.memory-qos.nri.io", "silver"), "c0", 100_000_000L, 4096);
        assertThat(r.unified()).containsEntry("memory.high", "80000000").containsEntry("memory.swap.max", "max");
    }

    @Test
    void float32DiffersFromExactArithmeticForLargeLimits() {
        // 256Mi * 0.8 = 214748364.8 exactly; float32(256Mi) * float32(1-0.2) rounds to 214748368
        assertThat(NriMemoryQos.highFor(256 * MI, 0.2f)).isEqualTo(214748368L);
        assertThat(NriMemoryQos.highFor(100_000_000L, 0.5f)).isEqualTo(50_000_000L);
        // ratio 1.0 -> "0"; ratio > 1 -> negative (from the plugin's code)
        assertThat(NriMemoryQos.highFor(100_000_000L, 1.0f)).isZero();
        assertThat(NriMemoryQos.highFor(100_000_000L, 1.5f)).isNegative();
    }

    @Test
    void containerAnnotationOverridesPodWideForThatKey() throws Exception {
        PodSpec p = annotated("class.memory-qos.nri.io", "silver", "class.memory-qos.nri.io/c0", "bronze");
        assertThat(NriMemoryQos.apply(CFG, p, "c0", 100_000_000L, 4096).unified()).containsEntry("memory.high", "50000000");
        assertThat(NriMemoryQos.apply(CFG, p, "c1", 100_000_000L, 4096).unified()).containsEntry("memory.high", "80000000");
    }

    @Test
    void listedUnifiedAnnotationBeatsClassValue() throws Exception {
        PodSpec p = annotated("class.memory-qos.nri.io", "silver", "memory.swap.max.memory-qos.nri.io/c0", "0",
                "memory.high.memory-qos.nri.io/c0", "max");
        var r = NriMemoryQos.apply(CFG, p, "c0", 100_000_000L, 4096);
        assertThat(r.unified()).containsEntry("memory.swap.max", "0").containsEntry("memory.high", "max");
        // c1 only gets the class
        assertThat(NriMemoryQos.apply(CFG, p, "c1", 100_000_000L, 4096).unified()).containsEntry("memory.swap.max", "max");
    }

    @Test
    void ratioZeroAddsNothing() throws Exception {
        assertThat(NriMemoryQos.apply(CFG, annotated("class.memory-qos.nri.io", "off"), "c0", 0, 4096).unified()).isEmpty();
    }

    @Test
    void unknownClassFailsWithThePluginsText() {
        assertThatThrownBy(() -> NriMemoryQos.apply(CFG, annotated("class.memory-qos.nri.io", "Silver"), "c0", 1, 4096))
                .hasMessage("cannot apply memory QoS class \"Silver\": class not found in plugin configuration");
        assertThatThrownBy(() -> NriMemoryQos.apply(CFG, annotated("class.memory-qos.nri.io/c0", ""), "c0", 1, 4096))
                .hasMessage("cannot apply memory QoS class \"\": class not found in plugin configuration");
    }

    @Test
    void missingLimitFailsOnlyWhenTheRatioNeedsIt() throws Exception {
        assertThatThrownBy(() -> NriMemoryQos.apply(CFG, annotated("class.memory-qos.nri.io", "bronze"), "c0", 0, 4096))
                .hasMessage("cannot apply memory QoS class \"bronze\": missing container memory limit");
        assertThat(NriMemoryQos.apply(CFG, annotated("class.memory-qos.nri.io", "off"), "c0", 0, 4096).unified()).isEmpty();
    }

    @Test
    void unlistedKeyFailsWithThePluginsText() {
        assertThatThrownBy(() -> NriMemoryQos.apply(CFG, annotated("memory.oom.group.memory-qos.nri.io", "1"), "c0", 1, 4096))
                .isInstanceOf(PolicyException.class)
                .hasMessage("CreateContainer ns/p:c0: invalid annotation: \"memory.oom.group\"");
    }

    @Test
    void annotationsForOtherContainersAreIgnored() throws Exception {
        PodSpec p = annotated("memory.oom.group.memory-qos.nri.io/c1", "1");
        assertThat(NriMemoryQos.apply(CFG, p, "c0", 1, 4096).unified()).isEmpty();
        assertThatThrownBy(() -> NriMemoryQos.apply(CFG, p, "c1", 1, 4096)).isInstanceOf(PolicyException.class);
    }
}
