package io.memwarden.k8s;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.memwarden.model.Clock;
import io.memwarden.model.OomEvent;
import java.time.Duration;
import java.util.Objects;

/**
 * {@link ClusterActions} on the Kubernetes API through a fabric8 {@link KubernetesClient}, wiring three parts:
 * core/v1 Events ({@link EventRecorder}: a bounded queue sent asynchronously, correlated by {@link EventCorrelator}),
 * policy/v1 Evictions ({@link Evictions}), and this Node's swap label and taint ({@link NodeMarking})
 * (docs/kubernetes.md).
 *
 * <p>Never throws on API failure: failures are logged and counted in {@link #stats()}. Requests go through a client
 * derived from the given one without fabric8's retries (it retries 429 and 5xx with backoff, which would hide a
 * PodDisruptionBudget refusal for seconds) and with {@link Options#requestTimeout()}. The given client stays the
 * caller's: {@link #close()} does not close it.
 */
public final class KubeCluster implements ClusterActions {
    /** The node label and taint key. */
    public static final String SWAP_KEY = NodeMarking.SWAP_KEY;
    /** The effect of memwarden's taint. */
    public static final String TAINT_EFFECT = NodeMarking.TAINT_EFFECT;
    /** Reason of the Warning event {@link #evict} records on the pod when the API accepted the eviction. */
    public static final String REASON_EVICTING = Evictions.REASON_EVICTING;
    /** The kubelet's reason for a system OOM (kubelet-semantics.md §6). */
    public static final String REASON_SYSTEM_OOM = EventRecorder.REASON_SYSTEM_OOM;

    /**
     * What KubeCluster does and how much.
     *
     * @param component         event {@code source.component} and {@code reportingComponent} ("memwarden")
     * @param events            send Events (false: podEvent/nodeEvent/systemOom do nothing)
     * @param evictions         call the Eviction API (false: evict returns not-evicted, "evictions disabled")
     * @param nodeMarking       patch this Node's label/taint (false: markNode does nothing)
     * @param queueCapacity     pending events kept; more are dropped and counted
     * @param aggregationWindow a repeat within this time of the last occurrence updates the existing Event
     * @param spamBurst         events one object may get at once (client-go: 25)
     * @param spamRefill        one more event per object every this long (client-go: 5 minutes)
     * @param requestTimeout    per-request timeout of every API call
     */
    public record Options(String component, boolean events, boolean evictions, boolean nodeMarking, int queueCapacity,
                          Duration aggregationWindow, int spamBurst, Duration spamRefill, Duration requestTimeout) {
        public Options {
            if (component == null || component.isBlank()) {
                throw new IllegalArgumentException("event component is missing");
            }
            if (queueCapacity < 1) {
                throw new IllegalArgumentException("event queue capacity must be at least 1, got " + queueCapacity);
            }
            Objects.requireNonNull(aggregationWindow, "aggregationWindow");
            Objects.requireNonNull(spamRefill, "spamRefill");
            if (requestTimeout == null || requestTimeout.isNegative() || requestTimeout.isZero()) {
                throw new IllegalArgumentException("request timeout must be positive, got " + requestTimeout);
            }
        }

        /** memwarden, everything on, 1024 queued events, 10 min window, burst 25 + 1 per 5 min, 10 s timeout. */
        public static Options defaults() {
            return new Options("memwarden", true, true, true, 1024, Duration.ofMinutes(10), 25, Duration.ofMinutes(5),
                    Duration.ofSeconds(10));
        }

        public Options withEvents(boolean on) {
            return new Options(component, on, evictions, nodeMarking, queueCapacity, aggregationWindow, spamBurst,
                    spamRefill, requestTimeout);
        }

        public Options withEvictions(boolean on) {
            return new Options(component, events, on, nodeMarking, queueCapacity, aggregationWindow, spamBurst,
                    spamRefill, requestTimeout);
        }

        public Options withNodeMarking(boolean on) {
            return new Options(component, events, evictions, on, queueCapacity, aggregationWindow, spamBurst,
                    spamRefill, requestTimeout);
        }

        public Options withQueueCapacity(int capacity) {
            return new Options(component, events, evictions, nodeMarking, capacity, aggregationWindow, spamBurst,
                    spamRefill, requestTimeout);
        }

        public Options withRateLimit(int burst, Duration refill) {
            return new Options(component, events, evictions, nodeMarking, queueCapacity, aggregationWindow, burst,
                    refill, requestTimeout);
        }

        public Options withRequestTimeout(Duration timeout) {
            return new Options(component, events, evictions, nodeMarking, queueCapacity, aggregationWindow, spamBurst,
                    spamRefill, timeout);
        }
    }

