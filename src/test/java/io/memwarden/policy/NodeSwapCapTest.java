package io.memwarden.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.model.CgroupVersion;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The node-wide swap cap on kubepods (docs/policy.md §15 "Node cap"). */
class NodeSwapCapTest {
    static final long GI = 1L << 30;

    static WardenConfig.SwapConfig cfg(WardenConfig.SwapCap nodeCap, Long reserved) {
        return new WardenConfig.SwapConfig(null, null, null, nodeCap, reserved);
    }

    static WardenConfig.SwapCap bytes(long b) {
        return new WardenConfig.SwapCap(b, null, Long.toString(b));
    }

    static WardenConfig.SwapCap percent(double p) {
        return new WardenConfig.SwapCap(null, p, p + "%");
    }

    @Test
    void offWithoutTheKeys() {
        var d = NodeSwapCap.decide(WardenConfig.SwapConfig.DEFAULTS, CgroupVersion.V2, 4 * GI, null);
        assertThat(d.capBytes()).isNull();
        assertThat(d.files()).isEmpty();
        assertThat(d.unenforceable()).isNull();
    }

    @Test
    void v2TheSmallerOfCapAndTotalLessReserved() {
        var d = NodeSwapCap.decide(cfg(bytes(3 * GI), GI), CgroupVersion.V2, 8 * GI, null);
        assertThat(d.capBytes()).isEqualTo(3 * GI);
        assertThat(d.files()).isEqualTo(Map.of("memory.swap.max", Long.toString(3 * GI)));
        // the swap total shrank (swapoff): reserved wins
        d = NodeSwapCap.decide(cfg(bytes(3 * GI), GI), CgroupVersion.V2, 2 * GI, null);
        assertThat(d.files()).isEqualTo(Map.of("memory.swap.max", Long.toString(GI)));
        assertThat(d.reasons()).anySatisfy(r -> assertThat(r).contains("swap.systemReserved " + GI));
    }

    @Test
    void percentResolvesOnTheSwapTotalObserved() {
        var d = NodeSwapCap.decide(cfg(percent(50), null), CgroupVersion.V2, 4 * GI, null);
        assertThat(d.capBytes()).isEqualTo(2 * GI);
        d = NodeSwapCap.decide(cfg(percent(50), null), CgroupVersion.V2, 6 * GI, null);
        assertThat(d.capBytes()).isEqualTo(3 * GI);
    }

    @Test
    void reservedAloneCapsAtTheRestAndNeverBelowZero() {
        assertThat(NodeSwapCap.decide(cfg(null, GI), CgroupVersion.V2, 4 * GI, null).capBytes()).isEqualTo(3 * GI);
        var none = NodeSwapCap.decide(cfg(null, 2 * GI), CgroupVersion.V2, GI, null);
        assertThat(none.capBytes()).isZero();
        assertThat(none.files()).containsEntry("memory.swap.max", "0");
        // no swap at all
        assertThat(NodeSwapCap.decide(cfg(bytes(GI), null), CgroupVersion.V2, 0, null).capBytes()).isZero();
    }

    @Test
    void v1ProjectsOnTheKubepodsMemoryLimit() {
        var d = NodeSwapCap.decide(cfg(bytes(GI), null), CgroupVersion.V1, 4 * GI, 10 * GI);
        assertThat(d.files()).isEqualTo(Map.of("memory.memsw.limit_in_bytes", Long.toString(11 * GI)));
        assertThat(d.unenforceable()).isNull();
    }

    @Test
    void v1WithoutAKubepodsLimitIsReportedNotWritten() {
        for (Long limit : new Long[] {null, 9223372036854771712L}) {
            var d = NodeSwapCap.decide(cfg(bytes(GI), null), CgroupVersion.V1, 4 * GI, limit);
            assertThat(d.files()).isEmpty();
            assertThat(d.capBytes()).isEqualTo(GI);
            assertThat(d.unenforceable()).startsWith("not enforceable on cgroup v1 without a kubepods memory limit");
        }
    }
}
