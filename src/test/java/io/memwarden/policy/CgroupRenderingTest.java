package io.memwarden.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.memwarden.model.CgroupVersion;
import io.memwarden.model.SwapBehavior;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** kubelet-semantics §1 "What is written" and memwarden's cgroup v1 projection (docs/policy.md). */
class CgroupRenderingTest {
    static final long L = 100_000_000L;

    static SwapDecision swap(SwapIntent i) {
        return new SwapDecision(SwapBehavior.NO_SWAP, i, List.of());
    }

    static Map<String, String> render(CgroupVersion v, long limit, SwapIntent i, Map<String, String> nri) throws Exception {
        return CgroupRendering.render(v, new CgroupRendering.Decided(limit, swap(i), Map.of(), v == CgroupVersion.V2,
                nri, null, null), "c").files();
    }

    @Test
    void v2Values() throws Exception {
        assertThat(render(CgroupVersion.V2, L, new SwapIntent.Zero(), Map.of()))
                .containsExactly(Map.entry("memory.max", "100000000"), Map.entry("memory.swap.max", "0"),
                        Map.entry("memory.oom.group", "1"));
        assertThat(render(CgroupVersion.V2, L, new SwapIntent.Unlimited(), Map.of())).containsEntry("memory.swap.max", "max");
        assertThat(render(CgroupVersion.V2, L, new SwapIntent.WithinLimit(), Map.of())).containsEntry("memory.swap.max", "0");
        assertThat(render(CgroupVersion.V2, 0, new SwapIntent.NotWritten(), Map.of()))
                .doesNotContainKeys("memory.max", "memory.swap.max");
    }

    @Test
    void v1NoSwapSetsMemswToTheLimitAndNothingWithoutALimit_s1() throws Exception {
        assertThat(render(CgroupVersion.V1, L, new SwapIntent.Zero(), Map.of())).containsExactly(
                Map.entry("memory.limit_in_bytes", "100000000"), Map.entry("memory.memsw.limit_in_bytes", "100000000"),
                Map.entry("memory.swappiness", "0"));
        // no limit: no memsw, but swappiness 0 still keeps memcg reclaim from swapping
        assertThat(render(CgroupVersion.V1, 0, new SwapIntent.Zero(), Map.of())).containsExactly(
                Map.entry("memory.swappiness", "0"));
    }

    @Test
    void v1Extensions() throws Exception {
        assertThat(render(CgroupVersion.V1, L, new SwapIntent.Unlimited(), Map.of()))
                .containsEntry("memory.memsw.limit_in_bytes", "-1");
        assertThat(render(CgroupVersion.V1, L, new SwapIntent.WithinLimit(), Map.of()))
                .containsEntry("memory.memsw.limit_in_bytes", "100000000");
        assertThat(render(CgroupVersion.V1, L, new SwapIntent.Bytes(5), Map.of()))
                .containsEntry("memory.memsw.limit_in_bytes", "100000005");
        assertThat(render(CgroupVersion.V1, 0, new SwapIntent.Bytes(5), Map.of())).isEmpty();
    }

    @Test
    void v1ProjectsMemoryHighOntoTheLimitAndSwapAboveIt() throws Exception {
        // the demo's silver container: memory.high 80M, swap max
        assertThat(render(CgroupVersion.V1, L, new SwapIntent.Zero(), Map.of("memory.high", "80000000", "memory.swap.max", "max")))
                .containsEntry("memory.limit_in_bytes", "80000000").containsEntry("memory.memsw.limit_in_bytes", "-1");
        // memory.high alone keeps no swap: memsw = the new ceiling
        assertThat(render(CgroupVersion.V1, L, new SwapIntent.Zero(), Map.of("memory.high", "80000000")))
                .containsEntry("memory.limit_in_bytes", "80000000").containsEntry("memory.memsw.limit_in_bytes", "80000000");
        // the demo's noswap container: swap 0, high max
        assertThat(render(CgroupVersion.V1, L, new SwapIntent.Zero(), Map.of("memory.high", "max", "memory.swap.max", "0")))
                .containsEntry("memory.limit_in_bytes", "100000000").containsEntry("memory.memsw.limit_in_bytes", "100000000");
        // a high above the limit does not raise the limit
        assertThat(render(CgroupVersion.V1, L, new SwapIntent.Zero(), Map.of("memory.high", "200000000")))
                .containsEntry("memory.limit_in_bytes", "100000000");
    }

    @Test
    void v1RejectsFilesWithoutAnEquivalent() {
        assertThatThrownBy(() -> render(CgroupVersion.V1, L, new SwapIntent.Zero(), Map.of("memory.oom.group", "1")))
                .hasMessageContaining("no cgroup v1 equivalent");
        assertThatThrownBy(() -> render(CgroupVersion.V1, L, new SwapIntent.Zero(), Map.of("memory.high", "lots")))
                .hasMessageContaining("cannot project");
        // swaplimitratio 1.0 gives memory.high "0": on v1 that would be a zero limit, not "no limit"
        assertThatThrownBy(() -> render(CgroupVersion.V1, L, new SwapIntent.Zero(), Map.of("memory.high", "0",
                "memory.swap.max", "max"))).hasMessageContaining("memory.high=0 cannot be projected");
    }

    @Test
    void capsApplyLastOverNriValues() throws Exception {
        var d = new CgroupRendering.Decided(L, swap(new SwapIntent.Zero()), Map.of(), true,
                Map.of("memory.swap.max", "max"), 1000L, "test cap");
        var r = CgroupRendering.render(CgroupVersion.V2, d, "c");
        assertThat(r.files()).containsEntry("memory.swap.max", "1000");
        assertThat(r.reasons()).anyMatch(s -> s.contains("test cap"));
        var v1 = CgroupRendering.render(CgroupVersion.V1, d, "c");
        assertThat(v1.files()).containsEntry("memory.memsw.limit_in_bytes", Long.toString(L + 1000));
    }
}