    /**
     * Counters since construction (for logs and /metrics).
     *
     * @param eventsCreated     Events created
     * @param eventsUpdated     repeats recorded by patching an existing Event's count
     * @param eventsRateLimited dropped by the per-object rate limit
     * @param eventsDropped     dropped because the queue was full (or after close)
     * @param eventsFailed      the API call failed (logged)
     * @param evictions         evictions the API accepted
     * @param evictionsRefused  refused with 429 (PodDisruptionBudget)
     * @param evictionsFailed   other failures (pod not found, API down, 5xx)
     * @param nodeWrites        Node patches written (no write when already as wanted)
     * @param nodeFailures      Node reads/patches that failed
     */
    public record Stats(long eventsCreated, long eventsUpdated, long eventsRateLimited, long eventsDropped,
                        long eventsFailed, long evictions, long evictionsRefused, long evictionsFailed,
                        long nodeWrites, long nodeFailures) {}

    private final String nodeName;
    private final Options options;
    private final EventRecorder events;
    private final Evictions evictions;
    private final NodeMarking nodeMarking;
    private final KubeVirtObjects kubevirt;

    /** With {@link Options#defaults()} and the system clock. */
    public KubeCluster(KubernetesClient client, String nodeName) {
        this(client, nodeName, Options.defaults(), Clock.SYSTEM);
    }

    /**
     * @param client   the caller's client (kubeconfig or in-cluster); not closed by {@link #close()}
     * @param nodeName this node's name as the API knows it (events' {@code source.host}, the Node to mark)
     * @param clock    wall time for event timestamps, aggregation and the rate limit
     */
    public KubeCluster(KubernetesClient client, String nodeName, Options options, Clock clock) {
        Objects.requireNonNull(client, "client");
        if (nodeName == null || nodeName.isBlank()) {
            throw new IllegalArgumentException("node name is missing");
        }
        this.nodeName = nodeName;
        this.options = Objects.requireNonNull(options, "options");
        Objects.requireNonNull(clock, "clock");
        KubernetesClient api = ApiCalls.withoutRetries(client, options.requestTimeout());
        this.events = new EventRecorder(api, nodeName, options, clock);
        this.evictions = new Evictions(api, options.evictions(), events);
        this.nodeMarking = new NodeMarking(api, nodeName, options.nodeMarking());
        this.kubevirt = new KubeVirtObjects(api);
    }

    public String nodeName() {
        return nodeName;
    }

    public Options options() {
        return options;
    }

    public Stats stats() {
        return new Stats(events.created(), events.updated(), events.rateLimited(), events.dropped(), events.failed(),
                evictions.accepted(), evictions.refused(), evictions.failed(), nodeMarking.writes(),
                nodeMarking.failures());
    }

    @Override
    public void systemOom(OomEvent e) {
        events.systemOom(e);
    }

    /** The pod's uid is read from the API when the Event is created (omitted if the pod cannot be read). */
    @Override
    public void podEvent(String namespace, String pod, String type, String reason, String message) {
        events.podEvent(namespace, pod, null, type, reason, message);
    }

    @Override
    public void podEvent(String namespace, String pod, String uid, String type, String reason, String message) {
        events.podEvent(namespace, pod, uid, type, reason, message);
    }

    @Override
    public void nodeEvent(String type, String reason, String message) {
        events.nodeEvent(type, reason, message);
    }

    /**
     * Waits until every queued event has been handled (sent, dropped or failed). For tests and orderly shutdown.
     *
     * @return whether the queue drained within {@code timeout}
     */
    public boolean flush(Duration timeout) {
        return events.flush(timeout);
    }

    @Override
    public EvictionOutcome evict(String namespace, String pod, String message) {
        return evictions.evict(namespace, pod, message);
    }

    @Override
    public EvictionOutcome evict(String namespace, String pod, String message, long graceSeconds) {
        return evictions.evict(namespace, pod, message, graceSeconds);
    }

    @Override
    public void markNode(String swapBehavior, boolean swapOn, boolean label, boolean taint) {
        nodeMarking.mark(swapBehavior, swapOn, label, taint);
    }

    /** Reads this Node (one GET); a failure is counted in {@code nodeFailures}, logged, and gives null. */
    @Override
    public NodeMetadata nodeMetadata() {
        return nodeMarking.metadata();
    }

    @Override
    public String virtualMachineInstance(String namespace, String name) {
        return kubevirt.virtualMachineInstance(namespace, name);
    }

    @Override
    public String kubeVirt() {
        return kubevirt.kubeVirt();
    }

    /** Stops taking events, sends what is queued (up to the request timeout), stops the sender. */
    @Override
    public void close() {
        events.close();
    }
}
