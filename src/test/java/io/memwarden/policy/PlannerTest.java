package io.memwarden.policy;

import static io.memwarden.policy.TestPods.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.memwarden.model.CgroupVersion;
import io.memwarden.model.NodeFacts;
import io.memwarden.model.PodSpec;
import io.memwarden.model.Resources;
import io.memwarden.model.SwapBehavior;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** End-to-end policy: the planner combines every rule and keeps going past bad pods. */
class PlannerTest {
    static final WardenConfig.MemoryQosConfig MQ = new WardenConfig.MemoryQosConfig(List.of(
            new WardenConfig.MemoryQosClass("bronze", 0.5f), new WardenConfig.MemoryQosClass("silver", 0.2f)),
            List.of("memory.swap.max", "memory.high"));
    static final WardenConfig CFG = new WardenConfig(MQ, WardenConfig.SwapConfig.DEFAULTS, WardenConfig.AnnotationPolicy.DEFAULTS);

    /** The seed demo pod: 100M limits, pod class silver, c0-lowprio bronze, c2-noswap no swap. */
    static PodSpec demoPod() {
        return pod("demo").annotation("class.memory-qos.nri.io", "silver")
                .annotation("class.memory-qos.nri.io/c0-lowprio", "bronze")
                .annotation("memory.swap.max.memory-qos.nri.io/c2-noswap", "0")
                .annotation("memory.high.memory-qos.nri.io/c2-noswap", "max")
                .container("c0-lowprio", mem(null, "100M")).container("c1-normal", mem(null, "100M"))
                .container("c2-noswap", mem(null, "100M")).build();
    }

    static Plan.ContainerPlan container(Plan plan, String name) {
        return plan.pods().stream().flatMap(p -> p.containers().stream()).filter(c -> c.name().equals(name))
                .findFirst().orElseThrow();
    }

    @Test
    void demoPodOnCgroupV2() {
        Plan plan = new Planner(v2Node(16 * GI, 4 * GI), KubeletSettings.DEFAULTS, CFG).plan(List.of(demoPod()), null, List.of());
        assertThat(plan.errors()).isEmpty();
        assertThat(plan.pods().getFirst().qosClass()).isEqualTo("Burstable"); // request defaulted from the limit, no cpu
        assertThat(container(plan, "c0-lowprio").cgroup()).containsEntry("memory.high", "50000000")
                .containsEntry("memory.swap.max", "max").containsEntry("memory.max", "100000000");
        assertThat(container(plan, "c1-normal").cgroup()).containsEntry("memory.high", "80000000")
                .containsEntry("memory.swap.max", "max");
        assertThat(container(plan, "c2-noswap").cgroup()).containsEntry("memory.high", "max")
                .containsEntry("memory.swap.max", "0");
        assertThat(container(plan, "c2-noswap").swapBehavior()).isEqualTo("NoSwap");
        assertThat(container(plan, "c1-normal").swapBehavior()).isEqualTo("UnlimitedSwap");
    }

    @Test
    void demoPodOnCgroupV1() {
        Plan plan = new Planner(v1Node(16 * GI, 4 * GI), KubeletSettings.DEFAULTS, CFG).plan(List.of(demoPod()), null, List.of());
        assertThat(plan.errors()).isEmpty();
        assertThat(container(plan, "c0-lowprio").cgroup()).isEqualTo(Map.of(
                "memory.limit_in_bytes", "50000000", "memory.memsw.limit_in_bytes", "-1"));
        assertThat(container(plan, "c1-normal").cgroup()).isEqualTo(Map.of(
                "memory.limit_in_bytes", "80000000", "memory.memsw.limit_in_bytes", "-1"));
        assertThat(container(plan, "c2-noswap").cgroup()).isEqualTo(Map.of(
                "memory.limit_in_bytes", "100000000", "memory.memsw.limit_in_bytes", "100000000",
                "memory.swappiness", "0"));
    }

    @Test
    void badContainerFailsAloneOthersArePlanned() {
        PodSpec p = pod("mixed").annotation("class.memory-qos.nri.io/nolimit", "bronze")
                .container("ok", mem("1Gi", "2Gi")).container("nolimit", mem("1Gi", null)).build();
        PodSpec other = pod("other").container("c", Resources.NONE).build();
        Plan plan = new Planner(v2Node(16 * GI, 0), KubeletSettings.DEFAULTS, CFG).plan(List.of(p, other), null, List.of());
        assertThat(plan.errors()).singleElement().satisfies(e -> {
            assertThat(e.pod()).isEqualTo("default/mixed");
            assertThat(e.container()).isEqualTo("nolimit");
            assertThat(e.message()).isEqualTo("cannot apply memory QoS class \"bronze\": missing container memory limit");
        });
        assertThat(plan.pods()).hasSize(2);
        assertThat(plan.pods().getFirst().containers()).extracting(Plan.ContainerPlan::name).containsExactly("ok");
    }

