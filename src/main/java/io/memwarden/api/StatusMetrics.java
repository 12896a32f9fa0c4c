package io.memwarden.api;

import io.memwarden.model.Pressure;
import io.memwarden.loops.ControlLoops;
import io.memwarden.loops.NodeStatus;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Unit;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.ToLongFunction;

/**
 * memwarden's metrics, built from one {@link NodeStatus} per scrape (no counters scattered through the code): the
 * collector reads the status source and turns it into snapshots. The one piece of state it keeps is the count of
 * loop actions by (loop, action, result), advanced by the actions appended since the previous scrape, so
 * {@code memwarden_loop_actions_total} never goes down. Metric names, units and label rules: docs/metrics.md.
 */
public final class StatusMetrics implements MultiCollector {

    /** The event names of memory.events (v2) and memory.failcnt/oom_control (v1) exported as counters. */
    static final List<String> EVENTS = List.of("high", "max", "oom", "oom_kill", "failcnt");

    private static final String[] CONTAINER_LABELS = {"namespace", "pod", "container", "qos"};
    private static final String[] OOM_LABELS = {"kind", "namespace", "pod", "container", "victim"};

    private final StatusSource source;
    private final Map<List<String>, Long> actionCounts = new TreeMap<>(
            (a, b) -> String.join("\0", a).compareTo(String.join("\0", b)));
    private long actionsSeen;
    private long statusErrors;

    public StatusMetrics(StatusSource source) {
        this.source = source;
    }

    @Override
    public synchronized MetricSnapshots collect() {
        NodeStatus status;
        try {
            status = source.status();
        } catch (IOException | RuntimeException e) {
            statusErrors++;
            return new MetricSnapshots(List.of(errors()));
        }
        count(status.actions(), status.actionsDropped());
        List<MetricSnapshot> out = new ArrayList<>();
        node(status.node(), out);
        containers(status.containers(), out);
        if (status.oomKills() != null) {
            out.add(counter("memwarden_oom_kills",
                    "Kernel OOM kills seen in the kernel log since memwarden started (kind: system = global OOM,"
                            + " cgroup = a memory cgroup's limit), by the pod, container and process (victim) killed;"
                            + " empty namespace/pod/container: no pod on the node (victim=\"other\": over the series"
                            + " bound). Series of pods that left are dropped.",
                    status.oomKills().series().stream().map(s -> counterPoint(Labels.of(OOM_LABELS, new String[] {
                            s.kind(), s.namespace(), s.pod(), s.container(), s.victim()}), s.count())).toList()));
        }
        out.add(counter("memwarden_loop_actions",
                "Control-loop actions by loop (guard, throttle-relief, offload), action (reclaim, set_high, evict,"
                        + " other) and result (ok, dry_run, skipped, failed, not_evicted, direct_kill).",
                actionCounts.entrySet().stream().map(e -> counterPoint(Labels.of(
                        "loop", e.getKey().get(0), "action", e.getKey().get(1), "result", e.getKey().get(2)),
                        e.getValue())).toList()));
        out.add(errors());
        return new MetricSnapshots(out);
    }

    private CounterSnapshot errors() {
        return counter("memwarden_status_errors",
                "Scrapes for which the node status could not be read (the memwarden metrics are then absent).",
                List.of(counterPoint(Labels.EMPTY, statusErrors)));
    }

    /**
     * Counts the actions not seen before. Actions are numbered across the source's life ({@code dropped} + index), so a
     * bounded history that drops its oldest still counts every new one (those dropped before any scrape saw them are
     * lost: the history's size bounds what one scrape interval can count).
     */
    private void count(List<NodeStatus.LoopAction> actions, long dropped) {
        long end = dropped + actions.size();
        if (end < actionsSeen) {
            actionsSeen = dropped; // a new source: its actions are new; the totals stay monotonic
        }
        int from = (int) Math.max(0, actionsSeen - dropped);
        for (NodeStatus.LoopAction a : actions.subList(Math.min(from, actions.size()), actions.size())) {
            actionCounts.merge(List.of(a.loop(), actionKind(a.action()), resultKind(a.result())), 1L, Long::sum);
        }
        actionsSeen = end;
    }

    /** A bounded label value for an action's free text. */
    static String actionKind(String action) {
        if (action == null) {
            return "other";
        }
        if (action.startsWith("reclaim")) {
            return "reclaim";
        }
        if (action.startsWith("memory.high=") || action.startsWith("memory.limit_in_bytes=")
                || action.startsWith("throttle")) {
            return "set_high";
        }
        if (action.startsWith("evict")) {
            return "evict";
        }
        return "other";
    }

