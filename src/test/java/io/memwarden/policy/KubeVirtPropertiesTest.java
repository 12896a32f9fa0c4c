package io.memwarden.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.model.KubeQuantity;
import io.memwarden.model.Resources;
import io.memwarden.model.VmiSpec;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

/** Invariants of KubeVirt's overhead and rendering (docs/vm-nodes.md). */
class KubeVirtPropertiesTest {
    static final String[] RATIOS = {null, "1.0", "1.2", "2.332", "3.2"};

    static VmiSpec vmi(long request, Long limit, Long guest, int cores, boolean dedicated) {
        return new VmiSpec("ns", "vm", null, null, new Resources(null, null, request == 0 ? null : request, limit),
                guest, new VmiSpec.Cpu(0, cores, 0, dedicated), null, null, false);
    }

    @Property
    void overheadIsMonotoneInMemoryAndVcpus(@ForAll @LongRange(min = 1, max = 1L << 42) long request,
                                            @ForAll @LongRange(min = 0, max = 1L << 30) long more,
                                            @ForAll @IntRange(min = 1, max = 256) int cores,
                                            @ForAll @IntRange(min = 0, max = 4) int ratio) {
        String r = RATIOS[ratio];
        long base = KubeVirtOverhead.compute(vmi(request, null, null, cores, false), "amd64", r).bytes();
        assertThat(KubeVirtOverhead.compute(vmi(request + more, null, null, cores, false), "amd64", r).bytes())
                .isGreaterThanOrEqualTo(base);
        assertThat(KubeVirtOverhead.compute(vmi(request, null, null, cores + 1, false), "amd64", r).bytes())
                .isGreaterThan(base);
    }

    @Property
    void renderingIsNeverNegativeAndRequestWithinLimit(@ForAll @LongRange(min = 0, max = 1L << 42) long request,
                                                       @ForAll @LongRange(min = 0, max = 1L << 40) long headroom,
                                                       @ForAll boolean withLimit, @ForAll boolean dedicated,
                                                       @ForAll @IntRange(min = 1, max = 64) int cores,
                                                       @ForAll @IntRange(min = 10, max = 400) int overcommit,
                                                       @ForAll @IntRange(min = 0, max = 4) int ratio) {
        Long limit = withLimit ? request + headroom : null;
        Long guest = request == 0 && !withLimit ? Long.valueOf(headroom + 1) : null;
        var v = vmi(request, limit == null || limit == 0 ? null : limit, guest, cores, dedicated);
        if (v.resources().memoryRequest() == null && v.resources().memoryLimit() == null && guest == null) {
            return;
        }
        var r = KubeVirtResources.render(v, new KubeVirtConfig(overcommit, RATIOS[ratio], 10, false), "amd64");
        var c = r.plan().computeContainer();
        assertThat(r.plan().overheadBytes()).isPositive();
        assertThat(r.plan().overhead().values()).allMatch(x -> x >= 0);
        assertThat(r.plan().overhead().values().stream().mapToLong(Long::longValue).sum())
                .isEqualTo(r.plan().overheadBytes());
        assertThat(c.requestBytes()).isNotNegative();
        if (c.limitBytes() != null) {
            assertThat(c.requestBytes()).isLessThanOrEqualTo(c.limitBytes());
        }
        assertThat(r.plan().guestMemoryBytes()).isPositive();
    }

    @Property
    void ratioNeverLowersTheOverhead(@ForAll @LongRange(min = 0, max = 1L << 42) long request,
                                     @ForAll @IntRange(min = 1, max = 4) int ratio) {
        var v = vmi(request, null, request == 0 ? 1L : null, 1, false);
        assertThat(KubeVirtOverhead.compute(v, "amd64", RATIOS[ratio]).bytes())
                .isGreaterThanOrEqualTo(KubeVirtOverhead.compute(v, "amd64", null).bytes());
        assertThat(KubeQuantity.parse("1")).isNotNull();
    }
}
