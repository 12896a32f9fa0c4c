package io.memwarden.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.model.KubeQuantity;
import io.memwarden.model.QosClass;
import io.memwarden.model.Resources;
import io.memwarden.model.VmiSpec;
import org.junit.jupiter.api.Test;

/**
 * Expected values from KubeVirt's own unit tests at d923fdb: pkg/hypervisor/kvm/hypervisorbackend_test.go
 * ("GetMemoryOverhead calculation": a VMI requesting 1Gi, base 7Mi + static 243Mi + video 32Mi + 8Mi per vCPU) and
 * the rendering rules of pkg/virt-controller/services/renderresources.go (WithMemoryRequests, WithCPUPinning,
 * WithMemoryOverhead).
 */
class KubeVirtTest {
    static final long MI = 1L << 20;
    static final long GI = 1L << 30;
    /** hypervisorbackend_test.go: baseOverhead 7Mi + staticOverhead 243Mi + videoRAMOverhead 32Mi. */
    static final long BASE = (7 + 243 + 32) * MI;

    static KubeQuantity q(String s) {
        return KubeQuantity.parse(s);
    }

    static VmiSpec vmi(Resources r, VmiSpec.Cpu cpu, VmiSpec.Devices d) {
        return new VmiSpec("ns", "vm", null, null, r, null, cpu, d, null, false);
    }

    static final Resources REQ_1GI = new Resources(null, null, GI, null);

    static long overhead(VmiSpec v) {
        return KubeVirtOverhead.compute(v, "amd64", null).bytes();
    }

    @Test
    void baseOverheadPlusOneVcpu() {
        // "should return base overhead+static+8Mi": 290Mi
        assertThat(overhead(vmi(REQ_1GI, null, null))).isEqualTo(BASE + 8 * MI).isEqualTo(290 * MI);
    }

    @Test
    void topologyCountsEveryVcpu() {
        // "should adjust overhead based on the cores/threads/sockets": 2×2×2
        assertThat(overhead(vmi(REQ_1GI, new VmiSpec.Cpu(2, 2, 2, false), null))).isEqualTo(BASE + 8 * 8 * MI);
    }

    @Test
    void cpuLimitThenRequestGiveTheVcpus() {
        // "based on the limits if both requests and limits are provided" (3, 5 → 5); "based on the requests" (3 → 3)
        assertThat(overhead(vmi(new Resources(q("3"), q("5"), GI, null), null, null))).isEqualTo(BASE + 5 * 8 * MI);
        assertThat(overhead(vmi(new Resources(q("3"), null, GI, null), null, null))).isEqualTo(BASE + 3 * 8 * MI);
    }

    @Test
    void noGraphicsDeviceNoVideoRam() {
        var d = new VmiSpec.Devices(false, false, false, false, false, false, false, null, null);
        assertThat(overhead(vmi(REQ_1GI, null, d))).isEqualTo(BASE - 32 * MI + 8 * MI);
    }

    @Test
    void deviceAndArchitectureParts() {
        long one = BASE + 8 * MI;
        assertThat(KubeVirtOverhead.compute(vmi(REQ_1GI, null, null), "arm64", null).bytes()).isEqualTo(one + 128 * MI);
        assertThat(overhead(vmi(REQ_1GI, null, new VmiSpec.Devices(null, true, false, false, false, false, false,
                null, null)))).isEqualTo(one + GI);
        assertThat(overhead(vmi(REQ_1GI, null, new VmiSpec.Devices(null, false, true, false, false, false, false,
                null, null)))).isEqualTo(one + MI);
        // probes: 110Mi for one exec probe, 120Mi for both
        assertThat(overhead(vmi(REQ_1GI, null, new VmiSpec.Devices(null, false, false, true, false, false, false,
                null, null)))).isEqualTo(one + 110 * MI);
        assertThat(overhead(vmi(REQ_1GI, null, new VmiSpec.Devices(null, false, false, true, true, false, false,
                null, null)))).isEqualTo(one + 120 * MI);
        assertThat(overhead(vmi(REQ_1GI, null, new VmiSpec.Devices(null, false, false, false, false, true, false,
                null, null)))).isEqualTo(one + 256 * MI);
        assertThat(overhead(vmi(REQ_1GI, null, new VmiSpec.Devices(null, false, false, false, false, false, true,
                null, null)))).isEqualTo(one + 53 * MI);
    }

    @Test
    void dedicatedCpuOrWantsGuaranteedAdds100Mi() {
        // "should add 100Mi of overhead": with DedicatedCPU (cores 1); when wants QOSGuaranteed (1Gi/1Gi, cpu 4/4, cores 1)
        assertThat(overhead(vmi(REQ_1GI, new VmiSpec.Cpu(0, 1, 0, true), null))).isEqualTo(BASE + 8 * MI + 100 * MI);
        assertThat(overhead(vmi(new Resources(q("4"), q("4"), GI, GI), new VmiSpec.Cpu(0, 1, 0, false), null)))
                .isEqualTo(BASE + 8 * MI + 100 * MI);
    }

    @Test
    void addedOverheadIsAdded() {
        // "reservedOverhead value is provided": 100G
        var v = new VmiSpec("ns", "vm", null, null, REQ_1GI, null, null, null, 100_000_000_000L, false);
        assertThat(overhead(v)).isEqualTo(BASE + 8 * MI + 100_000_000_000L);
    }

