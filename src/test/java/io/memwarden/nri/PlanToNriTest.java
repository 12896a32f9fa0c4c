package io.memwarden.nri;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.model.CgroupVersion;
import io.memwarden.nri.api.ConfigureRequest;
import io.memwarden.nri.api.LinuxMemory;
import io.memwarden.nri.api.LinuxResources;
import io.memwarden.nri.api.OptionalInt64;
import io.memwarden.policy.KubeletSettings;
import io.memwarden.policy.Plan.ContainerPlan;
import io.memwarden.policy.Planner;
import io.memwarden.policy.WardenConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PlanToNriTest {
    static ContainerPlan plan(Map<String, String> files) {
        return new ContainerPlan("c", false, "LimitedSwap", 0, files, List.of());
    }

    static LinuxResources current(Long limit, Map<String, String> unified) {
        LinuxMemory.Builder m = LinuxMemory.newBuilder();
        if (limit != null) {
            m.setLimit(OptionalInt64.newBuilder().setValue(limit));
        }
        return LinuxResources.newBuilder().setMemory(m).putAllUnified(unified).build();
    }

    @Test
    void v2PutsFilesIntoUnifiedAndTheLimitIntoLinuxMemoryOnlyWhenItDiffers() {
        Map<String, String> files = new LinkedHashMap<>();
        files.put("memory.max", "1000");
        files.put("memory.swap.max", "0");
        files.put("memory.high", "900");
        LinuxResources same = PlanToNri.resources(CgroupVersion.V2, plan(files), current(1000L, Map.of()));
        assertThat(same.hasMemory()).isFalse();
        assertThat(same.getUnifiedMap()).containsExactlyInAnyOrderEntriesOf(Map.of("memory.swap.max", "0",
                "memory.high", "900"));
        LinuxResources other = PlanToNri.resources(CgroupVersion.V2, plan(files), current(2000L,
                Map.of("memory.swap.max", "0")));
        assertThat(other.getMemory().getLimit().getValue()).isEqualTo(1000);
        assertThat(other.getUnifiedMap()).as("values already set are not claimed")
                .containsExactlyEntriesOf(Map.of("memory.high", "900"));
    }

    @Test
    void v1UsesLimitAndMemswAsSwap() {
        LinuxResources r = PlanToNri.resources(CgroupVersion.V1, plan(Map.of("memory.limit_in_bytes", "900",
                "memory.memsw.limit_in_bytes", "-1")), current(1000L, Map.of()));
        assertThat(r.getMemory().getLimit().getValue()).isEqualTo(900);
        assertThat(r.getMemory().getSwap().getValue()).isEqualTo(-1);
        assertThat(r.getUnifiedCount()).isZero();
        LinuxResources noSwap = PlanToNri.resources(CgroupVersion.V1, plan(Map.of("memory.limit_in_bytes", "1000",
                "memory.memsw.limit_in_bytes", "1000", "memory.swappiness", "0")), current(1000L, Map.of()));
        assertThat(noSwap.getMemory().hasLimit()).isFalse();
        assertThat(noSwap.getMemory().getSwap().getValue()).isEqualTo(1000);
        assertThat(noSwap.getMemory().hasSwappiness()).as("present means set, even to 0").isTrue();
        assertThat(noSwap.getMemory().getSwappiness().getValue()).isZero();
        LinuxResources none = PlanToNri.resources(CgroupVersion.V1, plan(Map.of("memory.limit_in_bytes", "1000")),
                current(1000L, Map.of()));
        assertThat(PlanToNri.isEmpty(none)).isTrue();
    }

    @Test
    void v1NodeEndToEndMatchesThePlanner() {
        var pod = NriFixtures.pod("web");
        ContainerPlan p = new Planner(NriFixtures.V1, KubeletSettings.DEFAULTS,
                WardenConfig.DEFAULTS).planPod(pod).plan().containers().getFirst();
        LinuxResources r = PlanToNri.resources(CgroupVersion.V1, p, current(2L << 30, Map.of()));
        assertThat(r.getMemory().hasLimit()).isFalse();
        assertThat(r.getMemory().getSwap().getValue())
                .isEqualTo(Long.parseLong(p.cgroup().get("memory.memsw.limit_in_bytes")));
    }

    @Test
    void mergeTracksWhatTheContainerHasAfterAnAdjustment() {
        LinuxResources base = current(1000L, Map.of("memory.high", "1"));
        LinuxResources change = LinuxResources.newBuilder().setMemory(LinuxMemory.newBuilder()
                .setSwap(OptionalInt64.newBuilder().setValue(5))).putUnified("memory.high", "2").build();
        LinuxResources m = PlanToNri.merge(base, change);
        assertThat(m.getMemory().getLimit().getValue()).isEqualTo(1000);
        assertThat(m.getMemory().getSwap().getValue()).isEqualTo(5);
        assertThat(m.getUnifiedMap()).containsEntry("memory.high", "2");
    }

    @Test
    void eventMaskFollowsTheRuntimesNriVersion() {
        assertThat(NriEvents.mask(NriEvents.subscribed(ConfigureRequest.getDefaultInstance()))).isEqualTo(0x68D);
        assertThat(NriEvents.mask(NriEvents.subscribed(ConfigureRequest.newBuilder().setNriVersion("v0.12.0")
                .build()))).isEqualTo(0xE8D);
        assertThat(NriEvents.knowsUpdatePodSandbox(ConfigureRequest.newBuilder().setRuntimeName("cri-o")
                .setRuntimeVersion("1.34.2").build())).isTrue();
        assertThat(NriEvents.knowsUpdatePodSandbox(ConfigureRequest.newBuilder().setRuntimeName("cri-o")
                .setRuntimeVersion("1.31.0").build())).isFalse();
        assertThat(NriEvents.knowsUpdatePodSandbox(ConfigureRequest.newBuilder().setRuntimeName("containerd")
                .setRuntimeVersion("99999999999.1").build())).isFalse();
    }
}
