package io.memwarden.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.loops.NodeStatus;
import io.memwarden.view.Explanation;
import io.memwarden.view.StatusDoc;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The pressure guard's state and the threshold that acted, from the server's status (the {@code /status} JSON and
 * the metrics) to {@code memwarden explain}'s "which acted" line, as a client reads them.
 */
class GuardStatusExplainTest {
    static final long MI = Statuses.MI;

    static NodeStatus status() {
        NodeStatus.Node n = Statuses.node();
        NodeStatus.Guard guard = new NodeStatus.Guard("HARD", true, "KubeletHasInsufficientMemory",
                1_700_000_000_000L, 300, List.of("kubelet evictionSoft memory.available<1Gi: within its grace period"
                + " (20 of 90 s)"), 700 * MI);
        NodeStatus.Node withGuard = new NodeStatus.Node(n.capacityBytes(), n.availableBytes(), n.swapTotalBytes(),
                n.swapFreeBytes(), n.swapInPages(), n.psi(), null, guard);
        NodeStatus.ActedOn acted = new NodeStatus.ActedOn("memwarden", "loops.guard.hardAvailable 200Mi",
                "memory.available", 180 * MI, 200 * MI, "before the kubelet's hard threshold memory.available<100Mi",
                "guard acted at 180Mi memory.available (memwarden loops.guard.hardAvailable 200Mi), before the"
                        + " kubelet's hard threshold memory.available<100Mi", 1L);
        NodeStatus.LoopAction evict = new NodeStatus.LoopAction(1_700_000_000_000L, "guard", "shop", "web-0", null,
                "evict: The node was low on resource: memory.", "memory.available 188743680 < hard 209715200",
                "evicted through the Eviction API: accepted", acted);
        return new NodeStatus(1_700_000_000_000L, withGuard, List.of(Statuses.v2Container()), List.of(evict), null);
    }

    @Test
    void explainSaysWhichThresholdActedAndThePodGracePeriod() {
        StatusDoc d = StatusDoc.parse(new String(StatusJson.render(status()), StandardCharsets.UTF_8));
        assertThat(d.recentActions()).singleElement().satisfies(a -> {
            assertThat(a.actedOn().by()).isEqualTo("memwarden");
            assertThat(a.actedOn().podGraceSeconds()).isEqualTo(1);
        });
        Explanation x = Explanation.of(d, "http://h:1", "shop", "web-0", null);
        assertThat(x.text()).contains("        which acted: guard acted at 180Mi memory.available (memwarden"
                + " loops.guard.hardAvailable 200Mi), before the kubelet's hard threshold memory.available<100Mi;"
                + " pod grace period 1 s");
        assertThat(x.text()).contains("node: pressure guard HARD; MemoryPressure True (KubeletHasInsufficientMemory;"
                + " stays so until no kubelet threshold was met for 300 s); kubelet thresholds met: kubelet"
                + " evictionSoft memory.available<1Gi: within its grace period (20 of 90 s)");
    }

    @Test
    void aQuietGuardAddsNoNodeLineAndOtherLoopsNoWhichActed() {
        NodeStatus.Node n = Statuses.node();
        NodeStatus quiet = new NodeStatus(1, new NodeStatus.Node(n.capacityBytes(), n.availableBytes(),
                n.swapTotalBytes(), n.swapFreeBytes(), n.swapInPages(), n.psi(), null, new NodeStatus.Guard("NONE",
                false, "KubeletHasSufficientMemory", null, 300, List.of(), null)), List.of(Statuses.v2Container()),
                List.of(Statuses.action("offload", "reclaim 4096 bytes", "ok")), null);
        Explanation x = Explanation.of(StatusDoc.parse(new String(StatusJson.render(quiet), StandardCharsets.UTF_8)),
                "http://h:1", "shop", "web-0", null);
        assertThat(x.guard()).isNull();
        assertThat(x.text()).noneMatch(l -> l.startsWith("node:") || l.contains("which acted"));
    }

    @Test
    void metricsCarryTheConditionTheLevelAndTheAllocatableSignal() throws Exception {
        String t = new String(new MetricsExposition(GuardStatusExplainTest::status, false).scrape(null).body(),
                StandardCharsets.UTF_8);
        assertThat(t).contains("memwarden_node_memory_pressure 1.0\n")
                .contains("memwarden_guard_level{level=\"hard\"} 1.0\n")
                .contains("memwarden_guard_level{level=\"none\"} 0.0\n")
                .contains("memwarden_node_allocatable_memory_available_bytes " + (double) (700 * MI) + "\n");
        String noGuard = new String(new MetricsExposition(() -> Statuses.status(List.of()), false).scrape(null)
                .body(), StandardCharsets.UTF_8);
        assertThat(noGuard).doesNotContain("memwarden_node_memory_pressure").doesNotContain("memwarden_guard_level");
    }
}
