package io.memwarden.view;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * The {@code GET /status} document as a client reads it (docs/metrics.md). Fields the server leaves out are null;
 * fields this client does not know are ignored, so a newer server still parses.
 *
 * @param actionsTotal  every loop action of the run; {@code recentActions} holds only the newest of them
 * @param oomKills      null when the server does not read the kernel log
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record StatusDoc(long atMillis, Node node, List<Container> containers, int actionsTotal,
                        List<Action> recentActions, OomKills oomKills) {

    public StatusDoc {
        containers = containers == null ? List.of() : List.copyOf(containers);
        recentActions = recentActions == null ? List.of() : List.copyOf(recentActions);
    }

    private static final ObjectMapper JSON = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .build();

    /**
     * Parses a {@code /status} body.
     *
     * @throws IllegalArgumentException naming what is wrong when it is not such a document
     */
    public static StatusDoc parse(String json) {
        StatusDoc d;
        try {
            d = JSON.readValue(json, StatusDoc.class);
        } catch (tools.jackson.core.JacksonException e) {
            throw new IllegalArgumentException("not a memwarden status document: " + e.getOriginalMessage());
        }
        if (d == null || d.node() == null) {
            throw new IllegalArgumentException("not a memwarden status document: no \"node\" object");
        }
        return d;
    }

    /**
     * Node memory, swap and PSI (the kubelet's view, or the cgroup standing in for the node).
     *
     * @param balloon a hypervisor's balloon when the node is a VM with one; null otherwise (or an older server)
     * @param guard   the pressure guard's level and the MemoryPressure condition; null without the guard (or an
     *                older server)
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Node(long capacityBytes, long availableBytes, long swapTotalBytes, long swapFreeBytes,
                       long swapInPages, Psi psi, Balloon balloon, Guard guard) {

        /** A node without the guard's state. */
        public Node(long capacityBytes, long availableBytes, long swapTotalBytes, long swapFreeBytes,
                    long swapInPages, Psi psi, Balloon balloon) {
            this(capacityBytes, availableBytes, swapTotalBytes, swapFreeBytes, swapInPages, psi, balloon, null);
        }
    }

    /**
     * The pressure guard: its level (NONE, SOFT, HARD), the kubelet's MemoryPressure condition as memwarden computes
     * it (with evictionPressureTransitionPeriod's hysteresis), the kubelet thresholds met in its last round.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Guard(String level, boolean memoryPressure, String reason, Long pressureLastObservedMillis,
                        long transitionPeriodSeconds, List<String> thresholdsMet, Long allocatableAvailableBytes) {
        public Guard {
            thresholdsMet = thresholdsMet == null ? List.of() : List.copyOf(thresholdsMet);
        }
    }

    /**
     * Which threshold made the pressure guard act: {@code by} "memwarden" (its loops.guard.*) or "kubelet", the
     * threshold in words, the signal's available bytes then, where the other side stood ({@code versus}), the whole
     * sentence ({@code line}) and an eviction's pod grace period.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record ActedOn(String by, String threshold, String signal, long availableBytes, long thresholdBytes,
                          String versus, String line, Long podGraceSeconds) {}

    /** The node's balloon: its size, the memory with it empty (physical) and what it left (effective). */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Balloon(String driver, long physicalBytes, long balloonBytes, long effectiveBytes,
                          double growthBytesPerSecond, boolean freePageReporting, String source,
                          long podRequestsBytes) {}

    /** PSI averages in percent. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Psi(double someAvg10, double someAvg60, double someAvg300, double fullAvg10, double fullAvg60,
                      double fullAvg300) {}

    /**
     * One managed container.
     *
     * @param memory     null once its cgroup is gone
     * @param psi        the container cgroup's {@code memory.pressure}, when the server sends it (memwarden run does
     *                   not today)
     * @param lastAction null before any loop action concerned it
     * @param plan       null when the server knows no plan for it
     * @param offload    the offload loop's numbers; null when it never acted on the container (or the server is
     *                   older)
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Container(String namespace, String pod, String container, boolean init, String qosClass,
                            String swapBehavior, boolean running, Integer exitCode, Memory memory, Psi psi,
                            Action lastAction, ContainerPlan plan, Offload offload) {

        /** {@code NS/POD}. */
        public String podKey() {
            return namespace + "/" + pod;
        }
    }

    /**
     * The offload loop's numbers for a container: bytes moved out since the server started, and its working-set
     * estimate (usage when probing last met pressure) with when and how it was found; the estimate's fields are null
     * before one was made.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Offload(long offloadedBytes, Long workingSetEstimateBytes, Long estimateAtMillis,
                          String estimateHow) {}

    /** Cgroup numbers; limits are bytes or -1 for unlimited; {@code highBytes} is -1 on v1. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Memory(int cgroupVersion, long usageBytes, long workingSetBytes, long swapBytes, long limitBytes,
                         long swapLimitBytes, long highBytes, Map<String, Long> events) {
        public Memory {
            events = events == null ? Map.of() : events;
        }
    }

    /** The container's plan entry ({@code memwarden plan -o json}, docs/plan-output.md). */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record ContainerPlan(String name, boolean init, String swapBehavior, Integer oomScoreAdj,
                                Map<String, String> cgroup, List<String> reasons) {
        public ContainerPlan {
            cgroup = cgroup == null ? Map.of() : cgroup;
            reasons = reasons == null ? List.of() : List.copyOf(reasons);
        }
    }

    /**
     * One control-loop action; {@code container} is null when it concerned the whole pod; {@code actedOn} is the
     * pressure guard's threshold that acted (null for the other loops, or an older server).
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Action(long atMillis, String loop, String namespace, String pod, String container, String action,
                         String trigger, String result, ActedOn actedOn) {

        /** An action without {@code actedOn}. */
        public Action(long atMillis, String loop, String namespace, String pod, String container, String action,
                      String trigger, String result) {
            this(atMillis, loop, namespace, pod, container, action, trigger, result, null);
        }

        /** Whether it concerned this container (directly, or its whole pod). */
        public boolean concerns(String ns, String podName, String containerName) {
            return ns.equals(namespace) && podName.equals(pod)
                    && (container == null || containerName == null || container.equals(containerName));
        }
    }

    /**
     * Kernel OOM kills since the server started watching.
     *
     * @param series the kills by kind ("cgroup", "system"), pod, container and victim process (bounded by the server;
     *               empty from an older server)
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record OomKills(long system, long cgroup, List<OomSeries> series) {
        public OomKills {
            series = series == null ? List.of() : List.copyOf(series);
        }

        public OomKills(long system, long cgroup) {
            this(system, cgroup, List.of());
        }

        /** Kills of this kind attributed to this container ({@code container} null: the whole pod). */
        public long count(String kind, String namespace, String pod, String container) {
            return series.stream().filter(s -> kind.equals(s.kind()) && namespace.equals(s.namespace())
                    && pod.equals(s.pod()) && (container == null || container.equals(s.container())))
                    .mapToLong(OomSeries::count).sum();
        }
    }

    /** One series of kills: its kind, pod, container, victim process and count. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record OomSeries(String kind, String namespace, String pod, String container, String victim, long count) {}
}