    @Test
    void podWideAnnotationErrorFailsThePodOnly() {
        PodSpec p = pod("bad").annotation("swap-behavior.memwarden.io", "UnlimitedSwap").container("c", mem("1Gi", "2Gi")).build();
        Plan plan = new Planner(v2Node(16 * GI, 0), KubeletSettings.DEFAULTS, CFG)
                .plan(List.of(p, pod("good").container("c", Resources.NONE).build()), null, List.of());
        assertThat(plan.pods()).extracting(Plan.PodPlan::name).containsExactly("good");
        assertThat(plan.errors()).singleElement().satisfies(e -> assertThat(e.message()).contains("annotations.allowed"));
    }

    @Test
    void failSwapOnIsANodeErrorButThePlanIsShown_s1() {
        Plan plan = new Planner(v2Node(16 * GI, 4 * GI), KubeletSettings.DEFAULTS, WardenConfig.DEFAULTS)
                .plan(List.of(pod("p").container("c", mem("1Gi", "2Gi")).build()), null, List.of());
        assertThat(plan.node().errors()).singleElement().asString().contains("running with swap on is not supported");
        assertThat(plan.pods()).hasSize(1);
        assertThat(plan.errors()).isEmpty();
    }

    @Test
    void memwardenConfigOverridesTheKubeletsBehaviourAndCapsIt() {
        var cfg = new WardenConfig(null, new WardenConfig.SwapConfig(SwapBehavior.UNLIMITED_SWAP,
                new WardenConfig.SwapCap(null, 25.0, "25%"), null), WardenConfig.AnnotationPolicy.DEFAULTS);
        Plan plan = new Planner(v2Node(16 * GI, 4 * GI), KubeletSettings.DEFAULTS, cfg)
                .plan(List.of(pod("p").container("c", mem("1Gi", "2Gi")).build()), null, List.of());
        assertThat(container(plan, "c").cgroup()).containsEntry("memory.swap.max", Long.toString(GI));
        assertThat(plan.node().swapBehavior()).isEqualTo("UnlimitedSwap");
    }

    @Test
    void podSwapCapFromAnnotation() {
        var cfg = new WardenConfig(null, new WardenConfig.SwapConfig(SwapBehavior.LIMITED_SWAP, null, null),
                new WardenConfig.AnnotationPolicy(Set.of("pod-swap-max"), Set.of(), Set.of()));
        PodSpec p = pod("p").annotation("pod-swap-max.memwarden.io", "100Mi")
                .container("a", mem("1Gi", "2Gi")).container("b", mem("1Gi", "2Gi")).build();
        Plan plan = new Planner(v2Node(16 * GI, 4 * GI), KubeletSettings.DEFAULTS, cfg).plan(List.of(p), null, List.of());
        assertThat(plan.pods().getFirst().podCgroup()).containsEntry("memory.swap.max", Long.toString(100 * MI));
        assertThat(container(plan, "a").cgroup()).containsEntry("memory.swap.max", Long.toString(256 * MI));
    }

    @Test
    void invalidReservationsRejectThePlanner_s5() {
        var k = new KubeletSettings(true, SwapBehavior.NO_SWAP, null, ReservationPolicy.NONE, true, true, 10 * GI,
                10 * GI, List.of(), List.of(), false, Set.of("pods"));
        assertThatThrownBy(() -> new Planner(v2Node(16 * GI, 0), k, WardenConfig.DEFAULTS))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("exceeds node memory capacity");
    }

    @Test
    void podOverheadCountsInPodRequestAndLimit() {
        PodSpec p = pod("kata").overhead("128Mi").container("c", mem("1Gi", "2Gi")).build();
        Plan plan = new Planner(v2Node(16 * GI, 0), KubeletSettings.DEFAULTS, WardenConfig.DEFAULTS).plan(List.of(p), null, List.of());
        assertThat(plan.pods().getFirst().memoryRequestBytes()).isEqualTo(GI + 128 * MI);
        assertThat(plan.pods().getFirst().podCgroup()).containsEntry("memory.max", Long.toString(2 * GI + 128 * MI));
    }

    @Test
    void oldKernelWarnsAboutMemoryHighLivelock() {
        NodeFacts old = new NodeFacts(16 * GI, 0, CgroupVersion.V2, true, 4096, null, "5.4.0-150");
        var k = MemoryQosTest.kubelet(0.9, ReservationPolicy.NONE, true);
        Plan plan = new Planner(old, k, WardenConfig.DEFAULTS).plan(List.of(), null, List.of());
        assertThat(plan.node().warnings()).anyMatch(w -> w.contains("livelock"));
    }
}
