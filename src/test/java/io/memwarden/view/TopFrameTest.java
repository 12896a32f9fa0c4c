package io.memwarden.view;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link TopFrame} and {@link StatusDoc} on hand-written /status documents (container PSI, unknown fields, v1). */
class TopFrameTest {
    static final String DOC = """
            {"atMillis": 1790000000000, "futureField": {"x": 1},
             "node": {"capacityBytes": 1073741824, "availableBytes": 536870912, "swapTotalBytes": 0,
                      "swapFreeBytes": 0, "swapInPages": 0},
             "containers": [
               {"namespace": "a", "pod": "p", "container": "c1", "init": false, "qosClass": "Burstable",
                "swapBehavior": "NoSwap", "running": true, "psi": {"someAvg10": 1.5, "fullAvg10": 0.5},
                "memory": {"cgroupVersion": 1, "usageBytes": 300, "workingSetBytes": 200, "swapBytes": 0,
                           "limitBytes": 104857600, "swapLimitBytes": 0, "highBytes": -1,
                           "events": {"failcnt": 4, "oom_kill": 0}}},
               {"namespace": "a", "pod": "q", "container": "c2", "init": false, "qosClass": "BestEffort",
                "swapBehavior": "NoSwap", "running": true, "psi": {"someAvg10": 9.25},
                "memory": {"cgroupVersion": 1, "usageBytes": 100, "workingSetBytes": 100, "swapBytes": 0,
                           "limitBytes": -1, "swapLimitBytes": -1, "highBytes": -1, "events": {}}},
               {"namespace": "b", "pod": "r", "container": "c3", "init": false, "qosClass": "BestEffort",
                "swapBehavior": "NoSwap", "running": true,
                "memory": {"cgroupVersion": 1, "usageBytes": 500, "workingSetBytes": 100, "swapBytes": 0,
                           "limitBytes": -1, "swapLimitBytes": -1, "highBytes": -1, "events": {}}}
             ],
             "actionsTotal": 0, "recentActions": []}
            """;

    static TopFrame frame(TopFrame.Sort sort, String ns) {
        return TopFrame.of(StatusDoc.parse(DOC), new TopFrame.Options(sort, ns, "http://h:1"));
    }

    @Test
    void containerPsiGetsAColumnAndASort() {
        TopFrame f = frame(TopFrame.Sort.psi, null);
        assertThat(f.columns()).contains("PSI10");
        assertThat(f.rows()).hasSize(3);
        assertThat(f.rows().get(0)).startsWith("a/q").contains("9.25");
        assertThat(f.rows().get(1)).startsWith("a/p").contains("1.50");
        assertThat(f.rows().get(2)).startsWith("b/r").contains(" - ");
        assertThat(frame(TopFrame.Sort.memory, null).rows().get(0)).startsWith("b/r");
    }

    @Test
    void cgroupV1HasNoMemoryHighNorThrottleCountAndSwapOffAndNoPsiAreSaid() {
        TopFrame f = frame(TopFrame.Sort.name, "a");
        assertThat(f.rows()).hasSize(2);
        String[] c1 = f.rows().get(0).split("\\s{2,}");
        assertThat(c1).containsExactly("a/p", "c1", "Burstable", "NoSwap", "100Mi", "-", "300", "200", "0/0", "1.50",
                "-", "running", "-");
        assertThat(f.header()).anyMatch(h -> h.contains("swap off")).anyMatch(h -> h.contains("psi: not available"))
                .anyMatch(h -> h.contains("oom kills: not watched"))
                .anyMatch(h -> h.contains("containers: 2 (2 running) in 2 pods, of 3 managed"));
    }

    @Test
    void withoutContainerPsiThereIsNoPsiColumn() {
        String noPsi = DOC.replaceAll("\"psi\": \\{[^}]*},", "");
        TopFrame f = TopFrame.of(StatusDoc.parse(noPsi), new TopFrame.Options(TopFrame.Sort.name, null, "x"));
        assertThat(f.columns()).doesNotContain("PSI");
    }

    @Test
    void sortCyclesThroughEveryKey() {
        assertThat(List.of(TopFrame.Sort.memory.next(), TopFrame.Sort.swap.next(), TopFrame.Sort.psi.next(),
                TopFrame.Sort.name.next())).containsExactly(TopFrame.Sort.swap, TopFrame.Sort.psi,
                TopFrame.Sort.name, TopFrame.Sort.memory);
    }

    @Test
    void agesAndCuts() {
        assertThat(TopFrame.ago(-5)).isEqualTo("0s");
        assertThat(TopFrame.ago(119_999)).isEqualTo("119s");
        assertThat(TopFrame.ago(120_000)).isEqualTo("2m");
        assertThat(TopFrame.ago(3 * 3600_000)).isEqualTo("3h");
        assertThat(TopFrame.ago(3 * 86400_000L)).isEqualTo("3d");
        assertThat(TopFrame.cut("abcdef", 4)).isEqualTo("abc~");
        assertThat(TopFrame.cut("abc", 4)).isEqualTo("abc");
    }

    @Test
    void notAStatusDocumentIsSaid() {
        assertThatThrownBy(() -> StatusDoc.parse("<html>")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("not a memwarden status document");
        assertThatThrownBy(() -> StatusDoc.parse("{\"containers\": []}"))
                .hasMessage("not a memwarden status document: no \"node\" object");
        assertThatThrownBy(() -> StatusDoc.parse("{\"node\": {\"capacityBytes\": \"lots\"}}"))
                .hasMessageStartingWith("not a memwarden status document");
    }
}
