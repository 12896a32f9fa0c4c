package io.memwarden.agent;

import io.memwarden.kernel.Host;
import io.memwarden.kernel.Zram;
import io.memwarden.kernel.ZramStats;
import io.memwarden.runner.ControlLoops;
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

    void register(PrometheusRegistry r, ControlLoops loops) {
        r.register(nri);
        r.register(nriFailures);
        r.register(tick);
        r.register(tickErrors);
        r.register(reloads);
        r.register(new Scraped(loops));
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

    void configReloaded(boolean applied) {
        reloads.labelValues(applied ? "applied" : "rejected").inc();
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
