package io.memwarden.agent;

import io.memwarden.control.KsmTuner;
import io.memwarden.kernel.Ksm;
import io.memwarden.kernel.KsmCounters;
import io.memwarden.loops.KsmLoop;
import io.memwarden.model.Clock;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Unit;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The agent's KSM tuner ({@code loops.ksm}): a {@link KsmLoop} on its own thread every period, its metrics, and on
 * {@link #close} the settings it changed restored. The section is read at start; a reload does not change it.
 */
final class KsmTuning implements AutoCloseable {
    private final KsmLoop loop;
    private final Duration period;
    private final Consumer<String> log;
    private final CountDownLatch stop = new CountDownLatch(1);
    private final Thread thread;
    private volatile String lastError;

    private KsmTuning(KsmLoop loop, Duration period, Consumer<String> log) {
        this.loop = loop;
        this.period = period;
        this.log = log;
        this.thread = Thread.ofPlatform().daemon().name("memwarden-ksm").unstarted(this::run);
    }

    static KsmTuning start(Ksm ksm, AgentConfig.Ksm cfg, boolean dryRun, Clock clock, Consumer<String> log) {
        KsmLoop loop = new KsmLoop(ksm, new KsmTuner(cfg.newPolicy(), cfg.tunerConfig(), clock),
                new KsmLoop.Options(dryRun, cfg.takeOver(), cfg.committed()), clock);
        KsmTuning t = new KsmTuning(loop, cfg.period(), log);
        t.thread.start();
        return t;
    }

    KsmLoop loop() {
        return loop;
    }

    private void run() {
        String lastReason = null;
        String lastObserveOnly = null;
        do {
            try {
                KsmLoop.Pass p = loop.pass();
                lastError = null;
                if (!p.written().isEmpty()) {
                    log.accept("KSM: " + String.join(" ", p.written()) + ": " + p.decision().reason());
                } else if (!p.decision().reason().equals(lastReason) && p.decision().run() != null
                        && p.decision().run() == 2) {
                    log.accept("KSM: " + p.decision().reason());
                }
                if (p.observeOnly() != null && !p.observeOnly().equals(lastObserveOnly)) {
                    log.accept("KSM: " + p.observeOnly());
                }
                lastObserveOnly = p.observeOnly();
                lastReason = p.decision().reason();
            } catch (IOException | RuntimeException e) {
                if (!String.valueOf(e.getMessage()).equals(lastError)) {
                    log.accept("KSM tuner: " + e.getMessage());
                }
                lastError = String.valueOf(e.getMessage());
            }
            try {
                if (stop.await(period.toMillis(), TimeUnit.MILLISECONDS)) {
                    break;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        } while (true);
    }

    /** Stops the thread and restores the settings memwarden changed (logged). */
    @Override
    public void close() {
        stop.countDown();
        try {
            thread.join(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            for (String r : loop.restore()) {
                log.accept("KSM restored " + r);
            }
        } catch (IOException e) {
            log.accept("KSM: restoring settings failed: " + e.getMessage());
        }
    }

    void register(PrometheusRegistry r) {
        r.register(new Metrics(loop));
    }

    /** memwarden_ksm_* and memwarden_ksmd_cpu_seconds_total from the latest pass (docs/metrics.md). */
    static final class Metrics implements MultiCollector {
        private final KsmLoop loop;

        Metrics(KsmLoop loop) {
            this.loop = loop;
        }

        @Override
        public MetricSnapshots collect() {
            KsmLoop.Pass p = loop.last();
            List<MetricSnapshot> out = new ArrayList<>();
            if (p == null) {
                return new MetricSnapshots(out);
            }
            KsmCounters c = p.counters();
            out.add(gauge("memwarden_ksm_profit_bytes", "KSM's net memory profit on this node: merged pages × 4096"
                    + " − rmap items × 64 (the kernel's general_profit when it has one).", Unit.BYTES, c.profitBytes()));
            out.add(gauge("memwarden_ksm_saved_bytes", "Memory KSM saves: (pages_sharing + ksm_zero_pages) × 4096.",
                    Unit.BYTES, c.savedBytes()));
            out.add(gauge("memwarden_ksm_metadata_bytes", "Memory KSM's rmap items take: rmap items × 64.",
                    Unit.BYTES, c.metadataBytes()));
            out.add(gauge("memwarden_ksm_run", "KSM's run setting: 0 stopped, 1 running, 2 unmerged.", null, c.run()));
            out.add(gauge("memwarden_ksm_pages_to_scan", "KSM's pages_to_scan setting.", null, c.pagesToScan()));
            out.add(gauge("memwarden_ksm_sleep_seconds", "KSM's sleep_millisecs setting, in seconds.", Unit.SECONDS,
                    c.sleepMillisecs() / 1000.0));
            out.add(gauge("memwarden_ksm_tuner_observing_only", "1 when the tuner only observes (KSM someone else's,"
                    + " the advisor on, or a value changed by someone else), else 0.", null,
                    p.observeOnly() == null ? 0 : 1));
            out.add(CounterSnapshot.builder().name("memwarden_ksm_full_scans").help("Full scans ksmd has completed.")
                    .dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().value(c.fullScans()).build())
                    .build());
            if (p.ksmdCpuSeconds() >= 0) {
                out.add(CounterSnapshot.builder().name("memwarden_ksmd_cpu_seconds")
                        .help("CPU time ksmd has used (utime + stime of its /proc stat).").unit(Unit.SECONDS)
                        .dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().value(p.ksmdCpuSeconds())
                                .build())
                        .build());
            }
            return new MetricSnapshots(out);
        }

        private static GaugeSnapshot gauge(String name, String help, Unit unit, double v) {
            GaugeSnapshot.Builder b = GaugeSnapshot.builder().name(name).help(help);
            if (unit != null) {
                b.unit(unit);
            }
            return b.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(Labels.EMPTY).value(v).build())
                    .build();
        }
    }
}
