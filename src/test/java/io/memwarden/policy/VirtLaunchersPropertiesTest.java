package io.memwarden.policy;

import static io.memwarden.policy.TestPods.GI;
import static io.memwarden.policy.TestPods.MI;
import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.model.CgroupVersion;
import io.memwarden.model.KubeQuantity;
import io.memwarden.model.NodeFacts;
import io.memwarden.model.Resources;
import io.memwarden.model.SwapBehavior;
import io.memwarden.model.VmiSpec;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

/** Invariants of VMs in the plan (docs/vm-nodes.md "Swap for VMs"). */
class VirtLaunchersPropertiesTest {

    /** Whatever swap behaviour the config or the kubelet sets, on either cgroup version, a Guaranteed VM gets none. */
    @Property(tries = 300)
    void aGuaranteedVmNeverGetsSwap(@ForAll SwapBehavior behavior, @ForAll boolean v2,
                                    @ForAll @LongRange(min = 64, max = 64 * 1024) long memMi,
                                    @ForAll @IntRange(min = 1, max = 16) int cpus,
                                    @ForAll @LongRange(min = 0, max = 64) long swapGi) {
        KubeQuantity cpu = KubeQuantity.parse(Integer.toString(cpus));
        VmiSpec vmi = new VmiSpec("vms", "g", null, null, new Resources(cpu, cpu, memMi * MI, memMi * MI), null, null,
                null, null, false, "u");
        NodeFacts node = new NodeFacts(256 * GI, swapGi * GI, v2 ? CgroupVersion.V2 : CgroupVersion.V1, true, 4096,
                null, "6.12.0");
        VirtLaunchers.Sized sized = VirtLaunchers.size(List.of(vmi), List.of(), KubeVirtConfig.DEFAULTS, "amd64");
        Plan p = new Planner(node, KubeletSettings.DEFAULTS,
                new WardenConfig(null, new WardenConfig.SwapConfig(behavior, null, null), null))
                .plan(sized.pods(), null, List.of(), List.of(sized.vms().getFirst().plan()));
        Plan.PodPlan pod = p.pods().getFirst();
        assertThat(pod.qosClass()).isEqualTo("Guaranteed");
        for (Plan.ContainerPlan c : pod.containers()) {
            if (v2) {
                assertThat(c.cgroup()).containsEntry("memory.swap.max", "0");
            } else {
                assertThat(c.cgroup().get("memory.memsw.limit_in_bytes")).isEqualTo(c.cgroup().get("memory.limit_in_bytes"));
            }
        }
        assertThat(pod.podCgroup()).doesNotContainKey("memory.swap.max");
    }
}
