package io.memwarden.loops;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.control.ColdOffloader;
import io.memwarden.model.Clock;
import io.memwarden.loops.ControlLoops;
import org.junit.jupiter.api.Test;

class RunStatusTest {
    @Test
    void loopActionsAreShownInEpochMillisAndSplitIntoNamespaceAndPod() {
        long before = System.currentTimeMillis();
        ActionRecord r = new ActionRecord(Clock.SYSTEM.millis() - 5000, "guard", "shop/web",
                null, "evict: x", "t", "ok");
        NodeStatus.LoopAction a = RunStatus.action(r, System.currentTimeMillis() - Clock.SYSTEM.millis());
        long after = System.currentTimeMillis();
        assertThat(a.atMillis()).isBetween(before - 5000 - 5, after - 5000 + 5);
        assertThat(a.namespace()).isEqualTo("shop");
        assertThat(a.pod()).isEqualTo("web");
        assertThat(a.container()).isNull();
    }

    @Test
    void theOffloadLoopsNumbersAreShownPerContainerWithTheEstimateInEpochMillis() {
        var estimate = new ColdOffloader.WorkingSetEstimate(96L << 20, 2_000,
                "stall 9000 µs reached the target 8000 µs");
        NodeStatus.Offload o = RunStatus.offload("shop/web/app", java.util.Map.of("shop/web/app", 32L << 20),
                java.util.Map.of("shop/web/app", estimate), 1_700_000_000_000L);
        assertThat(o).isEqualTo(new NodeStatus.Offload(32L << 20, 96L << 20, 1_700_000_002_000L,
                "stall 9000 µs reached the target 8000 µs"));
        // offloaded, no estimate yet
        assertThat(RunStatus.offload("shop/web/app", java.util.Map.of("shop/web/app", 4096L), java.util.Map.of(), 0))
                .isEqualTo(new NodeStatus.Offload(4096, null, null, null));
        // another container's numbers are not this one's
        assertThat(RunStatus.offload("shop/web/side", java.util.Map.of("shop/web/app", 4096L),
                java.util.Map.of("shop/web/app", estimate), 0)).isNull();
    }
}