    @Test
    void ratioIsAppliedInKilobytes() {
        // "should adjust the overhead using the given ratio" 3.2: MultiplyMemory(290Mi, 3.2):
        // ⌈304087040 / 1000⌉ = 304088 kB × 2.2 = 668993.6 → 668993 kB added
        var r = KubeVirtOverhead.compute(vmi(REQ_1GI, null, null), "amd64", "3.2");
        assertThat(r.bytes()).isEqualTo(290 * MI + 668_993_000L);
        assertThat(r.parts()).containsEntry("additionalOverheadRatio", 668_993_000L);
        assertThat(r.parts().values().stream().mapToLong(Long::longValue).sum()).isEqualTo(r.bytes());
        // "1.0" adds nothing
        assertThat(KubeVirtOverhead.compute(vmi(REQ_1GI, null, null), "amd64", "1.0").bytes()).isEqualTo(290 * MI);
    }

    @Test
    void pageTablesUseTheRequestRoundedUpToKilobytes() {
        // 1G = 10^9: ⌈10^9/1000⌉·1000/512 = 1953125
        var v = vmi(new Resources(q("1"), null, 1_000_000_000L, null), null, null);
        assertThat(KubeVirtOverhead.compute(v, "amd64", null).parts()).containsEntry("pageTables", 1_953_125L);
        // a guest-only VMI has no request: no page-table overhead
        var guestOnly = new VmiSpec("ns", "vm", null, null, Resources.NONE, 2 * GI, null, null, null, false);
        assertThat(KubeVirtOverhead.compute(guestOnly, "amd64", null).parts()).containsEntry("pageTables", 0L);
    }

    @Test
    void requestOnlyVmiIsBurstableWithOverheadOnTheRequest() {
        var r = KubeVirtResources.render(vmi(REQ_1GI, null, null), KubeVirtConfig.DEFAULTS, "amd64");
        assertThat(r.plan().computeContainer()).isEqualTo(new KubeVirtResources.ComputeContainer(GI + 290 * MI, null));
        assertThat(r.plan().guestMemoryBytes()).isEqualTo(GI);
        assertThat(r.qos()).isEqualTo(QosClass.BURSTABLE);
        // the compute container gets vCPUs / cpuAllocationRatio (10) as its cpu request
        assertThat(r.launcherPod().regularContainers().getFirst().resources().cpuRequest()).isEqualTo(q("100m"));
    }

    @Test
    void limitOnlyBecomesTheRequestAndBothGetTheOverhead() {
        var r = KubeVirtResources.render(vmi(new Resources(q("2"), q("2"), null, 2 * GI), null, null),
                KubeVirtConfig.DEFAULTS, "amd64");
        long oh = r.plan().overheadBytes();
        // wants Guaranteed: no memory request but a limit, cpu request = limit → +100Mi; no request → no page tables
        assertThat(r.plan().overhead()).containsEntry("dedicatedCpuOrGuaranteedQos", 100 * MI)
                .containsEntry("pageTables", 0L);
        assertThat(r.plan().computeContainer()).isEqualTo(new KubeVirtResources.ComputeContainer(2 * GI + oh, 2 * GI + oh));
        assertThat(r.qos()).isEqualTo(QosClass.GUARANTEED);
        assertThat(r.plan().reasons()).anyMatch(s -> s.contains("never swaps"));
    }

    @Test
    void guestOnlyIsOvercommittedByTheClusterPercentage() {
        var v = new VmiSpec("ns", "vm", null, null, Resources.NONE, 3 * GI, null, null, null, false);
        var r = KubeVirtResources.render(v, new KubeVirtConfig(150, null, 10, false), "amd64");
        long oh = r.plan().overheadBytes();
        assertThat(r.plan().computeContainer().requestBytes()).isEqualTo(3 * GI * 100 / 150 + oh);
        assertThat(r.plan().reasons()).anyMatch(s -> s.startsWith("warning: guest memory 3221225472 exceeds the memory"
                + " request 2147483648 by 1073741824 bytes"));
    }

    @Test
    void explicitOvercommitWarns() {
        var v = new VmiSpec("ns", "vm", null, null, REQ_1GI, 4 * GI, null, null, null, false);
        var r = KubeVirtResources.render(v, KubeVirtConfig.DEFAULTS, "amd64");
        assertThat(r.plan().guestMemoryBytes()).isEqualTo(4 * GI);
        assertThat(r.plan().reasons()).anyMatch(s -> s.contains("exceeds the memory request 1073741824 by 3221225472"));
    }

    @Test
    void dedicatedCpusPinTheLimitToTheRequest() {
        var r = KubeVirtResources.render(vmi(REQ_1GI, new VmiSpec.Cpu(0, 2, 0, true), null), KubeVirtConfig.DEFAULTS,
                "amd64");
        long oh = r.plan().overheadBytes();
        assertThat(r.plan().computeContainer()).isEqualTo(new KubeVirtResources.ComputeContainer(GI + oh, GI + oh));
        assertThat(r.qos()).isEqualTo(QosClass.GUARANTEED);
    }

    @Test
    void overcommitGuestOverheadLeavesTheOverheadOutOfTheRequestOnly() {
        var v = new VmiSpec("ns", "vm", null, null, new Resources(null, null, GI, 2 * GI), null, null, null, null, true);
        var r = KubeVirtResources.render(v, KubeVirtConfig.DEFAULTS, "amd64");
        assertThat(r.plan().computeContainer()).isEqualTo(new KubeVirtResources.ComputeContainer(GI,
                2 * GI + r.plan().overheadBytes()));
    }

    @Test
    void vmiArchitectureWinsOverTheNode() {
        var v = new VmiSpec("ns", "vm", null, "arm64", REQ_1GI, null, null, null, null, false);
        var r = KubeVirtResources.render(v, KubeVirtConfig.DEFAULTS, "amd64");
        assertThat(r.plan().architecture()).isEqualTo("arm64");
        assertThat(r.plan().overhead()).containsEntry("arm64Pflash", 128 * MI);
    }
}
