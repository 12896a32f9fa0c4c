package io.memwarden.view;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.input.UsageReader;
import io.memwarden.input.YamlDocs;
import io.memwarden.model.Usage;
import org.junit.jupiter.api.Test;

/** USAGE.yaml from a status: working set + swap, cold = swap + resident above the offload estimate; read back. */
class UsageExportTest {
    static final String DOC = """
            {"atMillis": 1790000000000,
             "node": {"capacityBytes": 1073741824, "availableBytes": 536870912, "swapTotalBytes": 0,
                      "swapFreeBytes": 0, "swapInPages": 0},
             "containers": [
               {"namespace": "shop", "pod": "web", "container": "app", "init": false, "qosClass": "Burstable",
                "swapBehavior": "LimitedSwap", "running": true,
                "memory": {"cgroupVersion": 2, "usageBytes": 700, "workingSetBytes": 600, "swapBytes": 250,
                           "limitBytes": -1, "swapLimitBytes": -1, "highBytes": -1, "events": {}},
                "offload": {"offloadedBytes": 250, "workingSetEstimateBytes": 450, "estimateAtMillis": 1,
                            "estimateHow": "stall"}},
               {"namespace": "shop", "pod": "web", "container": "proxy", "init": false, "qosClass": "Burstable",
                "swapBehavior": "NoSwap", "running": true,
                "memory": {"cgroupVersion": 2, "usageBytes": 90, "workingSetBytes": 80, "swapBytes": 0,
                           "limitBytes": -1, "swapLimitBytes": -1, "highBytes": -1, "events": {}}},
               {"namespace": "shop", "pod": "web", "container": "setup", "init": true, "qosClass": "Burstable",
                "swapBehavior": "NoSwap", "running": false, "exitCode": 0},
               {"namespace": "batch", "pod": "we\\"ird", "container": "job", "init": false, "qosClass": "BestEffort",
                "swapBehavior": "NoSwap", "running": true,
                "memory": {"cgroupVersion": 2, "usageBytes": 10, "workingSetBytes": 10, "swapBytes": 0,
                           "limitBytes": -1, "swapLimitBytes": -1, "highBytes": -1, "events": {}},
                "offload": {"offloadedBytes": 0, "workingSetEstimateBytes": 20, "estimateAtMillis": 1,
                            "estimateHow": "refaults"}},
               {"namespace": "batch", "pod": "gone", "container": "x", "init": false, "qosClass": "BestEffort",
                "swapBehavior": "NoSwap", "running": false, "exitCode": 137}
             ],
             "actionsTotal": 0, "recentActions": []}
            """;

    @Test
    void runningContainersWithWorkingSetPlusSwapAndTheirColdBytes() {
        assertThat(UsageExport.entries(StatusDoc.parse(DOC), null)).containsExactly(
                new UsageExport.Entry("shop", "web", "app", 850, 400),   // 600 + 250; 250 + (600 - 450)
                new UsageExport.Entry("shop", "web", "proxy", 80, 0),    // no swap, no estimate
                new UsageExport.Entry("batch", "we\"ird", "job", 10, 0)); // estimate above the resident: none cold
        assertThat(UsageExport.entries(StatusDoc.parse(DOC), "batch")).singleElement()
                .satisfies(e -> assertThat(e.pod()).isEqualTo("we\"ird"));
    }

    @Test
    void theYamlIsWhatTheUsageReaderReads() throws Exception {
        String yaml = UsageExport.yaml(StatusDoc.parse(DOC), null, "http://127.0.0.1:9767");
        assertThat(yaml).startsWith("# Observed use from memwarden at http://127.0.0.1:9767, 2026-09-21T14:13:20Z (memwarden");
        Usage u = UsageReader.parseUsage("export", YamlDocs.MAPPER.readTree(yaml));
        assertThat(u.pods().get("shop/web").containers().get("app")).isEqualTo(new Usage.ContainerUsage(850, 400L));
        assertThat(u.pods().get("shop/web").containers().get("proxy")).isEqualTo(new Usage.ContainerUsage(80, 0L));
        assertThat(u.pods().get("batch/we\"ird").containers()).containsOnlyKeys("job");
        assertThat(u.pods()).containsOnlyKeys("shop/web", "batch/we\"ird");
    }

    @Test
    void anEmptyNodeIsAnEmptyList() throws Exception {
        String yaml = UsageExport.yaml(StatusDoc.parse(DOC.replaceAll("(?s)\"containers\": \\[.*\\],", "\"containers\": [],")),
                null, "s");
        assertThat(yaml).endsWith("pods: []\n");
        assertThat(UsageReader.parseUsage("export", YamlDocs.MAPPER.readTree(yaml)).pods()).isEmpty();
    }
}
