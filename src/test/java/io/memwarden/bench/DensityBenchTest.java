package io.memwarden.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import io.memwarden.model.CgroupFiles;
import io.memwarden.model.CgroupVersion;
import io.memwarden.model.NodeFacts;
import io.memwarden.policy.Plan;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** The pure parts of {@code bench density}: SLO judgement, step logic, LimitedSwap numbers, bounds, JSON shape. */
class DensityBenchTest {
    static final long MI = 1L << 20;

    static DensityBench.Options options(long node, long swap, int hot, int cold) {
        return new DensityBench.Options(node, swap, hot, cold, 0.95, DensityBench.POLICIES, 0, Duration.ofSeconds(8),
                Path.of("target/none"));
    }

    static DensityBench.Step step(int pods, long oom, int lost, Double... rates) {
        return new DensityBench.Step(pods, Arrays.asList(rates), oom, lost, 0, 0, null, 8, 0, 0, "1.0");
    }

    @Test
    void aStepMeetsTheSloOnlyWithoutKillsLossesOrSlowReplicas() {
        assertThat(DensityBench.breach(step(2, 0, 0, 100.0, 95.0), 100, 0.95)).isNull();
        assertThat(DensityBench.breach(step(2, 1, 0, 100.0, 100.0), 100, 0.95)).isEqualTo("1 kernel OOM kill(s)");
        assertThat(DensityBench.breach(step(2, 0, 1, 100.0, 100.0), 100, 0.95)).isEqualTo("1 replica(s) not running");
        assertThat(DensityBench.breach(step(3, 0, 0, 100.0, 100.0, 94.9), 100, 0.95))
                .startsWith("replica 3 at 95 pages/s (94.9 % of solo)");
        assertThat(DensityBench.breach(step(2, 0, 0, null, 100.0), 100, 0.95)).isEqualTo(
                "replica 1 at no samples, below 95 % of solo");
        // a looser SLO accepts the same step
        assertThat(DensityBench.breach(step(3, 0, 0, 100.0, 100.0, 94.9), 100, 0.9)).isNull();
    }

    @Test
    void podsAtSloIsTheLastStepBeforeTheFirstBreach() {
        List<DensityBench.Step> steps = List.of(step(1, 0, 0, 100.0), step(2, 0, 0, 99.0, 98.0),
                step(3, 0, 0, 99.0, 90.0, 99.0), step(4, 0, 0, 99.0, 99.0, 99.0, 99.0));
        assertThat(DensityBench.podsAtSlo(steps, 100, 0.95)).isEqualTo(2); // step 4 passing again does not count
        assertThat(DensityBench.podsAtSlo(List.of(step(1, 1, 1, (Double) null)), 100, 0.95)).isZero();
        assertThat(DensityBench.podsAtSlo(List.of(), 100, 0.95)).isZero();
        assertThat(DensityBench.worstShare(steps.get(2), 100)).isEqualTo(0.9);
        assertThat(DensityBench.worstShare(step(2, 0, 0, null, 100.0), 100)).isZero();
    }

    @Property
    void podsAtSloNeverExceedsTheFirstBreachingStep(@ForAll @IntRange(min = 1, max = 30) int n,
                                                    @ForAll @IntRange(min = 0, max = 31) int breakAt) {
        List<DensityBench.Step> steps = new java.util.ArrayList<>();
        for (int k = 1; k <= n; k++) {
            steps.add(step(k, k == breakAt ? 1 : 0, 0, 100.0));
        }
        int atSlo = DensityBench.podsAtSlo(steps, 100, 0.95);
        assertThat(atSlo).isEqualTo(breakAt >= 1 && breakAt <= n ? breakAt - 1 : n);
    }

    @Test
    void rateIsTheMedianOfTheIntervalsInTheWindow() {
        List<String> log = List.of("ready", "hot 100.000 0", "hot 101.000 8192", "hot 102.000 16384",
                "hot 103.000 20480", "hot 104.0", "hot 104.5 x", "hot 105.000 40960");
        assertThat(DensityBench.rate(log, 101, 103)).isEqualTo(6144.0); // median of 8192 and 4096
        // intervals 8192, 8192, 4096, 10240 (lines cut short are skipped): median 8192
        assertThat(DensityBench.rate(log, 100, 105)).isEqualTo(8192.0);
        assertThat(DensityBench.rate(log, 102.5, 104.9)).isNull(); // one sample only
        assertThat(DensityBench.rate(List.of(), 0, 1)).isNull();
        // one stalled interval among steady ones does not make the replica slow
        List<String> hiccup = List.of("hot 0.0 0", "hot 0.5 4000", "hot 1.0 8000", "hot 1.5 8100", "hot 2.0 12100",
                "hot 2.5 16100");
        assertThat(DensityBench.rate(hiccup, 0, 3)).isEqualTo(8000.0);
    }