    /** A bounded label value for an action's result text. */
    static String resultKind(String result) {
        if (result == null) {
            return "ok";
        }
        if (result.startsWith("dry-run")) {
            return "dry_run";
        }
        if (result.startsWith("skipped")) {
            return "skipped";
        }
        if (result.startsWith("failed") || result.contains("errors:")) {
            return "failed";
        }
        if (result.startsWith(ControlLoops.KILLED_DIRECTLY)) {
            return "direct_kill";
        }
        if (result.startsWith("not evicted")) {
            return "not_evicted";
        }
        return "ok";
    }

    private static void node(NodeStatus.Node n, List<MetricSnapshot> out) {
        out.add(bytes("memwarden_node_memory_capacity_bytes",
                "Node memory capacity: MemTotal (less a hypervisor's balloon where its pages still count in MemTotal), or"
                        + " the limit of the cgroup standing in for the node (--confine).",
                n.capacityBytes()));
        out.add(bytes("memwarden_node_memory_available_bytes",
                "The kubelet's memory.available: capacity minus the working set of the root memory cgroup.",
                n.availableBytes()));
        out.add(bytes("memwarden_node_swap_total_bytes", "SwapTotal of /proc/meminfo.", n.swapTotalBytes()));
        out.add(bytes("memwarden_node_swap_free_bytes", "SwapFree of /proc/meminfo.", n.swapFreeBytes()));
        out.add(counter("memwarden_node_swap_in_pages", "Pages swapped in since boot (pswpin of /proc/vmstat).",
                List.of(counterPoint(Labels.EMPTY, n.swapInPages()))));
        NodeStatus.Balloon b = n.balloon();
        if (b != null) {
            out.add(bytes("memwarden_node_balloon_bytes", "Memory a hypervisor's balloon holds in this node (a VM;"
                    + " virtio_balloon or vmw_balloon).", b.balloonBytes()));
            out.add(GaugeSnapshot.builder().name("memwarden_node_balloon_growth_bytes_per_second")
                    .help("How fast the balloon grows, over the last 2 s (negative: it deflates).")
                    .dataPoint(gaugePoint(Labels.EMPTY, b.growthBytesPerSecond())).build());
            out.add(bytes("memwarden_node_memory_physical_bytes", "The node's memory with the balloon empty.",
                    b.physicalBytes()));
            out.add(bytes("memwarden_node_balloon_overcommit_bytes", "The managed pods' memory requests above the"
                    + " capacity the balloon left (0 when they fit): the scheduler placed them on an allocatable the"
                    + " balloon does not change.", b.overcommitBytes()));
            out.add(GaugeSnapshot.builder().name("memwarden_node_free_page_reporting")
                    .help("1 when the guest reports free pages to the hypervisor (virtio free page reporting; not"
                            + " pressure).")
                    .dataPoint(gaugePoint(Labels.EMPTY, b.freePageReporting() ? 1 : 0)).build());
        }
        NodeStatus.Guard g = n.guard();
        if (g != null) {
            out.add(GaugeSnapshot.builder().name("memwarden_node_memory_pressure")
                    .help("The kubelet's MemoryPressure condition as memwarden computes it from the kubelet's memory"
                            + " eviction thresholds: 1 while one is met and until none was for"
                            + " evictionPressureTransitionPeriod, else 0.")
                    .dataPoint(gaugePoint(Labels.EMPTY, g.memoryPressure() ? 1 : 0)).build());
            GaugeSnapshot.Builder level = GaugeSnapshot.builder().name("memwarden_guard_level")
                    .help("The pressure guard's level after its last round (1 for the current one): none, soft or"
                            + " hard, from memwarden's own thresholds or the kubelet's, whichever is higher.");
            for (String l : List.of("NONE", "SOFT", "HARD")) {
                level.dataPoint(gaugePoint(Labels.of("level", l.toLowerCase(java.util.Locale.ROOT)),
                        l.equals(g.level()) ? 1 : 0));
            }
            out.add(level.build());
            if (g.allocatableAvailableBytes() != null) {
                out.add(bytes("memwarden_node_allocatable_memory_available_bytes",
                        "The kubelet's allocatableMemory.available: the kubepods cgroup's memory limit minus its"
                                + " working set.", g.allocatableAvailableBytes()));
            }
        }
        Pressure p = n.psi();
        if (p != null) {
            out.add(GaugeSnapshot.builder().name("memwarden_node_pressure_avg10")
                    .help("PSI avg10 of /proc/pressure/memory as a ratio (0-1, the kernel's percent / 100): share of"
                            + " the last 10 s in which some or all (full) tasks stalled on memory.")
                    .dataPoint(gaugePoint(Labels.of("kind", "some", "resource", "memory"), p.someAvg10() / 100))
                    .dataPoint(gaugePoint(Labels.of("kind", "full", "resource", "memory"), p.fullAvg10() / 100))
                    .build());
            out.add(CounterSnapshot.builder().name("memwarden_node_pressure_stalled_seconds")
                    .help("PSI total of /proc/pressure/memory: seconds in which some or all (full) tasks stalled on"
                            + " memory.")
                    .unit(Unit.SECONDS)
                    .dataPoint(counterPoint(Labels.of("kind", "some", "resource", "memory"),
                            p.someTotalMicros() / 1e6))
                    .dataPoint(counterPoint(Labels.of("kind", "full", "resource", "memory"),
                            p.fullTotalMicros() / 1e6))
                    .build());
        }
    }

