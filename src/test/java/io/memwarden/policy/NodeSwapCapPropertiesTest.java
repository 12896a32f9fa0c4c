package io.memwarden.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.model.CgroupVersion;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.LongRange;

/** Invariants of the node swap cap, whatever the config and the swap observed. */
class NodeSwapCapPropertiesTest {

    @Provide
    Arbitrary<WardenConfig.SwapConfig> configs() {
        Arbitrary<WardenConfig.SwapCap> byteCaps = Arbitraries.longs().between(0, 1L << 50)
                .map(b -> new WardenConfig.SwapCap(b, null, Long.toString(b)));
        Arbitrary<WardenConfig.SwapCap> pctCaps = Arbitraries.doubles().between(0, 100)
                .map(p -> new WardenConfig.SwapCap(null, p, p + "%"));
        Arbitrary<WardenConfig.SwapCap> caps = Arbitraries.oneOf(byteCaps, pctCaps).injectNull(0.3);
        Arbitrary<Long> reserved = Arbitraries.longs().between(0, 1L << 50).injectNull(0.3);
        return Combinators.combine(caps, reserved)
                .as((c, r) -> new WardenConfig.SwapConfig(null, null, null, c, r))
                .filter(WardenConfig.SwapConfig::capsNode);
    }

    @Property
    void neverAboveTotalLessReservedNeverNegative(@ForAll("configs") WardenConfig.SwapConfig c,
                                                  @ForAll @LongRange(min = 0, max = 1L << 50) long swapTotal,
                                                  @ForAll boolean v2,
                                                  @ForAll @LongRange(min = 0, max = 1L << 50) long kubepodsLimit) {
        var d = NodeSwapCap.decide(c, v2 ? CgroupVersion.V2 : CgroupVersion.V1, swapTotal, kubepodsLimit);
        long reserved = c.systemReserved() == null ? 0 : c.systemReserved();
        assertThat(d.capBytes()).isNotNull().isBetween(0L, Math.max(0, swapTotal - reserved));
        if (c.nodeCap() != null) {
            assertThat(d.capBytes()).isLessThanOrEqualTo(Math.max(0, c.nodeCap().resolve(swapTotal)));
        }
        if (v2) {
            assertThat(Long.parseLong(d.files().get("memory.swap.max"))).isEqualTo(d.capBytes());
        } else {
            // memory + swap: the memory limit, plus exactly the cap
            assertThat(Long.parseLong(d.files().get("memory.memsw.limit_in_bytes")) - kubepodsLimit)
                    .isEqualTo(d.capBytes());
        }
    }
}