    @Test
    void aRateBreachMustBeConfirmedByTheSecondWindow() {
        DensityBench.Step first = step(2, 0, 0, 90.0, 100.0);
        assertThat(DensityBench.breach(DensityBench.confirm(first, step(2, 0, 0, 99.0, 80.0)), 100, 0.95)).isNull();
        assertThat(DensityBench.breach(DensityBench.confirm(first, step(2, 0, 0, 93.0, 100.0)), 100, 0.95))
                .startsWith("replica 1 at 93 pages/s");
        assertThat(DensityBench.breach(DensityBench.confirm(first, step(2, 1, 1, 100.0, null)), 100, 0.95))
                .isEqualTo("1 kernel OOM kill(s)");
    }

    @Test
    void limitedSwapIsTheKubeletsProportionalShareOfTheRequest() throws Exception {
        // request = hot + perl's own = 38 MiB; 38/1024 of 1 GiB of swap = 38 MiB, of 512 MiB = 19 MiB
        assertThat(DensityBench.limitedSwapBytes(options(1024 * MI, 1024 * MI, 32, 64), 4096)).isEqualTo(38 * MI);
        assertThat(DensityBench.limitedSwapBytes(options(1024 * MI, 512 * MI, 32, 64), 4096)).isEqualTo(19 * MI);
        // truncated as int64(float64(request) / float64(capacity) * float64(swap)): 38 MiB / 3000 MiB of 1000 MiB
        assertThat(DensityBench.limitedSwapBytes(options(3000 * MI, 1000 * MI, 32, 64), 4096))
                .isEqualTo((long) ((double) (38 * MI) / (3000 * MI) * (1000 * MI)));
    }

    @Property
    void limitedSwapFollowsTheFormula(@ForAll @IntRange(min = 256, max = 65536) int nodeMiB,
                                      @ForAll @IntRange(min = 0, max = 65536) int swapMiB,
                                      @ForAll @IntRange(min = 1, max = 200) int hotMiB) throws Exception {
        DensityBench.Options o = options(nodeMiB * MI, swapMiB * MI, hotMiB, 16);
        long expected = (long) ((double) o.requestBytes() / (double) o.nodeBytes() * (double) o.nodeSwapBytes());
        if (o.requestBytes() <= o.nodeBytes()) {
            assertThat(DensityBench.limitedSwapBytes(o, 4096)).isEqualTo(expected);
        }
    }

