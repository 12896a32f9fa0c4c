package io.memwarden.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.model.CgroupFiles;
import io.memwarden.model.CgroupVersion;
import io.memwarden.model.ContainerKind;
import io.memwarden.model.ContainerSpec;
import io.memwarden.model.NodeFacts;
import io.memwarden.model.PodSpec;
import io.memwarden.model.Resources;
import io.memwarden.model.SwapBehavior;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Pod annotations as a hostile pod author writes them (issue #11): whatever the annotations hold, planning never
 * throws, every error is this pod's alone and is said in words, every value written is canonical, the admin's swap
 * caps hold for every spelling, and cgroup v1 and v2 give the same swap allowance.
 */
class HostileAnnotationsPropertiesTest {
    private static final String NRI = NriMemoryQos.SUFFIX;
    private static final String MW = WardenAnnotations.SUFFIX;
    private static final long SWAP = 8L << 30;
    private static final long CAP = 1L << 30; // swap.maxPerContainer
    private static final long POD_CAP = 3L << 29; // swap.maxPerPod

    private static final WardenConfig CONFIG = new WardenConfig(
            new WardenConfig.MemoryQosConfig(List.of(new WardenConfig.MemoryQosClass("bronze", 0.5f),
                    new WardenConfig.MemoryQosClass("silver", 0.2f)), List.copyOf(CgroupFiles.V2_SETTINGS)),
            new WardenConfig.SwapConfig(null, new WardenConfig.SwapCap(CAP, null, "1Gi"),
                    new WardenConfig.SwapCap(POD_CAP, null, "1536Mi")),
            new WardenConfig.AnnotationPolicy(WardenAnnotations.KEYS, Set.of(SwapBehavior.values()), Set.of()));

    private static Planner planner(CgroupVersion v) {
        var k = new KubeletSettings(false, SwapBehavior.LIMITED_SWAP, 0.9, ReservationPolicy.TIERED_RESERVATION, true,
                true, 0, 0, KubeletSettings.DEFAULT_EVICTION_HARD, List.of(), false, Set.of("pods"));
        return new Planner(new NodeFacts(16L << 30, SWAP, v, true, 4096, null, "6.12.0"), k, CONFIG);
    }

    private static final Planner V1 = planner(CgroupVersion.V1);
    private static final Planner V2 = planner(CgroupVersion.V2);

    @Provide
    Arbitrary<String> values() {
        return Arbitraries.oneOf(
                Arbitraries.of("99999999999999999999", "18446744073709551616", "100G", " 100G\n", "100Gi", "1Gi", "-1",
                        "max", " max", "MAX", "0", "1", "2", "", " ", "0x40000000", "010", "08", "1.5G", "16E", "15E",
                        "NoSwap", "LimitedSwap", "UnlimitedSwap", "WithinLimitSwap", "bronze", "silver", "gold",
                        "1e3", "+1", "\0", "1\u00a0", "１２", "9".repeat(400), "1E", "0x1E"),
                Arbitraries.longs().between(0, Long.MAX_VALUE).map(x -> Long.toString(x)),
                Arbitraries.longs().between(0, 1L << 40).map(x -> x + "M"),
                Arbitraries.strings().ofMaxLength(30));
    }

    @Provide
    Arbitrary<String> keys() {
        Arbitrary<String> nriFile = Arbitraries.oneOf(Arbitraries.of(CgroupFiles.V2_SETTINGS.toArray(String[]::new)),
                Arbitraries.of("class", "cgroup.procs", "../../cgroup.procs", "memory.reclaim", "memory.max/../x", ""));
        Arbitrary<String> scope = Arbitraries.of("", "", "/c0", "/c1", "/ghost", "/", "/c0/c1");
        Arbitrary<String> nri = Combinators.combine(nriFile, scope).as((f, s) -> f + NRI + s);
        Arbitrary<String> mw = Combinators.combine(Arbitraries.of("swap-behavior", "swap-max", "pod-swap-max", "nope"),
                scope).as((k, s) -> k + MW + s);
        return Arbitraries.oneOf(nri, mw, Arbitraries.strings().ofMaxLength(20));
    }

    @Provide
    Arbitrary<PodSpec> pods() {
        Arbitrary<Map<String, String>> annotations = Arbitraries.maps(keys(), values()).ofMaxSize(6);
        Arbitrary<Long> limit = Arbitraries.oneOf(Arbitraries.just((Long) null),
                Arbitraries.longs().between(1L << 20, 8L << 30));
        Arbitrary<List<Long>> limits = limit.list().ofMinSize(1).ofMaxSize(3);
        return Combinators.combine(annotations, limits, Arbitraries.integers().between(0, 1000))
                .as((a, ls, n) -> pod("p" + n, a, ls));
    }

    static PodSpec pod(String name, Map<String, String> annotations, List<Long> limits) {
        List<ContainerSpec> cs = new ArrayList<>();
        for (int i = 0; i < limits.size(); i++) {
            Long l = limits.get(i);
            cs.add(new ContainerSpec("c" + i, ContainerKind.REGULAR,
                    new Resources(null, null, l == null ? null : l / 2, l)));
        }
        return new PodSpec("ns", name, "uid-" + name, annotations, null, null, null, null, null, cs);
    }

    @Property(tries = 600)
    void planningNeverThrowsAndSaysEveryErrorInWords(@ForAll("pods") PodSpec pod) {
        for (Planner p : List.of(V1, V2)) {
            Planner.PodOutcome o = p.planPod(pod);
            for (Plan.PlanError e : o.errors()) {
                assertThat(e.pod()).isEqualTo(pod.key());
                assertThat(e.message()).isNotBlank().doesNotContain("internal error").doesNotContain("java.")
                        .doesNotContain("Exception").doesNotContain("\n");
            }
            if (o.plan() != null) {
                assertThat(o.plan().podCgroup().values()).allMatch(v -> v.matches("-1|max|[0-9]+"));
                for (Plan.ContainerPlan c : o.plan().containers()) {
                    assertThat(c.cgroup().keySet()).allMatch(f -> CgroupFiles.settings(p.node().cgroupVersion())
                            .contains(f));
                    assertThat(c.cgroup().values()).as(c.name()).allMatch(v -> v.matches("-1|max|[0-9]+"));
                }
            }
        }
    }

    @Property(tries = 300)
    void oneBadPodNeverChangesAnotherPodsResult(@ForAll("pods") PodSpec bad, @ForAll("pods") PodSpec other) {
        PodSpec good = new PodSpec("ns", "good", "uid-good", other.annotations(), null, null, null, null, null,
                other.containers());
        for (Planner p : List.of(V1, V2)) {
            Planner.PodOutcome alone = p.planPod(good);
            Plan together = p.plan(List.of(bad, good, bad), null, List.of());
            assertThat(together.pods().stream().filter(x -> x.name().equals("good")).toList())
                    .isEqualTo(alone.plan() == null ? List.of() : List.of(alone.plan()));
            assertThat(together.errors().stream().filter(e -> e.pod().equals(good.key())).toList())
                    .isEqualTo(alone.errors());
        }
    }

    @Provide
    Arbitrary<PodSpec> swapAnnotated() {
        Arbitrary<Map<String, String>> a = Combinators.combine(values().injectNull(0.3), values().injectNull(0.5),
                values().injectNull(0.5)).as((pod, c0, c1) -> {
                    Map<String, String> m = new LinkedHashMap<>();
                    if (pod != null) {
                        m.put("memory.swap.max" + NRI, pod);
                    }
                    if (c0 != null) {
                        m.put("memory.swap.max" + NRI + "/c0", c0);
                    }
                    if (c1 != null) {
                        m.put("memory.swap.max" + NRI + "/c1", c1);
                    }
                    return m;
                });
        return Combinators.combine(a, Arbitraries.longs().between(64L << 20, 8L << 30).list().ofMinSize(1).ofMaxSize(2))
                .as((m, ls) -> pod("s", m, ls));
    }

    /** The swap the container's own annotation asks for, read as the kernel reads it; null when it is invalid. */
    private static String asked(PodSpec pod, String container) {
        String raw = pod.annotations().getOrDefault("memory.swap.max" + NRI + "/" + container,
                pod.annotations().get("memory.swap.max" + NRI));
        try {
            return CgroupValues.canonical("memory.swap.max", raw, 4096);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    @Property(tries = 600)
    void swapCapsHoldForEverySpellingAndV1AgreesWithV2(@ForAll("swapAnnotated") PodSpec pod) {
        Planner.PodOutcome v2 = V2.planPod(pod);
        Planner.PodOutcome v1 = V1.planPod(pod);
        for (ContainerSpec c : pod.containers()) {
            if (!pod.annotations().containsKey("memory.swap.max" + NRI + "/" + c.name())
                    && !pod.annotations().containsKey("memory.swap.max" + NRI)) {
                continue; // the kubelet's own swap: other properties cover it
            }
            String asked = asked(pod, c.name());
            Plan.ContainerPlan p2 = container(v2, c.name());
            Plan.ContainerPlan p1 = container(v1, c.name());
            if (asked == null) {
                assertThat(p2).as("v2 plans no container whose value the kernel refuses").isNull();
                assertThat(p1).as("v1 plans no container whose value the kernel refuses").isNull();
                assertThat(v2.errors()).anyMatch(e -> c.name().equals(e.container())
                        && e.message().contains("memory.swap.max"));
                continue;
            }
            long want = asked.equals("max") ? CAP : Math.min(Long.parseLong(asked), CAP);
            assertThat(p2).isNotNull();
            assertThat(p2.cgroup().get("memory.swap.max")).isEqualTo(Long.toString(want));
            assertThat(p1).isNotNull();
            long limit = Long.parseLong(p1.cgroup().get("memory.limit_in_bytes"));
            long memsw = Long.parseLong(p1.cgroup().get("memory.memsw.limit_in_bytes"));
            assertThat(memsw - limit).as("v1 swap allowance").isEqualTo(want);
        }
        if (v2.plan() != null && v2.plan().podCgroup().containsKey("memory.swap.max")) {
            assertThat(Long.parseLong(v2.plan().podCgroup().get("memory.swap.max"))).isLessThanOrEqualTo(POD_CAP);
        }
    }

    private static Plan.ContainerPlan container(Planner.PodOutcome o, String name) {
        return o.plan() == null ? null
                : o.plan().containers().stream().filter(x -> x.name().equals(name)).findFirst().orElse(null);
    }
}
