package io.memwarden.view;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ExplanationTest {
    static StatusDoc.Memory v1(long limit, long swapLimit) {
        return new StatusDoc.Memory(1, 0, 0, 0, limit, swapLimit, -1, Map.of());
    }

    static StatusDoc.Memory v2(long limit, long swapLimit, long high) {
        return new StatusDoc.Memory(2, 0, 0, 0, limit, swapLimit, high, Map.of());
    }

    @Test
    void theKernelRoundsLimitsDownToAPage() {
        // memory.limit_in_bytes=100000000 reads back as 99999744 on v1
        assertThat(Explanation.compare("memory.limit_in_bytes", "100000000", v1(99_999_744, 0)))
                .isEqualTo(new Explanation.CgroupValue("100000000", "99999744", true));
        assertThat(Explanation.compare("memory.memsw.limit_in_bytes", "150000000", v1(99_999_744, 49_999_872)))
                .isEqualTo(new Explanation.CgroupValue("150000000", "149999616", true));
        assertThat(Explanation.compare("memory.limit_in_bytes", "100000000", v1(50_000_000, 0)).matches()).isFalse();
    }

    @Test
    void unlimitedMatchesMaxAndMinusOne() {
        assertThat(Explanation.compare("memory.memsw.limit_in_bytes", "-1", v1(99_999_744, -1)))
                .isEqualTo(new Explanation.CgroupValue("-1", "max", true));
        assertThat(Explanation.compare("memory.high", "max", v2(-1, -1, -1)).matches()).isTrue();
        assertThat(Explanation.compare("memory.swap.max", "max", v2(-1, 0, -1)))
                .isEqualTo(new Explanation.CgroupValue("max", "0", false));
    }

    @Test
    void filesTheStatusDoesNotCarryHaveNoLiveValue() {
        assertThat(Explanation.compare("memory.low", "536870912", v2(-1, -1, -1)).live()).isNull();
        assertThat(Explanation.compare("memory.swappiness", "0", v1(1, 1)).live()).isNull();
        assertThat(Explanation.compare("memory.high", "max", v1(1, 1)).live()).isNull(); // v1 has none
        assertThat(Explanation.compare("memory.max", "1073741824", null))
                .isEqualTo(new Explanation.CgroupValue("1073741824", null, null));
    }

    @Test
    void withoutAPlanOrDecisionsExplainSaysSo() {
        Explanation x = Explanation.of(StatusDoc.parse(TopFrameTest.DOC), "http://h:1", "a", "p", null);
        assertThat(x.containers()).hasSize(1);
        assertThat(x.text()).contains("  planned cgroup files: none (the server knows no plan for this container)",
                "  loop decisions: none", "  live (cgroup v1):", "    events: failcnt=4 oom_kill=0");
    }

    @Test
    void aVmNodesBalloonIsExplainedWithItsGrowths() {
        String doc = TopFrameTest.DOC.replace("\"swapFreeBytes\": 0, \"swapInPages\": 0}",
                "\"swapFreeBytes\": 0, \"swapInPages\": 0, \"balloon\": {\"driver\": \"virtio_balloon\","
                        + " \"physicalBytes\": 2147483648, \"balloonBytes\": 1073741824, \"effectiveBytes\": 1073741824,"
                        + " \"growthBytesPerSecond\": 1048576.0, \"freePageReporting\": true, \"source\": \"meminfo Balloon\","
                        + " \"podRequestsBytes\": 1610612736}}")
                .replace("\"recentActions\": []", "\"recentActions\": [{\"atMillis\": 1790000000000, \"loop\": \"balloon\","
                        + " \"namespace\": \"\", \"pod\": \"\", \"action\": \"node capacity 1073741824 bytes\","
                        + " \"trigger\": \"the hypervisor's balloon grew by 1073741824 bytes\", \"result\": \"ok\"}]");
        Explanation x = Explanation.of(StatusDoc.parse(doc), "http://h:1", "a", "p", null);
        assertThat(x.balloon().effectiveBytes()).isEqualTo(1L << 30);
        assertThat(x.balloonGrowth()).singleElement().satisfies(a -> assertThat(a.loop()).isEqualTo("balloon"));
        assertThat(x.text()).contains("node: a VM; virtio_balloon holds 1Gi of 2Gi, capacity 1Gi (the pressure"
                + " guard's thresholds follow it); growing 1Mi/s; free page reporting on (not pressure)")
                .contains("  the pods here request 1536Mi, 512Mi above that capacity: the scheduler placed them on an"
                        + " allocatable the balloon does not change")
                .contains("  14:13:20.000  the hypervisor's balloon grew by 1073741824 bytes");
        Explanation none = Explanation.of(StatusDoc.parse(TopFrameTest.DOC), "http://h:1", "a", "p", null);
        assertThat(none.balloon()).isNull();
        assertThat(none.balloonGrowth()).isNull();
        assertThat(none.text()).noneMatch(l -> l.startsWith("node:"));
    }

    @Test
    void theOffloadLoopsNumbersAreExplainedWhenTheServerHasThem() {
        String doc = TopFrameTest.DOC.replace("\"events\": {\"failcnt\": 4, \"oom_kill\": 0}}},",
                "\"events\": {\"failcnt\": 4, \"oom_kill\": 0}}, \"offload\": {\"offloadedBytes\": 33554432,"
                        + " \"workingSetEstimateBytes\": 100663296, \"estimateAtMillis\": 1790000000000,"
                        + " \"estimateHow\": \"stall 9000 µs reached the target\"}},");
        Explanation x = Explanation.of(StatusDoc.parse(doc), "http://h:1", "a", "p", null);
        assertThat(x.containers().getFirst().offload().workingSetEstimateBytes()).isEqualTo(96L << 20);
        assertThat(x.text()).contains("  offload: 32Mi moved out since the agent started; working set estimate"
                + " 96Mi (stall 9000 µs reached the target, 14:13:20.000)");
        Explanation none = Explanation.of(StatusDoc.parse(TopFrameTest.DOC), "http://h:1", "a", "p", null);
        assertThat(none.containers().getFirst().offload()).isNull();
        assertThat(none.text()).doesNotContain("offload:");
    }

    @Test
    void whenTheServerListsOnlyTheNewestActionsExplainSaysHowMany() {
        String doc = TopFrameTest.DOC.replace("\"actionsTotal\": 0, \"recentActions\": []",
                "\"actionsTotal\": 150, \"recentActions\": [{\"atMillis\": 1790000000000, \"loop\": \"guard\","
                        + " \"namespace\": \"a\", \"pod\": \"p\", \"action\": \"evict: x\", \"trigger\": \"t\","
                        + " \"result\": \"dry-run\"}]");
        Explanation x = Explanation.of(StatusDoc.parse(doc), "http://h:1", "a", "p", "c1");
        assertThat(x.text()).contains("  loop decisions (oldest first, from the newest 1 of 150):",
                "    14:13:20.000  guard (whole pod)  evict: x  -> dry-run", "        trigger: t");
        Explanation other = Explanation.of(StatusDoc.parse(doc), "http://h:1", "a", "q", null);
        assertThat(other.text()).contains("  loop decisions: none among the newest 1 of 150");
    }
}