    @Test
    void eachPolicyRendersItsSwapOnCgroupV1() throws Exception {
        DensityBench.Options o = options(1024 * MI, 1024 * MI, 32, 64);
        NodeFacts v1 = new NodeFacts(24L << 30, 1L << 30, CgroupVersion.V1, true, 4096, null, "6.1");
        long limit = o.limitBytes();
        assertThat(memsw(DensityBench.plan(v1, o, "none", 3))).containsOnly(Long.toString(limit));
        assertThat(memsw(DensityBench.plan(v1, o, "limitedswap", 3))).containsOnly(Long.toString(limit + 38 * MI));
        assertThat(memsw(DensityBench.plan(v1, o, "memwarden", 3))).containsOnly("-1");
        assertThat(DensityBench.plan(v1, o, "memwarden", 3).pods()).hasSize(3)
                .allSatisfy(p -> assertThat(p.qosClass()).isEqualTo("Burstable"));
        assertThatThrownBy(() -> DensityBench.plan(v1, o, "kubelet", 1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void cgroupV2GetsLimitedSwapAsSwapMax() throws Exception {
        DensityBench.Options o = options(1024 * MI, 1024 * MI, 32, 64);
        NodeFacts v2 = new NodeFacts(24L << 30, 1L << 30, CgroupVersion.V2, true, 4096, null, "6.12");
        Plan p = DensityBench.plan(v2, o, "limitedswap", 1);
        assertThat(p.pods().getFirst().containers().getFirst().cgroup().get(CgroupFiles.MEMORY_SWAP_MAX))
                .isEqualTo(Long.toString(38 * MI));
        assertThat(DensityBench.plan(v2, o, "none", 1).pods().getFirst().containers().getFirst().cgroup()
                .get(CgroupFiles.MEMORY_SWAP_MAX)).isEqualTo("0");
    }

    static List<String> memsw(Plan p) {
        return p.pods().stream().flatMap(pp -> pp.containers().stream())
                .map(c -> c.cgroup().get(CgroupFiles.V1_MEMSW_LIMIT)).toList();
    }

    @Test
    void boundsOfTheDefaultRun() {
        Map<String, Long> b = DensityBench.bounds(options(1024 * MI, 1024 * MI, 32, 64), 38 * MI);
        // footprint 102 MiB, resident 38 MiB
        assertThat(b).containsEntry("physical", 32L).containsEntry("ram", 26L).containsEntry("swap", 20L)
                .containsEntry("none", 10L).containsEntry("limitedSwapV2", 16L); // 1024 / (102 - 38)
        assertThat(DensityBench.physicalBound(512 * MI, 32 * MI)).isEqualTo(16);
    }

    @Test
    void optionsRejectNonsense() {
        assertThatThrownBy(() -> new DensityBench.Options(MI, MI, 1, 1, 1.5, List.of(), 0, Duration.ofSeconds(2),
                Path.of("x"))).hasMessageContaining("--slo-rate");
        assertThatThrownBy(() -> options(MI, MI, 0, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThat(options(1024 * MI, 0, 32, 64).podLimit()).isEqualTo(32);
    }

    @Test
    void theReportHasTheIssuesShape() throws Exception {
        DensityBench.Options o = options(1024 * MI, 1024 * MI, 32, 64);
        Map<String, List<DensityBench.Step>> runs = new LinkedHashMap<>();
        runs.put("none", List.of(step(1, 0, 0, 100.0), step(2, 1, 1, 99.0, null)));
        runs.put("limitedswap", List.of(step(1, 0, 0, 100.0), step(2, 0, 0, 99.0, 97.0), step(3, 0, 0, 90.0, 99.0,
                99.0)));
        runs.put("memwarden", List.of(step(1, 0, 0, 100.0), step(2, 0, 0, 99.0, 97.0), step(3, 0, 0, 96.0, 99.0,
                99.0)));
        JsonNode j = JsonMapper.builder().build().valueToTree(DensityBench.report(o, 1, 100, 38 * MI, runs));
        assertThat(j.get("physicalBound").asLong()).isEqualTo(32);
        assertThat(j.get("bounds").get("limitedSwapV2").asLong()).isEqualTo(16);
        JsonNode p = j.get("policies");
        assertThat(p).hasSize(3);
        assertThat(p.get(0).get("policy").asString()).isEqualTo("none");
        assertThat(p.get(0).get("podsAtSlo").asInt()).isEqualTo(1);
        assertThat(p.get(0).get("sloBrokenBy").asString()).isEqualTo("2 pods: 1 kernel OOM kill(s)");
        assertThat(p.get(1).get("podsAtSlo").asInt()).isEqualTo(2);
        assertThat(p.get(1).get("limitedSwapBytesPerContainer").asLong()).isEqualTo(38 * MI);
        assertThat(p.get(2).get("podsAtSlo").asInt()).isEqualTo(3);
        assertThat(p.get(2).get("sloBrokenBy").isNull()).isTrue();
        assertThat(p.get(2).get("gainOverNone").asDouble()).isEqualTo(3.0);
        JsonNode s = p.get(2).get("steps").get(2);
        for (String f : List.of("pods", "worstRateShare", "hotRatesPagesPerSecond", "rssBytes", "swapBytes",
                "kernelOomKills", "lostReplicas", "psiSomeAvg10", "refaultPagesInWindow", "loopActionsInWindow", "atSlo")) {
            assertThat(s.has(f)).as(f).isTrue();
        }
        assertThat(s.get("worstRateShare").asDouble()).isEqualTo(0.96);
        assertThat(p.get(0).get("steps").get(1).get("hotRatesPagesPerSecond").get(1).isNull()).isTrue();
    }
}
