package io.memwarden.loops;

import io.memwarden.model.Pressure;
import io.memwarden.policy.Plan;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What memwarden knows about this node at one moment: node memory, swap and PSI, every managed container with its
 * cgroup's numbers and its plan, and the control loops' actions so far. Immutable; one is read per scrape or status
 * request ({@link RunStatus#status()}), so the metrics and the status API always show one consistent moment.
 *
 * @param atMillis  when it was read (epoch millis)
 * @param actions   every loop action so far, oldest first (append-only across calls of one source)
 * @param oomKills  kernel OOM kills seen in the kernel log since memwarden started watching; null when not watched
 */
public record NodeStatus(long atMillis, Node node, List<Container> containers, List<LoopAction> actions,
                         OomKills oomKills, long actionsDropped) {

    /**
     * @param actionsDropped actions older than {@code actions} that a bounded history no longer holds: the first of
     *                       {@code actions} is action number {@code actionsDropped} (from 0) of the source
     */
    public NodeStatus {
        containers = List.copyOf(containers);
        actions = List.copyOf(actions);
    }

    /** A status whose source keeps every action. */
    public NodeStatus(long atMillis, Node node, List<Container> containers, List<LoopAction> actions,
                      OomKills oomKills) {
        this(atMillis, node, containers, actions, oomKills, 0);
    }

    /**
     * The node as the kubelet's eviction manager sees it (or the cgroup that stands in for it, see
     * {@code memwarden run --confine}).
     *
     * @param capacityBytes       MemTotal, or the standing-in cgroup's limit
     * @param availableBytes      capacity − working set (the kubelet's {@code memory.available})
     * @param swapInPages         cumulative pages swapped in ({@code pswpin} in /proc/vmstat)
     * @param psi                 {@code /proc/pressure/memory} (or the standing-in cgroup's); null without PSI
     * @param balloon             the hypervisor's balloon when the node is a VM with a balloon driver; else null
     * @param guard               the pressure guard's level and the MemoryPressure condition; null without the guard
     */
    public record Node(long capacityBytes, long availableBytes, long swapTotalBytes, long swapFreeBytes,
                       long swapInPages, Pressure psi, Balloon balloon, Guard guard) {

        /** A node without the guard's state. */
        public Node(long capacityBytes, long availableBytes, long swapTotalBytes, long swapFreeBytes,
                    long swapInPages, Pressure psi, Balloon balloon) {
            this(capacityBytes, availableBytes, swapTotalBytes, swapFreeBytes, swapInPages, psi, balloon, null);
        }

        /** A node without a balloon. */
        public Node(long capacityBytes, long availableBytes, long swapTotalBytes, long swapFreeBytes,
                    long swapInPages, Pressure psi) {
            this(capacityBytes, availableBytes, swapTotalBytes, swapFreeBytes, swapInPages, psi, null);
        }
    }

    /**
     * A hypervisor's memory balloon in this node (the control loops' last round; docs/vm-nodes.md).
     *
     * @param driver               {@code virtio_balloon} or {@code vmw_balloon}
     * @param physicalBytes        the guest's memory with the balloon empty
     * @param balloonBytes         what the balloon holds now
     * @param effectiveBytes       physical − balloon: what the hypervisor left, the guard's capacity
     * @param growthBytesPerSecond the balloon's growth over the last 2 s (negative: deflating)
     * @param freePageReporting    the guest reports free pages to the host (recorded; not pressure)
     * @param source               where the size was read ("meminfo Balloon", "vmstat nr_balloon_pages", ...)
     * @param podRequestsBytes     the managed pods' memory requests: the scheduler placed them on an allocatable the
     *                             balloon does not change; above {@code effectiveBytes} the node is overcommitted
     */
    public record Balloon(String driver, long physicalBytes, long balloonBytes, long effectiveBytes,
                          double growthBytesPerSecond, boolean freePageReporting, String source,
                          long podRequestsBytes) {

        /** The requests above what the hypervisor left (0 when they fit). */
        public long overcommitBytes() {
            return Math.max(0, podRequestsBytes - effectiveBytes);
        }
    }

    /**
     * One managed container.
     *
     * @param qosClass     Guaranteed, Burstable or BestEffort (the pod's)
     * @param swapBehavior the plan's swap behaviour (NoSwap, LimitedSwap, UnlimitedSwap, ...)
     * @param exitCode     null while running
     * @param memory       its cgroup's numbers; null once the cgroup is gone
     * @param lastAction   the newest loop action that concerned it (or its whole pod); null if none
     * @param plan         its plan with reasons; null if unknown
     */
    public record Container(String namespace, String pod, String container, boolean init, String qosClass,
                            String swapBehavior, boolean running, Integer exitCode, Memory memory,
                            LoopAction lastAction, Plan.ContainerPlan plan, Offload offload) {}

    /**
     * What the offload loop knows of a container; null for a container it never acted on.
     *
     * @param offloadedBytes          bytes it moved out of the container's memory since the agent started
     * @param workingSetEstimateBytes the container's usage when probing last met pressure (stall at the target, or
     *                                offloaded pages swapped back in); null before that happened
     * @param estimateAtMillis        when that estimate was made, epoch millis; null with no estimate
     * @param estimateHow             what met pressure ("stall", "refaults", ...); null with no estimate
     */
    public record Offload(long offloadedBytes, Long workingSetEstimateBytes, Long estimateAtMillis,
                          String estimateHow) {}

    /**
     * A container cgroup's numbers. Limits are bytes, or -1 for unlimited ({@code max}, or v1's 2^63 − page).
     *
     * @param cgroupVersion  1 or 2
     * @param swapLimitBytes v2 {@code memory.swap.max}; v1 {@code memsw − limit}
     * @param highBytes      v2 {@code memory.high}; -1 on v1, which has none
     * @param events         v2 {@code memory.events} ({@code high}, {@code max}, {@code oom}, {@code oom_kill}, ...);
     *                       v1 {@code failcnt}, {@code oom_kill} (from memory.oom_control), ...
     */
    public record Memory(int cgroupVersion, long usageBytes, long workingSetBytes, long swapBytes, long limitBytes,
                         long swapLimitBytes, long highBytes, Map<String, Long> events) {
        public Memory {
            events = Collections.unmodifiableMap(new LinkedHashMap<>(events));
        }
    }

    /**
     * One control-loop action (or, in dry-run, one that would have been taken).
     *
     * @param atMillis  when it was taken (epoch millis; {@link RunStatus} converts from the loops' monotonic clock)
     * @param container null when it concerned the whole pod (eviction)
     * @param action    free text, e.g. "reclaim 1048576 bytes", "memory.high=123", "evict: ..."
     * @param result    free text, e.g. "ok", "dry-run", "reclaimed 4096 bytes", "failed: ...", "skipped: ..."
     */
    public record LoopAction(long atMillis, String loop, String namespace, String pod, String container, String action,
                             String trigger, String result, ActedOn actedOn) {

        /** An action without {@code actedOn} (not the pressure guard's). */
        public LoopAction(long atMillis, String loop, String namespace, String pod, String container, String action,
                          String trigger, String result) {
            this(atMillis, loop, namespace, pod, container, action, trigger, result, null);
        }
    }

    /**
     * Which threshold made the pressure guard act (docs/control-loops.md "The kubelet's eviction settings").
     *
     * @param by              "memwarden" (its own {@code loops.guard.*}) or "kubelet" (the KubeletConfiguration's)
     * @param threshold       e.g. "loops.guard.hardAvailable 200Mi", "evictionHard memory.available<100Mi"
     * @param signal          memory.available or allocatableMemory.available
     * @param availableBytes  the signal's available bytes when the guard decided
     * @param thresholdBytes  the threshold in bytes (0 for PSI and balloon triggers)
     * @param versus          where the other side's thresholds stood then
     * @param line            the whole sentence, e.g. "guard acted at 180Mi memory.available (memwarden
     *                        loops.guard.hardAvailable 200Mi), before the kubelet's hard threshold memory.available<100Mi"
     * @param podGraceSeconds an eviction's pod grace period (1 at HARD, else min(evictionMaxPodGracePeriod,
     *                        terminationGracePeriodSeconds)); null for other actions
     */
    public record ActedOn(String by, String threshold, String signal, long availableBytes, long thresholdBytes,
                          String versus, String line, Long podGraceSeconds) {}

    /**
     * The pressure guard's state after the last round.
     *
     * @param level                 NONE, SOFT or HARD (memwarden's own thresholds or the kubelet's, whichever is higher)
     * @param memoryPressure        the MemoryPressure condition as the kubelet computes it from its memory thresholds:
     *                              true while one is met, and until none was for the transition period
     * @param reason                KubeletHasInsufficientMemory or KubeletHasSufficientMemory
     * @param pressureLastObservedMillis when a kubelet threshold was last met (epoch millis), null if never
     * @param transitionPeriodSeconds evictionPressureTransitionPeriod
     * @param thresholdsMet         the kubelet thresholds met in the last round, each "evictionHard
     *                              memory.available<100Mi" plus whether it acts or is within its grace period
     * @param allocatableAvailableBytes allocatableMemory.available (kubepods limit − working set); null when not
     *                              observed
     */
    public record Guard(String level, boolean memoryPressure, String reason, Long pressureLastObservedMillis,
                        long transitionPeriodSeconds, List<String> thresholdsMet, Long allocatableAvailableBytes) {
        public Guard {
            thresholdsMet = List.copyOf(thresholdsMet);
        }
    }

    /**
     * OOM kills parsed from the kernel log since the watch started.
     *
     * @param system global OOMs (the victim cgroup is "/"; the kubelet's SystemOOM)
     * @param cgroup kills at a memory cgroup's limit (CONSTRAINT_MEMCG)
     * @param series the same kills by kind, pod, container and victim process, bounded ({@link OomKillSeries})
     */
    public record OomKills(long system, long cgroup, List<OomKillSeries.Series> series) {
        public OomKills {
            series = List.copyOf(series);
        }

        /** Counts attributed to no pod: one unattributed series per kind. */
        public OomKills(long system, long cgroup) {
            this(system, cgroup, List.of(new OomKillSeries.Series("cgroup", "", "", "", "", cgroup),
                    new OomKillSeries.Series("system", "", "", "", "", system)));
        }
    }
}