    private static void containers(List<NodeStatus.Container> cs, List<MetricSnapshot> out) {
        List<NodeStatus.Container> seen = cs.stream().filter(c -> c.memory() != null).toList();
        out.add(containerGauge("memwarden_container_memory_usage_bytes",
                "cgroup memory usage (v2 memory.current, v1 memory.usage_in_bytes).", seen,
                m -> m.usageBytes(), false));
        out.add(containerGauge("memwarden_container_memory_working_set_bytes",
                "Working set as cAdvisor and the kubelet count it: usage minus inactive file pages.", seen,
                m -> m.workingSetBytes(), false));
        out.add(containerGauge("memwarden_container_swap_usage_bytes",
                "Swap used by the cgroup (v2 memory.swap.current, v1 memory.stat swap).", seen,
                m -> m.swapBytes(), false));
        out.add(containerGauge("memwarden_container_memory_limit_bytes",
                "Hard memory limit (v2 memory.max, v1 memory.limit_in_bytes); +Inf when unlimited.", seen,
                m -> m.limitBytes(), true));
        out.add(containerGauge("memwarden_container_swap_limit_bytes",
                "Swap limit (v2 memory.swap.max, v1 memory.memsw.limit_in_bytes minus the memory limit); +Inf when"
                        + " unlimited.", seen, m -> m.swapLimitBytes(), true));
        out.add(containerGauge("memwarden_container_memory_high_bytes",
                "Throttle threshold v2 memory.high; +Inf when max; absent on cgroup v1, which has none.",
                seen.stream().filter(c -> c.memory().cgroupVersion() == 2).toList(), m -> m.highBytes(), true));
        CounterSnapshot.Builder events = CounterSnapshot.builder().name("memwarden_container_memory_events")
                .help("cgroup memory events: v2 memory.events high, max, oom, oom_kill; v1 failcnt (limit hits) and"
                        + " oom_kill (memory.oom_control).");
        for (NodeStatus.Container c : seen) {
            for (String e : EVENTS) {
                Long v = c.memory().events().get(e);
                if (v != null) {
                    events.dataPoint(counterPoint(containerLabels(c).add("event", e), v));
                }
            }
        }
        out.add(events.build());
    }

    private static GaugeSnapshot containerGauge(String name, String help, List<NodeStatus.Container> cs,
                                                ToLongFunction<NodeStatus.Memory> value, boolean limit) {
        GaugeSnapshot.Builder b = GaugeSnapshot.builder().name(name).help(help).unit(Unit.BYTES);
        for (NodeStatus.Container c : cs) {
            long v = value.applyAsLong(c.memory());
            b.dataPoint(gaugePoint(containerLabels(c), limit && v < 0 ? Double.POSITIVE_INFINITY : v));
        }
        return b.build();
    }

    static Labels containerLabels(NodeStatus.Container c) {
        return Labels.of(CONTAINER_LABELS, new String[] {c.namespace(), c.pod(), c.container(), c.qosClass()});
    }

    private static GaugeSnapshot bytes(String name, String help, double value) {
        return GaugeSnapshot.builder().name(name).help(help).unit(Unit.BYTES)
                .dataPoint(gaugePoint(Labels.EMPTY, value)).build();
    }

    private static CounterSnapshot counter(String name, String help, List<CounterDataPointSnapshot> points) {
        CounterSnapshot.Builder b = CounterSnapshot.builder().name(name).help(help);
        points.forEach(b::dataPoint);
        return b.build();
    }

    private static GaugeDataPointSnapshot gaugePoint(Labels labels, double value) {
        return GaugeDataPointSnapshot.builder().labels(labels).value(value).build();
    }

    private static CounterDataPointSnapshot counterPoint(Labels labels, double value) {
        return CounterDataPointSnapshot.builder().labels(labels).value(value).build();
    }
}
