package io.memwarden.agent;

import io.memwarden.k8s.ClusterActions;
import io.memwarden.k8s.KubeCluster;
import io.memwarden.kernel.Host;
import io.memwarden.kernel.Zram;
import io.memwarden.kernel.ZramStats;
import io.memwarden.loops.ContainerStatus;
import io.memwarden.loops.ControlLoops;
import io.memwarden.loops.ManagedWorkload;
import io.memwarden.policy.PlanWarnings;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.Map;

/**
 * The node agent's own metrics beside the status ones ({@code io.memwarden.api.StatusMetrics}): NRI request latency,
 * control-loop tick time, config reloads, bytes offloaded per container, and zram device stats. Names follow the
 * Prometheus conventions (docs/metrics.md).
 */
final class AgentMetrics {
    private static final double[] NRI_BUCKETS = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5,
        1, 2};
    private static final double[] TICK_BUCKETS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1};

    private final Histogram nri = Histogram.builder().name("memwarden_nri_request_duration_seconds")
            .help("Time memwarden took to answer each NRI call of the runtime, by method.").labelNames("method")
            .classicOnly().classicUpperBounds(NRI_BUCKETS).build();
    private final Counter nriFailures = Counter.builder().name("memwarden_nri_request_failures")
            .help("NRI calls answered with an error, by method.").labelNames("method").build();
    private final Histogram tick = Histogram.builder().name("memwarden_loop_tick_duration_seconds")
            .help("Time one observe-decide-act round of the control loops took.").classicOnly()
            .classicUpperBounds(TICK_BUCKETS).build();
    private final Counter tickErrors = Counter.builder().name("memwarden_loop_tick_errors")
            .help("Control-loop rounds that failed.").build();
    private final Counter reloads = Counter.builder().name("memwarden_config_reloads")
            .help("Config file changes, by result (applied, rejected).").labelNames("result").build();

    private final Counter mounts = Counter.builder().name("memwarden_nri_memory_backed_mounts")
            .help("Memory-backed mounts of created containers that may swap, by result: noswap (a tmpfs mounted"
                    + " noswap through NRI) or unprotected (left swappable: no kernel support, or a bind mount of a"
                    + " host tmpfs).").labelNames("result").build();

    void register(PrometheusRegistry r, ControlLoops loops, ClusterActions cluster,
                  ManagedWorkload workload) {
        r.register(new Refaults(workload));
        if (cluster instanceof KubeCluster kc) {
            r.register(new ClusterStats(kc));
        }
        r.register(nri);
        r.register(nriFailures);
        r.register(tick);
        r.register(tickErrors);
        r.register(reloads);
        r.register(mounts);
        r.register(new Scraped(loops));
    }

    /** {@code memwarden_warnings{kind}}: the standing warnings before surprises by kind (PlanWarningWatch). */
    void registerWarnings(PrometheusRegistry r,
                          Supplier<Map<PlanWarnings.Kind, Integer>> counts) {
        r.register(new MultiCollector() {
            @Override
            public MetricSnapshots collect() {
                GaugeSnapshot.Builder g = GaugeSnapshot.builder().name("memwarden_warnings")
                        .help("Warnings before surprises standing now, by kind: swap_unavailable (containers may swap"
                                + " on a node without swap), swap_too_small, memory_min_overcommitted,"
                                + " guaranteed_unprotected (docs/operations.md).");
                counts.get().forEach((k, n) -> g.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder()
                        .labels(Labels.of("kind", k.label())).value(n).build()));
                return new MetricSnapshots(g.build());
            }
        });
    }

    void nriRequest(String method, long nanos, boolean failed) {
        nri.labelValues(method).observe(nanos / 1e9);
        if (failed) {
            nriFailures.labelValues(method).inc();
        }
    }

    void loopTick(long nanos, boolean failed) {
        tick.observe(nanos / 1e9);
        if (failed) {
            tickErrors.inc();
        }
    }

    void memoryBackedMounts(String podKey, String container, int noswapped, List<String> unprotected) {
        if (noswapped > 0) {
            mounts.labelValues("noswap").inc(noswapped);
        }
        if (!unprotected.isEmpty()) {
            mounts.labelValues("unprotected").inc(unprotected.size());
        }
    }

    void configReloaded(boolean applied) {
        reloads.labelValues(applied ? "applied" : "rejected").inc();
    }

    /**
     * Each container's anonymous refaults (memory.stat {@code workingset_refault_anon}; v1 its hierarchical total):
     * pages brought back from swap after the kernel or memwarden pushed them out. Its rate is the container's
     * promotion (swap-in) rate, what the offload loop backs off on.
     */
    private record Refaults(ManagedWorkload workload) implements MultiCollector {
        @Override
        public MetricSnapshots collect() {
            CounterSnapshot.Builder b = CounterSnapshot.builder().name("memwarden_container_anon_refaults")
                    .help("Anonymous pages of the container refaulted (swapped back in) since its cgroup was created"
                            + " (memory.stat workingset_refault_anon).");
            for (ContainerStatus s : workload.lazySnapshot()) { // memory.stat alone
                var u = s.usage();
                if (u == null) {
                    continue;
                }
                java.util.Map<String, Long> stat;
                try {
                    stat = u.stat();
                } catch (java.io.UncheckedIOException e) {
                    continue; // the cgroup went away while it was read
                }
                Long v = stat.getOrDefault("total_workingset_refault_anon", stat.get("workingset_refault_anon"));
                if (v == null) {
                    continue;
                }
                String[] nsName = s.pod().split("/", 2);
                b.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().labels(Labels.of("namespace",
                        nsName[0], "pod", nsName.length > 1 ? nsName[1] : "", "container", s.container()))
                        .value(v).build());
            }
            return new MetricSnapshots(b.build());
        }
    }

    /** What the agent sent to the Kubernetes API, by outcome (read at scrape time). */
    private record ClusterStats(KubeCluster cluster) implements MultiCollector {
        @Override
        public MetricSnapshots collect() {
            KubeCluster.Stats s = cluster.stats();
            return new MetricSnapshots(
                    counter("memwarden_kube_events", "Events memwarden sent to (or kept from) the Kubernetes API, by"
                            + " result.", "result", new String[] {"created", "updated", "rate_limited", "dropped",
                                "failed"}, s.eventsCreated(), s.eventsUpdated(), s.eventsRateLimited(),
                            s.eventsDropped(), s.eventsFailed()),
                    counter("memwarden_kube_evictions", "Evictions memwarden asked the Eviction API for, by result.",
                            "result", new String[] {"evicted", "refused", "failed"}, s.evictions(),
                            s.evictionsRefused(), s.evictionsFailed()),
                    counter("memwarden_kube_node_writes", "Writes of memwarden's label/taint to this Node, by result.",
                            "result", new String[] {"ok", "failed"}, s.nodeWrites(), s.nodeFailures()));
        }

        private static CounterSnapshot counter(String name, String help, String label, String[] values,
                                               long... counts) {
            CounterSnapshot.Builder b = CounterSnapshot.builder().name(name).help(help);
            for (int i = 0; i < values.length; i++) {
                b.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().labels(Labels.of(label, values[i]))
                        .value(counts[i]).build());
            }
            return b.build();
        }
    }

    /** Read at scrape time: offloaded bytes from the loops, zram stats from sysfs. */
    private static final class Scraped implements MultiCollector {
        private final ControlLoops loops;
        private final Zram zram = new Zram(Host.system());

        Scraped(ControlLoops loops) {
            this.loops = loops;
        }

        @Override
        public MetricSnapshots collect() {
            List<io.prometheus.metrics.model.snapshots.MetricSnapshot> out = new ArrayList<>();
            CounterSnapshot.Builder off = CounterSnapshot.builder().name("memwarden_container_offloaded_bytes")
                    .help("Bytes the offload loop moved out of each container's memory (to swap) since the agent"
                            + " started.").unit(Unit.BYTES);
            for (Map.Entry<String, Long> e : loops.offloadedBytes().entrySet()) {
                String[] p = e.getKey().split("/", 3);
                if (p.length == 3) {
                    off.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder()
                            .labels(Labels.of("namespace", p[0], "pod", p[1], "container", p[2]))
                            .value(e.getValue()).build());
                }
            }
            out.add(off.build());
            GaugeSnapshot.Builder ws = gauge("memwarden_container_working_set_estimate_bytes",
                    "The container's working set as the offload loop found it: its usage when probing last met"
                            + " pressure (stall at the target, or offloaded pages swapped back in).");
            for (var e : loops.workingSetEstimates().entrySet()) {
                String[] p = e.getKey().split("/", 3);
                if (p.length == 3) {
                    ws.dataPoint(point(Labels.of("namespace", p[0], "pod", p[1], "container", p[2]),
                            e.getValue().bytes()));
                }
            }
            out.add(ws.build());
            ControlLoops.NodeSwapCapState cap = loops.nodeSwapCapState();
            if (cap != null && cap.decision().capBytes() != null) {
                out.add(gauge("memwarden_node_swap_cap_bytes", "The cap on all workloads' swap together"
                        + " (swap.nodeCap, swap.systemReserved) as the loops last computed it; written on kubepods"
                        + " unless memwarden_node_swap_cap_enforced is 0.")
                        .dataPoint(point(Labels.EMPTY, cap.decision().capBytes())).build());
                boolean enforced = cap.result().equals("ok") || cap.result().equals("in place");
                // no unit: a 0/1 state
                out.add(GaugeSnapshot.builder().name("memwarden_node_swap_cap_enforced")
                        .help("1 when kubepods holds the node swap cap, 0 when it could not be written (cgroup v1"
                                + " without a kubepods memory limit, no kubepods, a failed write).")
                        .dataPoint(point(Labels.EMPTY, enforced ? 1 : 0)).build());
            }
            try {
                List<String> devices = zram.devices();
                if (!devices.isEmpty()) {
                    GaugeSnapshot.Builder orig = gauge("memwarden_zram_original_data_bytes",
                            "Uncompressed bytes stored in the zram device (mm_stat orig_data_size).");
                    GaugeSnapshot.Builder compr = gauge("memwarden_zram_compressed_data_bytes",
                            "Compressed bytes stored in the zram device (mm_stat compr_data_size).");
                    GaugeSnapshot.Builder used = gauge("memwarden_zram_memory_used_bytes",
                            "Memory the zram device uses, allocator overhead included (mm_stat mem_used_total).");
                    for (String d : devices) {
                        try {
                            ZramStats s = zram.stats(d);
                            Labels l = Labels.of("device", d);
                            orig.dataPoint(point(l, s.origDataSize()));
                            compr.dataPoint(point(l, s.comprDataSize()));
                            used.dataPoint(point(l, s.memUsedTotal()));
                        } catch (Exception e) {
                            // an uninitialised device has no stats
                        }
                    }
                    out.add(orig.build());
                    out.add(compr.build());
                    out.add(used.build());
                }
            } catch (Exception e) {
                // no zram: nothing to report
            }
            return new MetricSnapshots(out);
        }

        private static GaugeSnapshot.Builder gauge(String name, String help) {
            return GaugeSnapshot.builder().name(name).help(help).unit(Unit.BYTES);
        }

        private static GaugeSnapshot.GaugeDataPointSnapshot point(Labels l, double v) {
            return GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(l).value(v).build();
        }
    }
}
