package io.memwarden.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.loops.ControlLoops;
import io.memwarden.loops.NodeStatus;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class StatusMetricsTest {

    static String text(MetricsExposition m, String accept) throws Exception {
        return new String(m.scrape(accept).body(), StandardCharsets.UTF_8);
    }

    @Test
    void exposesAFixedStatusInTheTextFormat() throws Exception {
        NodeStatus s = Statuses.status(List.of(Statuses.action("guard", "reclaim 1048576 bytes", "reclaimed 4096 bytes")));
        MetricsExposition m = new MetricsExposition(() -> s, false);
        MetricsExposition.Scrape scrape = m.scrape(null);
        assertThat(scrape.contentType()).isEqualTo("text/plain; version=0.0.4; charset=utf-8");
        String t = new String(scrape.body(), StandardCharsets.UTF_8);

        assertThat(t).contains("# TYPE memwarden_container_memory_usage_bytes gauge\n");
        assertThat(t).contains("# HELP memwarden_container_memory_usage_bytes cgroup memory usage");
        assertThat(t).contains("memwarden_container_memory_usage_bytes{container=\"app\",namespace=\"shop\",pod=\"web-0\","
                + "qos=\"Burstable\"} 1.048576E8\n");
        assertThat(t).contains("memwarden_container_memory_working_set_bytes{container=\"app\",namespace=\"shop\","
                + "pod=\"web-0\",qos=\"Burstable\"} 8.388608E7\n");
        assertThat(t).contains("memwarden_container_swap_usage_bytes{container=\"app\",namespace=\"shop\",pod=\"web-0\","
                + "qos=\"Burstable\"} 5242880.0\n");
        assertThat(t).contains("memwarden_container_memory_limit_bytes{container=\"app\",namespace=\"shop\",pod=\"web-0\","
                + "qos=\"Burstable\"} 1.34217728E8\n");
        assertThat(t).contains("memwarden_container_swap_limit_bytes{container=\"app\",namespace=\"shop\",pod=\"web-0\","
                + "qos=\"Burstable\"} 3.3554432E7\n");
        // unlimited → +Inf; memory.high "max" on v2 → +Inf; v1 has no memory.high → no sample
        assertThat(t).contains("memwarden_container_memory_limit_bytes{container=\"worker\",namespace=\"default\","
                + "pod=\"batch\",qos=\"BestEffort\"} +Inf\n");
        assertThat(t).contains("memwarden_container_swap_limit_bytes{container=\"worker\",namespace=\"default\","
                + "pod=\"batch\",qos=\"BestEffort\"} +Inf\n");
        assertThat(t).contains("memwarden_container_memory_high_bytes{container=\"app\",namespace=\"shop\",pod=\"web-0\","
                + "qos=\"Burstable\"} +Inf\n");
        assertThat(lines(t, "memwarden_container_memory_high_bytes{")).hasSize(1);
        // a container whose cgroup is gone has no samples
        assertThat(t).doesNotContain("container=\"init\"");

        assertThat(t).contains("# TYPE memwarden_container_memory_events_total counter\n");
        assertThat(t).contains("memwarden_container_memory_events_total{container=\"app\",event=\"high\",namespace=\"shop\","
                + "pod=\"web-0\",qos=\"Burstable\"} 7.0\n");
        assertThat(t).contains("memwarden_container_memory_events_total{container=\"app\",event=\"oom_kill\","
                + "namespace=\"shop\",pod=\"web-0\",qos=\"Burstable\"} 1.0\n");
        assertThat(t).contains("memwarden_container_memory_events_total{container=\"worker\",event=\"failcnt\","
                + "namespace=\"default\",pod=\"batch\",qos=\"BestEffort\"} 12.0\n");
        assertThat(t).doesNotContain("event=\"low\"").doesNotContain("event=\"under_oom\"")
                .doesNotContain("event=\"memsw_failcnt\"");
        assertThat(lines(t, "memwarden_container_memory_events_total{")).hasSize(4 + 2);

        assertThat(t).contains("memwarden_node_memory_capacity_bytes 4.294967296E9\n");
        assertThat(t).contains("memwarden_node_memory_available_bytes 1.073741824E9\n");
        assertThat(t).contains("memwarden_node_swap_total_bytes 2.147483648E9\n");
        assertThat(t).contains("memwarden_node_swap_free_bytes 1.610612736E9\n");
        assertThat(t).contains("# TYPE memwarden_node_swap_in_pages_total counter\n");
        assertThat(t).contains("memwarden_node_swap_in_pages_total 4242.0\n");
        assertThat(t).contains("# TYPE memwarden_node_pressure_avg10 gauge\n");
        assertThat(t).contains("memwarden_node_pressure_avg10{kind=\"some\",resource=\"memory\"} 0.125\n");
        assertThat(t).contains("memwarden_node_pressure_avg10{kind=\"full\",resource=\"memory\"} 0.025\n");
        assertThat(t).contains("memwarden_node_pressure_stalled_seconds_total{kind=\"some\",resource=\"memory\"} 2.5\n");

        assertThat(t).contains("# TYPE memwarden_loop_actions_total counter\n");
        assertThat(t).contains("memwarden_loop_actions_total{action=\"reclaim\",loop=\"guard\",result=\"ok\"} 1.0\n");
        assertThat(t).contains("memwarden_status_errors_total 0.0\n");
        assertThat(t).contains("# TYPE memwarden_oom_kills_total counter\n");
        assertThat(t).contains("memwarden_oom_kills_total{container=\"\",kind=\"system\",namespace=\"\",pod=\"\","
                + "victim=\"\"} 1.0\n");
        assertThat(t).contains("memwarden_oom_kills_total{container=\"\",kind=\"cgroup\",namespace=\"\",pod=\"\","
                + "victim=\"\"} 1.0\n");
        assertThat(t).contains("memwarden_oom_kills_total{container=\"app\",kind=\"cgroup\",namespace=\"shop\","
                + "pod=\"web-0\",victim=\"perl\"} 1.0\n");
        assertThat(lines(t, "memwarden_oom_kills_total{")).hasSize(3);
    }

    @Test
    void aBalloonedNodeExportsTheBalloonAndThePodRequestsAboveWhatItLeft() throws Exception {
        NodeStatus.Node n = Statuses.node();
        NodeStatus.Node ballooned = new NodeStatus.Node(n.capacityBytes(), n.availableBytes(), n.swapTotalBytes(),
                n.swapFreeBytes(), n.swapInPages(), n.psi(), new NodeStatus.Balloon("virtio_balloon", 6144 * Statuses.MI,
                2048 * Statuses.MI, 4096 * Statuses.MI, 1.5 * Statuses.MI, false, "meminfo Balloon",
                5120 * Statuses.MI));
        NodeStatus s = new NodeStatus(1_700_000_000_000L, ballooned, List.of(), List.of(), null);
        String t = new String(new MetricsExposition(() -> s, false).scrape(null).body(), StandardCharsets.UTF_8);
        assertThat(t).contains("memwarden_node_balloon_bytes " + (double) (2048 * Statuses.MI) + "\n")
                .contains("memwarden_node_memory_physical_bytes " + (double) (6144 * Statuses.MI) + "\n")
                .contains("memwarden_node_balloon_overcommit_bytes " + (double) (1024 * Statuses.MI) + "\n")
                .contains("memwarden_node_free_page_reporting 0.0\n");
        String plain = new String(new MetricsExposition(() -> Statuses.status(List.of()), false).scrape(null).body(),
                StandardCharsets.UTF_8);
        assertThat(plain).doesNotContain("memwarden_node_balloon");
    }

    @Test
    void openMetricsByAcceptHeader() throws Exception {
        MetricsExposition m = new MetricsExposition(() -> Statuses.status(List.of()), false);
        MetricsExposition.Scrape s = m.scrape("application/openmetrics-text; version=1.0.0; charset=utf-8");
        assertThat(s.contentType()).startsWith("application/openmetrics-text");
        String t = new String(s.body(), StandardCharsets.UTF_8);
        assertThat(t).contains("# TYPE memwarden_container_memory_usage_bytes gauge\n");
        assertThat(t).contains("# UNIT memwarden_container_memory_usage_bytes bytes\n");
        assertThat(t).contains("# TYPE memwarden_node_swap_in_pages counter\n");
        assertThat(t).contains("memwarden_node_swap_in_pages_total 4242.0\n");
        assertThat(t).endsWith("# EOF\n");
    }

    @Test
    void loopActionCountersOnlyGrowAcrossScrapes() throws Exception {
        List<NodeStatus.LoopAction> history = new ArrayList<>();
        AtomicReference<NodeStatus> now = new AtomicReference<>(Statuses.status(history));
        StatusMetrics c = new StatusMetrics(now::get);
        assertThat(actions(c.collect())).isEmpty();

        history.add(Statuses.action("offload", "reclaim 4096 bytes", "reclaimed 4096 bytes"));
        history.add(Statuses.action("throttle-relief", "memory.high=1000", "dry-run"));
        now.set(Statuses.status(history));
        assertThat(actions(c.collect())).containsEntry("offload/reclaim/ok", 1.0)
                .containsEntry("throttle-relief/set_high/dry_run", 1.0);

        // the same history again: nothing new is counted
        assertThat(actions(c.collect())).containsEntry("offload/reclaim/ok", 1.0);

        history.add(Statuses.action("offload", "reclaim 4096 bytes", "reclaimed 0 bytes"));
        history.add(Statuses.action("offload", "reclaim 4096 bytes", "failed: EBUSY"));
        history.add(Statuses.action("guard", "evict: The node was low on resource: memory.", "killed 2 process(es)"));
        history.add(Statuses.action("guard", "throttle at 1234", "skipped: cgroup v1 has no memory.high"));
        now.set(Statuses.status(history));
        var after = actions(c.collect());
        assertThat(after).containsEntry("offload/reclaim/ok", 2.0).containsEntry("offload/reclaim/failed", 1.0)
                .containsEntry("guard/evict/ok", 1.0).containsEntry("guard/set_high/skipped", 1.0)
                .containsEntry("throttle-relief/set_high/dry_run", 1.0);

        // a new (shorter) history from a restarted source: counted on top, never decreasing
        now.set(Statuses.status(List.of(Statuses.action("offload", "reclaim 1 bytes", "ok"))));
        assertThat(actions(c.collect())).containsEntry("offload/reclaim/ok", 3.0)
                .containsEntry("offload/reclaim/failed", 1.0);
    }

    @Test
    void aBoundedHistoryThatDropsItsOldestStillCountsEveryNewAction() throws Exception {
        NodeStatus base = Statuses.status(List.of());
        AtomicReference<NodeStatus> now = new AtomicReference<>(base);
        StatusMetrics c = new StatusMetrics(now::get);
        java.util.function.BiFunction<Long, List<NodeStatus.LoopAction>, NodeStatus> st = (dropped, list) ->
                new NodeStatus(base.atMillis(), base.node(), base.containers(), list, base.oomKills(), dropped);
        NodeStatus.LoopAction a = Statuses.action("offload", "reclaim 4096 bytes", "reclaimed 4096 bytes");
        now.set(st.apply(0L, List.of(a, a)));        // actions 0, 1
        assertThat(actions(c.collect())).containsEntry("offload/reclaim/ok", 2.0);
        now.set(st.apply(1L, List.of(a, a)));        // history of 2: action 0 dropped, action 2 new
        assertThat(actions(c.collect())).containsEntry("offload/reclaim/ok", 3.0);
        now.set(st.apply(3L, List.of(a, a)));        // actions 3, 4 new (none seen before)
        assertThat(actions(c.collect())).containsEntry("offload/reclaim/ok", 5.0);
        now.set(st.apply(3L, List.of(a, a)));        // nothing new
        assertThat(actions(c.collect())).containsEntry("offload/reclaim/ok", 5.0);
    }

    @Test
    void aFailingSourceCountsAnErrorAndExportsNoStatusMetrics() throws Exception {
        StatusMetrics c = new StatusMetrics(() -> {
            throw new java.io.IOException("no /proc/meminfo");
        });
        c.collect();
        MetricSnapshots s = c.collect();
        assertThat(s.stream().map(x -> x.getMetadata().getName())).containsExactly("memwarden_status_errors");
        assertThat(((CounterSnapshot) s.get(0)).getDataPoints().getFirst().getValue()).isEqualTo(2.0);
    }

    @Test
    void everyMetricFollowsTheNamingConventions() throws Exception {
        PrometheusRegistry r = new MetricsExposition(() -> Statuses.status(
                List.of(Statuses.action("guard", "reclaim 1 bytes", "ok"))), false).registry();
        List<String> names = new ArrayList<>();
        for (MetricSnapshot m : r.scrape()) {
            String name = m.getMetadata().getPrometheusName();
            String exposed = m instanceof CounterSnapshot ? name + "_total" : name;
            names.add(exposed);
            assertThat(exposed).matches("memwarden_[a-z_0-9]+").doesNotContain("__");
            assertThat(m.getMetadata().getHelp()).as(exposed).isNotBlank();
            if (m instanceof CounterSnapshot) {
                assertThat(exposed).endsWith("_total");
            } else {
                assertThat(exposed).doesNotEndWith("_total");
            }
            if (exposed.contains("bytes")) {
                assertThat(exposed).as("base unit suffix").endsWith("_bytes");
            }
        }
        assertThat(names).contains(
                "memwarden_container_memory_usage_bytes", "memwarden_container_memory_working_set_bytes",
                "memwarden_container_swap_usage_bytes", "memwarden_container_memory_limit_bytes",
                "memwarden_container_swap_limit_bytes", "memwarden_container_memory_high_bytes",
                "memwarden_container_memory_events_total", "memwarden_node_memory_available_bytes",
                "memwarden_node_swap_free_bytes", "memwarden_node_swap_total_bytes", "memwarden_node_pressure_avg10",
                "memwarden_node_swap_in_pages_total", "memwarden_loop_actions_total", "memwarden_oom_kills_total");
        // and in the text actually served, every sample line too
        String t = text(new MetricsExposition(() -> Statuses.status(List.of()), false), null);
        for (String line : t.split("\n")) {
            String name = line.startsWith("#") ? line.split(" ")[2] : line.split("[{ ]")[0];
            assertThat(name).matches("memwarden_[a-z_0-9]+");
        }
    }

    @Test
    void oomKillsAreAbsentWhenNotWatched() throws Exception {
        NodeStatus s = Statuses.status(List.of());
        NodeStatus unwatched = new NodeStatus(s.atMillis(), s.node(), s.containers(), s.actions(), null);
        assertThat(text(new MetricsExposition(() -> unwatched, false), null)).doesNotContain("memwarden_oom_kills");
        // counted by kind when watched: OomKillWatchTest.killsAreCountedByKind
    }

    @Test
    void jvmMetricsAreIncludedWhenAsked() throws Exception {
        String t = text(new MetricsExposition(() -> Statuses.status(List.of()), true), null);
        assertThat(t).contains("jvm_memory_used_bytes").contains("memwarden_node_memory_available_bytes");
    }

    @Test
    void boundedLabelValuesForActionsAndResults() {
        assertThat(StatusMetrics.actionKind("memory.limit_in_bytes=100")).isEqualTo("set_high");
        assertThat(StatusMetrics.actionKind("something new")).isEqualTo("other");
        assertThat(StatusMetrics.resultKind("killed 0 process(es) ...; errors: ESRCH; ")).isEqualTo("failed");
        assertThat(StatusMetrics.resultKind("ok")).isEqualTo("ok");
        // the guard's direct kill (issue #15) and an eviction the API did not take
        assertThat(StatusMetrics.actionKind(ControlLoops.DIRECT_KILL + "The node was low on resource: memory."))
                .isEqualTo("evict");
        assertThat(StatusMetrics.resultKind(ControlLoops.KILLED_DIRECTLY + "killed 2 process(es) with SIGKILL via"
                + " pidfd (no Eviction API)")).isEqualTo("direct_kill");
        assertThat(StatusMetrics.resultKind(ControlLoops.KILLED_DIRECTLY + "killed 0 process(es); errors: ESRCH; "))
                .isEqualTo("failed");
        assertThat(StatusMetrics.resultKind("not evicted: eviction of a/b refused (HTTP 429 Too Many Requests)"))
                .isEqualTo("not_evicted");
    }

    private static List<String> lines(String text, String prefix) {
        return text.lines().filter(l -> l.startsWith(prefix)).toList();
    }

    private static java.util.Map<String, Double> actions(MetricSnapshots s) {
        java.util.Map<String, Double> m = new java.util.TreeMap<>();
        for (MetricSnapshot x : s) {
            if (x.getMetadata().getName().equals("memwarden_loop_actions")) {
                for (var p : ((CounterSnapshot) x).getDataPoints()) {
                    m.put(p.getLabels().get("loop") + "/" + p.getLabels().get("action") + "/"
                            + p.getLabels().get("result"), p.getValue());
                }
            }
        }
        return m;
    }
}
