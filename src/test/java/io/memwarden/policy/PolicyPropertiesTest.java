package io.memwarden.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.model.CgroupVersion;
import io.memwarden.model.ContainerKind;
import io.memwarden.model.ContainerSpec;
import io.memwarden.model.KubeQuantity;
import io.memwarden.model.NodeFacts;
import io.memwarden.model.PodSpec;
import io.memwarden.model.Resources;
import io.memwarden.model.SwapBehavior;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Invariants over generated pods and nodes (jqwik). */
class PolicyPropertiesTest {

    @Provide
    Arbitrary<PodSpec> pods() {
        Arbitrary<Long> mem = Arbitraries.oneOf(Arbitraries.just((Long) null), Arbitraries.longs().between(0, 8L << 30));
        Arbitrary<KubeQuantity> cpu = Arbitraries.oneOf(Arbitraries.just((KubeQuantity) null),
                Arbitraries.integers().between(0, 4000).map(m -> KubeQuantity.parse(m + "m")));
        Arbitrary<Resources> res = Combinators.combine(cpu, cpu, mem, mem).as((cr, cl, mr, ml) -> {
            if (mr != null && ml != null && mr > ml) {
                return new Resources(cr, cl, ml, mr);
            }
            return new Resources(cr, cl, mr, ml);
        });
        Arbitrary<ContainerKind> kind = Arbitraries.of(ContainerKind.class);
        Arbitrary<List<ContainerSpec>> containers = Combinators.combine(kind, res).as((k, r) -> new Object[] {k, r})
                .list().ofMinSize(1).ofMaxSize(5).map(list -> {
                    List<ContainerSpec> out = new ArrayList<>();
                    for (int i = 0; i < list.size(); i++) {
                        ContainerKind k = i == 0 ? ContainerKind.REGULAR : (ContainerKind) list.get(i)[0];
                        out.add(new ContainerSpec("c" + i, k, (Resources) list.get(i)[1]));
                    }
                    return out;
                });
        Arbitrary<Integer> prio = Arbitraries.oneOf(Arbitraries.just((Integer) null), Arbitraries.integers().between(-10, 2_000_001_000));
        return Combinators.combine(containers, prio).as((cs, p) ->
                new PodSpec("ns", "p", "", null, p, null, null, null, null, cs));
    }

    @Provide
    Arbitrary<NodeFacts> nodes() {
        return Combinators.combine(Arbitraries.longs().between(1L << 30, 1L << 40), Arbitraries.longs().between(0, 1L << 36),
                Arbitraries.of(CgroupVersion.class)).as((m, s, v) -> new NodeFacts(m, s, v, true, 4096, null, null));
    }

    @Property(tries = 300)
    void qosClassIsUnchangedByReorderingContainers(@ForAll("pods") PodSpec pod, @ForAll long seed) {
        List<ContainerSpec> shuffled = new ArrayList<>(pod.containers());
        Collections.shuffle(shuffled, new Random(seed));
        PodSpec other = new PodSpec(pod.namespace(), pod.name(), pod.uid(), pod.annotations(), pod.priority(),
                pod.priorityClassName(), null, null, pod.podResources(), shuffled);
        assertThat(QosClassifier.compute(other, true)).isEqualTo(QosClassifier.compute(pod, true));
    }

    @Property(tries = 300)
    void everyPlannedContainerRespectsTheInvariants(@ForAll("pods") PodSpec pod, @ForAll("nodes") NodeFacts node,
                                                    @ForAll SwapBehavior behavior) {
        var k = new KubeletSettings(false, behavior.isKubelet() ? behavior : SwapBehavior.NO_SWAP, 0.9,
                ReservationPolicy.TIERED_RESERVATION, true, true, 0, 0, KubeletSettings.DEFAULT_EVICTION_HARD, List.of(),
                false, Set.of("pods"));
        var cfg = new WardenConfig(null, new WardenConfig.SwapConfig(behavior, null, null), WardenConfig.AnnotationPolicy.DEFAULTS);
        Plan plan = new Planner(node, k, cfg).plan(List.of(pod), null, List.of());
        assertThat(plan.errors()).isEmpty();
        PodSpec defaulted = ApiDefaults.apply(pod).pod();
        for (Plan.ContainerPlan c : plan.pods().getFirst().containers()) {
            ContainerSpec spec = defaulted.containers().stream().filter(x -> x.name().equals(c.name())).findFirst().orElseThrow();
            long req = spec.resources().memoryRequestOrZero();
            long lim = spec.resources().memoryLimitOrZero();
            assertThat(c.oomScoreAdj()).isBetween(-997, 1000);
            if (node.cgroupVersion() == CgroupVersion.V2) {
                String swap = c.cgroup().get("memory.swap.max");
                assertThat(swap).isNotNull();
                if (!swap.equals("max")) {
                    // a numeric swap limit never exceeds the node's swap
                    assertThat(Long.parseLong(swap)).isBetween(0L, node.swapCapacity());
                } else {
                    assertThat(behavior).isEqualTo(SwapBehavior.UNLIMITED_SWAP);
                }
                String high = c.cgroup().get("memory.high");
                if (high != null && lim > 0) {
                    assertThat(Long.parseLong(high)).isGreaterThan(req).isLessThanOrEqualTo(lim);
                }
                if (Criticality.isCritical(pod)) {
                    assertThat(swap).isEqualTo("0");
                }
            } else {
                String l = c.cgroup().get("memory.limit_in_bytes");
                String memsw = c.cgroup().get("memory.memsw.limit_in_bytes");
                if (l != null && memsw != null && !memsw.equals("-1")) {
                    // v1 needs memsw >= limit
                    assertThat(Long.parseLong(memsw)).isGreaterThanOrEqualTo(Long.parseLong(l));
                }
                assertThat(c.cgroup()).doesNotContainKeys("memory.high", "memory.swap.max", "memory.min", "memory.low");
            }
        }
    }
}
