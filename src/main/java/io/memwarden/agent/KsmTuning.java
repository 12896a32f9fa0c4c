package io.memwarden.agent;

import io.memwarden.control.KsmTuner;
import io.memwarden.control.KubevirtKsm;
import io.memwarden.k8s.ClusterActions;
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
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The agent's KSM tuner ({@code loops.ksm}): a {@link KsmLoop} on its own thread every period, its metrics, and on
 * {@link #close} the settings it changed restored. The section is read at start; a reload does not change it.
 */
final class KsmTuning implements AutoCloseable {
    private final KsmLoop loop;
    private final KsmTuner tuner;
    private final AgentConfig.Ksm cfg;
    private final Supplier<ClusterActions.NodeMetadata> node;
    private KubevirtKsm.Settings inEffect;
    private List<String> lastNodeWarnings = List.of();
    private String lastClaim;
    private final Duration period;
    private final Consumer<String> log;
    private final CountDownLatch stop = new CountDownLatch(1);
    private final Thread thread;
    private volatile String lastError;

    private KsmTuning(KsmLoop loop, KsmTuner tuner, AgentConfig.Ksm cfg, Supplier<ClusterActions.NodeMetadata> node,
                      Consumer<String> log) {
        this.loop = loop;
        this.tuner = tuner;
        this.cfg = cfg;
        this.node = node;
        this.inEffect = cfg.kubevirt();
        this.period = cfg.period();
        this.log = log;
        this.thread = Thread.ofPlatform().daemon().name("memwarden-ksm").unstarted(this::run);
    }

    static KsmTuning start(Ksm ksm, AgentConfig.Ksm cfg, boolean dryRun, Clock clock, Consumer<String> log) {
        return start(ksm, cfg, dryRun, clock, log, () -> null);
    }

    /**
     * @param node this Node's labels and annotations before each pass (Kubernetes mode), null when unknown: virt-handler's
     *             override annotations feed the kubevirt policy, its KSM label/annotation make memwarden observe only
     */
    static KsmTuning start(Ksm ksm, AgentConfig.Ksm cfg, boolean dryRun, Clock clock, Consumer<String> log,
                           Supplier<ClusterActions.NodeMetadata> node) {
        KsmTuning t = create(ksm, cfg, dryRun, clock, log, node);
        t.thread.start();
        return t;
    }

    /** Not started: {@link #onePass} drives it (tests). */
    static KsmTuning create(Ksm ksm, AgentConfig.Ksm cfg, boolean dryRun, Clock clock, Consumer<String> log,
                            Supplier<ClusterActions.NodeMetadata> node) {
        KsmTuner tuner = new KsmTuner(cfg.newPolicy(), cfg.tunerConfig(), clock);
        KsmLoop loop = new KsmLoop(ksm, tuner, new KsmLoop.Options(dryRun, cfg.takeOver(), cfg.committed()), clock);
        return new KsmTuning(loop, tuner, cfg, Objects.requireNonNull(node, "node"), log);
    }

    /** The kubevirt policy's settings in effect (the config's, with the Node's overrides). */
    KubevirtKsm.Settings settings() {
        return inEffect;
    }

    /**
     * Reads the Node (when there is one) and applies what virt-handler put there: its override annotations on the
     * config's kubevirt settings (bad values: a logged warning naming the annotation and value, the config's value
     * kept), and its KSM label/annotation as "managed elsewhere". When the Node cannot be read, what was in effect
     * stays. Logs only changes.
     */
    void applyNode() {
        ClusterActions.NodeMetadata m = node.get();
        if (m == null) {
            return;
        }
        List<String> warnings = new ArrayList<>();
        String claim = KubevirtKsm.virtHandlerClaim(m.labels(), m.annotations(), warnings);
        loop.managedElsewhere(claim);
        if (!Objects.equals(claim, lastClaim)) {
            log.accept("KSM: " + (claim != null ? claim : "KubeVirt's virt-handler no longer claims KSM on this node"));
            lastClaim = claim;
        }
        if (tuner.policy() instanceof KubevirtKsm) {
            KubevirtKsm.Settings s = cfg.kubevirt().withNodeAnnotations(m.annotations(), warnings);
            if (!s.equals(inEffect)) {
                tuner.usePolicy(new KubevirtKsm(s));
                log.accept("KSM: kubevirt settings " + s.describe() + (s.equals(cfg.kubevirt()) ? " (the config's)"
                        : " (the config's with the node's " + KubevirtKsm.ANNOTATION_PREFIX + "*-override annotations)"));
                inEffect = s;
            }
        }
        if (!warnings.equals(lastNodeWarnings)) {
            warnings.forEach(w -> log.accept("KSM: warning: " + w));
            lastNodeWarnings = List.copyOf(warnings);
        }
    }

    /** One pass as the thread makes it: the Node first, then the loop. */
    KsmLoop.Pass onePass() throws IOException {
        applyNode();
        return loop.pass();
    }

    KsmLoop loop() {
        return loop;
    }

    private void run() {
        String lastReason = null;
        String lastObserveOnly = null;
        do {
            try {
                KsmLoop.Pass p = onePass();
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
