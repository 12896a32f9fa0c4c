package io.memwarden.policy;

import static io.memwarden.policy.TestPods.GI;
import static io.memwarden.policy.TestPods.MI;
import static io.memwarden.policy.TestPods.q;
import static io.memwarden.policy.TestPods.v1Node;
import static io.memwarden.policy.TestPods.v2Node;
import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.model.NodeFacts;
import io.memwarden.model.PodSpec;
import io.memwarden.model.Resources;
import io.memwarden.model.SwapBehavior;
import io.memwarden.model.VmiSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Virt-launcher pods in the plan (docs/vm-nodes.md, issue #13 part 1): Guaranteed VMs never swap, the node's VM
 * capacity warnings, and the overhead a real virt-launcher pod publishes (with "version drift" when it differs).
 */
class VirtLaunchersTest {
    static final Resources GUARANTEED = new Resources(q("2"), q("2"), 4 * GI, 4 * GI);
    static final Resources BURSTABLE = new Resources(null, null, 2 * GI, null);

    static VmiSpec vmi(String name, Resources r) {
        return new VmiSpec("vms", name, null, null, r, null, null, null, null, false, "uid-" + name);
    }

    static WardenConfig swapConfig(SwapBehavior b) {
        return new WardenConfig(null, new WardenConfig.SwapConfig(b, null, null), null);
    }

    static Plan planVms(NodeFacts node, WardenConfig cfg, List<PodSpec> extra, VmiSpec... vmis) {
        VirtLaunchers.Sized sized = VirtLaunchers.size(List.of(vmis), extra, KubeVirtConfig.DEFAULTS, "amd64");
        return new Planner(node, KubeletSettings.DEFAULTS, cfg).plan(sized.pods(), null, List.of(),
                sized.vms().stream().map(KubeVirtResources.Rendered::plan).toList());
    }

    static Plan.PodPlan pod(Plan p, String name) {
        return p.pods().stream().filter(x -> x.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void guaranteedVmNeverSwapsWhateverTheConfigSays() {
        for (SwapBehavior b : List.of(SwapBehavior.UNLIMITED_SWAP, SwapBehavior.WITHIN_LIMIT_SWAP)) {
            Plan p = planVms(v2Node(16 * GI, 4 * GI), swapConfig(b), List.of(), vmi("db", GUARANTEED),
                    vmi("web", BURSTABLE));
            Plan.PodPlan db = pod(p, "virt-launcher-db");
            assertThat(db.qosClass()).isEqualTo("Guaranteed");
            for (Plan.ContainerPlan c : db.containers()) {
                assertThat(c.swapBehavior()).as(b + " " + c.name()).isEqualTo("NoSwap");
                assertThat(c.cgroup()).containsEntry("memory.swap.max", "0");
                assertThat(c.reasons()).anyMatch(r -> r.startsWith("swap: NoSwap, not " + b)
                        && r.contains("a Guaranteed virt-launcher pod never swaps"));
            }
            assertThat(p.node().warnings()).anyMatch(w -> w.startsWith("VM vms/db (pod vms/virt-launcher-db container"
                    + " compute, Guaranteed) would get swap " + b + " (memwarden config swap.behavior=" + b));
            // the Burstable VM swaps by its class
            Plan.PodPlan web = pod(p, "virt-launcher-web");
            assertThat(web.qosClass()).isEqualTo("Burstable");
            assertThat(web.containers()).allMatch(c -> c.swapBehavior().equals(b.toString())
                    || c.swapBehavior().equals(b.configName()));
            assertThat(p.node().warnings()).noneMatch(w -> w.startsWith("VM vms/web"));
        }
    }

    @Test
    void theRuleIsForVirtLaunchersOnly() {
        // the same Guaranteed pod without KubeVirt's label swaps as configured: the rule is not a general one
        PodSpec launcher = KubeVirtResources.render(vmi("db", GUARANTEED), KubeVirtConfig.DEFAULTS, "amd64")
                .launcherPod();
        PodSpec plain = launcher.withLabels(Map.of());
        Plan p = new Planner(v2Node(16 * GI, 4 * GI), KubeletSettings.DEFAULTS,
                swapConfig(SwapBehavior.UNLIMITED_SWAP)).plan(List.of(plain), null, List.of());
        assertThat(p.pods().getFirst().containers()).allMatch(c -> c.cgroup().get("memory.swap.max").equals("max"));
        assertThat(p.node().warnings()).noneMatch(w -> w.startsWith("VM "));
    }

    @Test
    void guaranteedVmOnCgroupV1GetsMemswEqualToItsLimit() {
        Plan p = planVms(v1Node(16 * GI, 4 * GI), swapConfig(SwapBehavior.UNLIMITED_SWAP), List.of(),
                vmi("db", GUARANTEED));
        for (Plan.ContainerPlan c : pod(p, "virt-launcher-db").containers()) {
            assertThat(c.cgroup().get("memory.memsw.limit_in_bytes")).isEqualTo(c.cgroup().get("memory.limit_in_bytes"));
        }
        assertThat(p.node().warnings()).anyMatch(w -> w.startsWith("VM vms/db "));
    }

    @Test
    void swapFromAnNriMemoryQosClassIsDroppedForAGuaranteedVm() {
        var mq = new WardenConfig.MemoryQosConfig(List.of(new WardenConfig.MemoryQosClass("swappy", 0.5f)), List.of());
        WardenConfig cfg = new WardenConfig(mq, null, null);
        PodSpec launcher = KubeVirtResources.render(vmi("db", GUARANTEED), KubeVirtConfig.DEFAULTS, "amd64")
                .launcherPod();
        Map<String, String> ann = new HashMap<>(launcher.annotations());
        ann.put("class.memory-qos.nri.io", "swappy");
        PodSpec classed = launcher.withAnnotations(ann);
        Planner planner = new Planner(v2Node(16 * GI, 4 * GI), KubeletSettings.DEFAULTS, cfg);
        Plan p = planner.plan(List.of(classed), null, List.of());
        Plan.ContainerPlan compute = p.pods().getFirst().containers().stream()
                .filter(c -> c.name().equals("compute")).findFirst().orElseThrow();
        assertThat(compute.cgroup()).containsEntry("memory.swap.max", "0");
        assertThat(compute.reasons()).anyMatch(r -> r.startsWith("memory.swap.max=max from nri memory-qos class"
                + " swappy dropped: a Guaranteed virt-launcher pod never swaps"));
        assertThat(p.node().warnings()).anyMatch(w -> w.startsWith("VM vms/db (pod vms/virt-launcher-db container"
                + " compute, Guaranteed) would get memory.swap.max=max from nri memory-qos class swappy"));
        // without the virt-launcher label the class gives swap
        Plan plain = planner.plan(List.of(classed.withLabels(Map.of())), null, List.of());
        assertThat(plain.pods().getFirst().containers().stream().filter(c -> c.name().equals("compute")).findFirst()
                .orElseThrow().cgroup()).containsEntry("memory.swap.max", "max");
    }

    @Test
    void vmsAboveAllocatablePlusSwapWarnWithTheExcess() {
        NodeFacts node = v2Node(16 * GI, 4 * GI);
        Planner planner = new Planner(node, KubeletSettings.DEFAULTS, swapConfig(SwapBehavior.LIMITED_SWAP));
        long alloc = planner.allocatableMemory();
        List<VmiSpec> vmis = new ArrayList<>();
        long sum = 0;
        for (int i = 0; i < 3; i++) { // 3 × (7Gi guest + overhead)
            vmis.add(vmi("big" + i, new Resources(null, null, 7 * GI, null)));
        }
        Plan p = planVms(node, swapConfig(SwapBehavior.LIMITED_SWAP), List.of(), vmis.toArray(VmiSpec[]::new));
        for (KubeVirtResources.VirtualMachinePlan v : p.virtualMachines()) {
            sum += v.guestMemoryBytes() + v.overheadBytes();
        }
        long backing = alloc + 4 * GI;
        assertThat(sum).isGreaterThan(backing);
        assertThat(p.node().warnings()).contains("3 VM(s): guest memory + overhead " + sum + " exceeds allocatable "
                + alloc + " + swap " + 4 * GI + " = " + backing + " by " + (sum - backing) + " bytes: if the guests"
                + " touch their memory the node runs out (evictions, OOM kills) [kernel-and-vm §1.2]");
        long requests = 0;
        for (Plan.PodPlan pp : p.pods()) {
            requests += pp.memoryRequestBytes();
        }
        assertThat(p.node().warnings()).contains("3 virt-launcher pod(s): memory requests " + requests
                + " exceed allocatable " + alloc + " by " + (requests - alloc) + " bytes: the scheduler would not"
                + " place them all on this node (swap does not count toward requests) [kubelet-semantics §5]");

        // two of them fit in allocatable + swap, and their requests in allocatable
        Plan two = planVms(node, swapConfig(SwapBehavior.LIMITED_SWAP), List.of(), vmis.get(0), vmis.get(1));
        assertThat(two.node().warnings()).noneMatch(w -> w.contains("VM(s)") || w.contains("virt-launcher pod(s)"));
    }

    @Test
    void vmSizesNearTheInt64LimitSaturateInsteadOfOverflowing() {
        // two VMs of 4Ei guests: their sum overflowed Math.addExact and the exception took the node's plan down
        NodeFacts node = v2Node(16 * GI, 4 * GI);
        Plan p = planVms(node, swapConfig(SwapBehavior.LIMITED_SWAP), List.of(),
                vmi("huge1", new Resources(null, null, 4L << 60, null)),
                vmi("huge2", new Resources(null, null, 4L << 60, null)));
        assertThat(p.node().warnings()).anyMatch(w -> w.startsWith("2 VM(s): guest memory + overhead "
                + Long.MAX_VALUE + " exceeds allocatable"));
    }

    @Test
    void withNoSwapTheSwapDoesNotCount() {
        NodeFacts node = v2Node(16 * GI, 8 * GI);
        // 2 × (8Gi + overhead) > allocatable but < allocatable + 8Gi: only a warning when swap cannot be used
        VmiSpec a = new VmiSpec("vms", "a", null, null, Resources.NONE, 8 * GI, null, null, null, false);
        VmiSpec b = new VmiSpec("vms", "b", null, null, Resources.NONE, 8 * GI, null, null, null, false);
        Plan none = planVms(node, swapConfig(SwapBehavior.NO_SWAP), List.of(), a, b);
        Plan limited = planVms(node, swapConfig(SwapBehavior.LIMITED_SWAP), List.of(), a, b);
        assertThat(none.node().warnings()).anyMatch(w -> w.startsWith("2 VM(s): guest memory + overhead")
                && w.contains("no usable swap (swap behavior NoSwap)"));
        assertThat(limited.node().warnings()).noneMatch(w -> w.startsWith("2 VM(s)"));
    }

    /** A real virt-launcher pod as KubeVirt creates it (template.go podLabels/generatePodAnnotations). */
    static PodSpec realLauncher(VmiSpec vmi, String createdBy, String publishedOverhead) {
        PodSpec rendered = KubeVirtResources.render(vmi, KubeVirtConfig.DEFAULTS, "amd64").launcherPod();
        Map<String, String> ann = new HashMap<>(Map.of("kubevirt.io/domain", vmi.name()));
        if (publishedOverhead != null) {
            ann.put("kubevirt.io/memory-overhead-bytes", publishedOverhead);
        }
        return new PodSpec(vmi.namespace(), "virt-launcher-" + vmi.name() + "-x7k2q", "pod-uid", ann, null, null,
                null, null, Resources.NONE, rendered.containers(),
                Map.of("kubevirt.io", "virt-launcher", "kubevirt.io/created-by", createdBy));
    }

    @Test
    void publishedOverheadIsUsedAndADifferenceIsVersionDrift() {
        VmiSpec web = vmi("web", BURSTABLE);
        long computed = KubeVirtOverhead.compute(web, "amd64", null).bytes();
        long published = computed - 20 * MI; // a KubeVirt before PR #18388 (QEMU 30Mi)
        PodSpec real = realLauncher(web, "uid-web", Long.toString(published));
        VirtLaunchers.Sized sized = VirtLaunchers.size(List.of(web), List.of(real), KubeVirtConfig.DEFAULTS, "amd64");
        // the real pod is planned, not memwarden's rendering
        assertThat(sized.pods()).containsExactly(real);
        KubeVirtResources.VirtualMachinePlan v = sized.vms().getFirst().plan();
        assertThat(v.overheadBytes()).isEqualTo(published);
        assertThat(v.computeContainer().requestBytes()).isEqualTo(2 * GI + published);
        assertThat(v.reasons()).anyMatch(r -> r.startsWith("overhead " + published + ": published by KubeVirt in"
                + " annotation kubevirt.io/memory-overhead-bytes of pod vms/virt-launcher-web-x7k2q"));
        assertThat(v.reasons()).anyMatch(r -> r.startsWith("warning: version drift: KubeVirt published overhead "
                + published + " bytes, memwarden computes " + computed + " bytes (difference " + (-20 * MI) + ")"));
        // the parts stay memwarden's own computation
        assertThat(v.overhead().values().stream().mapToLong(Long::longValue).sum()).isEqualTo(computed);

        // the same value: used, no drift
        PodSpec same = realLauncher(web, "uid-web", Long.toString(computed));
        KubeVirtResources.VirtualMachinePlan s = VirtLaunchers.size(List.of(web), List.of(same),
                KubeVirtConfig.DEFAULTS, "amd64").vms().getFirst().plan();
        assertThat(s.overheadBytes()).isEqualTo(computed);
        assertThat(s.reasons()).anyMatch(r -> r.startsWith("overhead " + computed + ": published by KubeVirt"));
        assertThat(s.reasons()).noneMatch(r -> r.contains("version drift"));

        // and the planned pod's reasons say whose launcher it is and what it published
        Plan p = new Planner(v2Node(16 * GI, 0), KubeletSettings.DEFAULTS, WardenConfig.DEFAULTS)
                .plan(sized.pods(), null, List.of(), List.of(v));
        assertThat(p.pods().getFirst().reasons()).contains("virt-launcher pod of VM vms/web (label"
                + " kubevirt.io=virt-launcher); VM overhead " + published + " bytes (annotation"
                + " kubevirt.io/memory-overhead-bytes), part of the compute container's request and limit"
                + " [kernel-and-vm §1.1]");
    }

    @Test
    void withoutOrWithABadAnnotationMemwardenComputes() {
        VmiSpec web = vmi("web", BURSTABLE);
        long computed = KubeVirtOverhead.compute(web, "amd64", null).bytes();
        KubeVirtResources.VirtualMachinePlan none = VirtLaunchers.size(List.of(web),
                List.of(realLauncher(web, "uid-web", null)), KubeVirtConfig.DEFAULTS, "amd64").vms().getFirst().plan();
        assertThat(none.overheadBytes()).isEqualTo(computed);
        assertThat(none.reasons()).anyMatch(r -> r.startsWith("the pod publishes no kubevirt.io/memory-overhead-bytes"));
        for (String bad : List.of("-5", "12Mi", "", "99999999999999999999", "1\n2")) {
            KubeVirtResources.VirtualMachinePlan b = VirtLaunchers.size(List.of(web),
                    List.of(realLauncher(web, "uid-web", bad)), KubeVirtConfig.DEFAULTS, "amd64").vms().getFirst()
                    .plan();
            assertThat(b.overheadBytes()).as(bad).isEqualTo(computed);
            assertThat(b.reasons()).as(bad).anyMatch(r -> r.startsWith("warning: annotation"
                    + " kubevirt.io/memory-overhead-bytes=\"") && r.contains("on pod vms/virt-launcher-web-x7k2q is not"
                    + " a byte count") && !r.contains("\n"));
        }
    }

    @Test
    void aLauncherOfAnotherVmiOfTheSameNameDoesNotMatch() {
        VmiSpec web = vmi("web", BURSTABLE);
        PodSpec stale = realLauncher(web, "uid-of-an-earlier-web", "1");
        VirtLaunchers.Sized sized = VirtLaunchers.size(List.of(web), List.of(stale), KubeVirtConfig.DEFAULTS, "amd64");
        assertThat(sized.pods()).hasSize(2); // the stale pod and memwarden's rendering
        assertThat(sized.vms().getFirst().plan().overheadBytes()).isNotEqualTo(1);
        // another namespace does not match either; a VMI without a uid (a VirtualMachine) matches by name
        assertThat(VirtLaunchers.runs(stale, new VmiSpec("other", "web", null, null, BURSTABLE, null, null, null, null,
                false))).isFalse();
        assertThat(VirtLaunchers.runs(stale, new VmiSpec("vms", "web", "VirtualMachine", null, BURSTABLE, null, null,
                null, null, false))).isTrue();
        assertThat(VirtLaunchers.runs(stale.withLabels(Map.of()), new VmiSpec("vms", "web", "VirtualMachine", null,
                BURSTABLE, null, null, null, null, false))).isFalse();
    }
}
