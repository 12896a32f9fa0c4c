package io.memwarden.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.control.Clock;
import io.memwarden.runner.ControlLoops;
import org.junit.jupiter.api.Test;

class RunStatusTest {
    @Test
    void loopActionsAreShownInEpochMillisAndSplitIntoNamespaceAndPod() {
        long before = System.currentTimeMillis();
        ControlLoops.ActionRecord r = new ControlLoops.ActionRecord(Clock.SYSTEM.millis() - 5000, "guard", "shop/web",
                null, "evict: x", "t", "ok");
        NodeStatus.LoopAction a = RunStatus.action(r, System.currentTimeMillis() - Clock.SYSTEM.millis());
        long after = System.currentTimeMillis();
        assertThat(a.atMillis()).isBetween(before - 5000 - 5, after - 5000 + 5);
        assertThat(a.namespace()).isEqualTo("shop");
        assertThat(a.pod()).isEqualTo("web");
        assertThat(a.container()).isNull();
    }
}
