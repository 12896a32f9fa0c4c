package io.memwarden.k8s;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.api.model.TaintBuilder;
import io.fabric8.kubernetes.api.model.policy.v1.Eviction;
import io.fabric8.kubernetes.api.model.policy.v1.EvictionBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.RequestConfigBuilder;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.memwarden.model.OomEvent;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@link ClusterActions} on the Kubernetes API through a fabric8 {@link KubernetesClient}: core/v1 Events (sent
 * asynchronously from a bounded queue, correlated by {@link EventCorrelator}), policy/v1 Evictions, and this Node's
 * swap label and taint (docs/kubernetes.md).
 *
 * <p>Never throws on API failure: failures are logged and counted in {@link #stats()}. Requests go through a client
 * derived from the given one without fabric8's retries (it retries 429 and 5xx with backoff, which would hide a
 * PodDisruptionBudget refusal for seconds) and with {@link Options#requestTimeout()}. The given client stays the
 * caller's: {@link #close()} does not close it.
 */
public final class KubeCluster implements ClusterActions {
    private static final Logger LOG = LoggerFactory.getLogger(KubeCluster.class);

    /** The node label and taint key. */
    public static final String SWAP_KEY = "memwarden.io/swap";
    /** The effect of memwarden's taint. */
    public static final String TAINT_EFFECT = "NoSchedule";
    /** Reason of the Warning event {@link #evict} records on the pod when the API accepted the eviction. */
    public static final String REASON_EVICTING = "MemwardenEvicting";
    /** The kubelet's reason for a system OOM (kubelet-semantics.md §6). */
    public static final String REASON_SYSTEM_OOM = "SystemOOM";

    private static final Pattern LABEL_VALUE = Pattern.compile("([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?");
    private static final Pattern REASON = Pattern.compile("[A-Z][A-Za-z0-9]*");
    private static final DateTimeFormatter RFC3339 = DateTimeFormatter.ISO_INSTANT;
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final int MAX_CACHE_ENTRIES = 4096; // client-go's maxLruCacheEntries
    private static final int NODE_CONFLICT_RETRIES = 3;
    private static final String LABEL_PATH = "/metadata/labels/" + SWAP_KEY.replace("~", "~0").replace("/", "~1");

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

    private record Pending(EventCorrelator.ObjectKey object, String uid, String type, String reason, String message,
                           Instant at) {}

    private final KubernetesClient api;
    private final String nodeName;
    private final Options options;
    private final InstantSource clock;
    private final EventCorrelator correlator;
    private final BlockingQueue<Pending> queue;
    private final AtomicLong pending = new AtomicLong();
    private final Thread sender;
    private volatile boolean closed;

    private final AtomicLong eventsCreated = new AtomicLong();
    private final AtomicLong eventsUpdated = new AtomicLong();
    private final AtomicLong eventsRateLimited = new AtomicLong();
    private final AtomicLong eventsDropped = new AtomicLong();
    private final AtomicLong eventsFailed = new AtomicLong();
    private final AtomicLong evictions = new AtomicLong();
    private final AtomicLong evictionsRefused = new AtomicLong();
    private final AtomicLong evictionsFailed = new AtomicLong();
    private final AtomicLong nodeWrites = new AtomicLong();
    private final AtomicLong nodeFailures = new AtomicLong();

    /** With {@link Options#defaults()} and the system clock. */
    public KubeCluster(KubernetesClient client, String nodeName) {
        this(client, nodeName, Options.defaults(), InstantSource.system());
    }

    /**
     * @param client   the caller's client (kubeconfig or in-cluster); not closed by {@link #close()}
     * @param nodeName this node's name as the API knows it (events' {@code source.host}, the Node to mark)
     * @param clock    wall time for event timestamps, aggregation and the rate limit
     */
    public KubeCluster(KubernetesClient client, String nodeName, Options options, InstantSource clock) {
        Objects.requireNonNull(client, "client");
        if (nodeName == null || nodeName.isBlank()) {
            throw new IllegalArgumentException("node name is missing");
        }
        this.nodeName = nodeName;
        this.options = Objects.requireNonNull(options, "options");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.api = client.newClient(new RequestConfigBuilder(client.getConfiguration().getRequestConfig())
                        .withRequestRetryBackoffLimit(0)
                        .withRequestTimeout((int) Math.min(Integer.MAX_VALUE, options.requestTimeout().toMillis()))
                        .build())
                .adapt(KubernetesClient.class);
        this.correlator = new EventCorrelator(options.aggregationWindow(), options.spamBurst(), options.spamRefill(),
                MAX_CACHE_ENTRIES);
        this.queue = new ArrayBlockingQueue<>(options.queueCapacity());
        this.sender = Thread.ofPlatform().daemon().name("memwarden-k8s-events").unstarted(this::sendLoop);
        if (options.events()) {
            sender.start();
        }
    }

    public String nodeName() {
        return nodeName;
    }

    public Options options() {
        return options;
    }

    public Stats stats() {
        return new Stats(eventsCreated.get(), eventsUpdated.get(), eventsRateLimited.get(), eventsDropped.get(),
                eventsFailed.get(), evictions.get(), evictionsRefused.get(), evictionsFailed.get(), nodeWrites.get(),
                nodeFailures.get());
    }

    // ---- events ------------------------------------------------------------------------------------------------

    @Override
    public void systemOom(OomEvent e) {
        if (!"/".equals(e.victimCgroup())) {
            return; // a container, pod or kubepods limit: the kubelet records no SystemOOM either (§6)
        }
        nodeEvent("Warning", REASON_SYSTEM_OOM, e.systemOomMessage());
    }

    /** The pod's uid is read from the API when the Event is created (omitted if the pod cannot be read). */
    @Override
    public void podEvent(String namespace, String pod, String type, String reason, String message) {
        podEvent(namespace, pod, null, type, reason, message);
    }

    @Override
    public void podEvent(String namespace, String pod, String uid, String type, String reason, String message) {
        require("pod namespace", namespace);
        require("pod name", pod);
        enqueue(new EventCorrelator.ObjectKey("Pod", namespace, pod), uid == null || uid.isEmpty() ? null : uid, type,
                reason, message);
    }

    @Override
    public void nodeEvent(String type, String reason, String message) {
        enqueue(new EventCorrelator.ObjectKey("Node", "", nodeName), nodeName, type, reason, message);
    }

    private void enqueue(EventCorrelator.ObjectKey object, String uid, String type, String reason, String message) {
        if (!"Normal".equals(type) && !"Warning".equals(type)) {
            throw new IllegalArgumentException("event type must be Normal or Warning, got \"" + type + "\"");
        }
        if (reason == null || !REASON.matcher(reason).matches() || reason.length() > 128) {
            throw new IllegalArgumentException("event reason must be UpperCamelCase (at most 128 characters), got \""
                    + reason + "\"");
        }
        if (!options.events()) {
            return;
        }
        String m = message == null ? "" : message;
        if (closed) {
            eventsDropped.incrementAndGet();
            return;
        }
        pending.incrementAndGet();
        if (!queue.offer(new Pending(object, uid, type, reason, m, clock.instant()))) {
            pending.decrementAndGet();
            long n = eventsDropped.incrementAndGet();
            if (n == 1 || n % 100 == 0) {
                LOG.warn("event queue full ({} pending): dropped {} {} on {} {} ({} dropped so far)",
                        options.queueCapacity(), type, reason, object.kind(), name(object), n);
            }
        }
    }

    private void sendLoop() {
        while (true) {
            Pending p;
            try {
                p = queue.poll(100, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                return;
            }
            if (p == null) {
                if (closed) {
                    return;
                }
                continue;
            }
            try {
                send(p);
            } catch (RuntimeException e) { // never let the sender die
                eventsFailed.incrementAndGet();
                LOG.warn("event {} on {} {}: {}", p.reason(), p.object().kind(), name(p.object()), e.toString());
            } finally {
                pending.decrementAndGet();
            }
        }
    }

    private void send(Pending p) {
        switch (correlator.observe(p.object(), p.type(), p.reason(), p.message(), p.at())) {
            case EventCorrelator.Drop d -> {
                eventsRateLimited.incrementAndGet();
                LOG.debug("event {} on {} {} dropped by the rate limit", p.reason(), p.object().kind(),
                        name(p.object()));
            }
            case EventCorrelator.Create c -> create(p, c.name(), 1, c.first());
            case EventCorrelator.Update u -> update(p, u);
        }
    }

    private void create(Pending p, String name, int count, Instant first) {
        EventCorrelator.ObjectKey o = p.object();
        boolean node = o.kind().equals("Node");
        // the kubelet's nodeRef has uid = node name; a pod's uid is the caller's or read from the API
        String uid = p.uid() != null ? p.uid() : podUid(o.namespace(), o.name());
        String eventNamespace = node ? "default" : o.namespace();
        Event ev = new EventBuilder()
                .withNewMetadata().withName(name).withNamespace(eventNamespace).endMetadata()
                .withNewInvolvedObject().withKind(o.kind()).withApiVersion(node ? null : "v1").withName(o.name())
                .withNamespace(node ? null : o.namespace()).withUid(uid).endInvolvedObject()
                .withType(p.type()).withReason(p.reason()).withMessage(p.message())
                .withNewSource().withComponent(options.component()).withHost(nodeName).endSource()
                .withReportingComponent(options.component()).withReportingInstance(nodeName)
                .withFirstTimestamp(time(first)).withLastTimestamp(time(p.at())).withCount(count)
                .build();
        try {
            api.v1().events().inNamespace(eventNamespace).resource(ev).create();
            eventsCreated.incrementAndGet();
        } catch (KubernetesClientException e) {
            correlator.forget(o, p.type(), p.reason(), p.message());
            eventsFailed.incrementAndGet();
            LOG.warn("could not create event {} {} on {} {}: {}", p.type(), p.reason(), o.kind(), name(o), brief(e));
        }
    }

    private void update(Pending p, EventCorrelator.Update u) {
        EventCorrelator.ObjectKey o = p.object();
        String eventNamespace = o.kind().equals("Node") ? "default" : o.namespace();
        ObjectNode patch = JSON.createObjectNode();
        patch.put("count", u.count());
        patch.put("lastTimestamp", time(p.at()));
        try {
            api.v1().events().inNamespace(eventNamespace).withName(u.name())
                    .patch(PatchContext.of(PatchType.JSON_MERGE), JSON.writeValueAsString(patch));
            eventsUpdated.incrementAndGet();
        } catch (KubernetesClientException e) {
            if (e.getCode() == 404) { // expired (the API server's event TTL) or deleted: create it again
                create(p, u.name(), u.count(), u.first());
                return;
            }
            eventsFailed.incrementAndGet();
            LOG.warn("could not update event {} {} on {} {} (count {}): {}", p.type(), p.reason(), o.kind(), name(o),
                    u.count(), brief(e));
        }
    }

    /** The pod's uid (so that kubectl describe pod shows the event), or null when it cannot be read. */
    private String podUid(String namespace, String pod) {
        try {
            Pod p = api.pods().inNamespace(namespace).withName(pod).get();
            return p == null || p.getMetadata() == null ? null : p.getMetadata().getUid();
        } catch (KubernetesClientException e) {
            LOG.debug("uid of pod {}/{}: {}", namespace, pod, brief(e));
            return null;
        }
    }

    /**
     * Waits until every queued event has been handled (sent, dropped or failed). For tests and orderly shutdown.
     *
     * @return whether the queue drained within {@code timeout}
     */
    public boolean flush(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (pending.get() > 0) {
            if (System.nanoTime() > deadline || !sender.isAlive()) {
                return pending.get() == 0;
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    // ---- eviction ----------------------------------------------------------------------------------------------

    @Override
    public EvictionOutcome evict(String namespace, String pod, String message) {
        require("pod namespace", namespace);
        require("pod name", pod);
        String who = namespace + "/" + pod;
        if (!options.evictions()) {
            return new EvictionOutcome(false, "evictions are disabled in memwarden's configuration; " + who
                    + " not evicted");
        }
        Eviction eviction = new EvictionBuilder().withNewMetadata().withName(pod).withNamespace(namespace)
                .endMetadata().build();
        try {
            boolean accepted = api.pods().inNamespace(namespace).withName(pod).evict(eviction);
            if (!accepted) { // fabric8 returns false for HTTP 429
                evictionsRefused.incrementAndGet();
                String detail = "eviction of " + who + " refused (HTTP 429 Too Many Requests): its disruption budget"
                        + " (PodDisruptionBudget) does not allow a disruption now; retry later";
                LOG.info("{}", detail);
                return new EvictionOutcome(false, detail);
            }
        } catch (KubernetesClientException e) {
            evictionsFailed.incrementAndGet();
            String detail = e.getCode() == 404
                    ? "pod " + who + " not found (HTTP 404): nothing evicted"
                    : "eviction of " + who + " failed: " + brief(e);
            LOG.warn("{}", detail);
            return new EvictionOutcome(false, detail);
        } catch (RuntimeException e) {
            evictionsFailed.incrementAndGet();
            String detail = "eviction of " + who + " failed: " + e;
            LOG.warn("{}", detail);
            return new EvictionOutcome(false, detail);
        }
        evictions.incrementAndGet();
        LOG.info("evicted {} through the Eviction API: {}", who, message);
        if (message != null && !message.isEmpty()) {
            podEvent(namespace, pod, "Warning", REASON_EVICTING, message);
        }
        return new EvictionOutcome(true, "eviction of " + who + " accepted by the API (policy/v1)");
    }

    // ---- node label and taint ----------------------------------------------------------------------------------

    @Override
    public void markNode(String swapBehavior, boolean swapOn, boolean label, boolean taint) {
        boolean wantTaint = taint && swapOn;
        if ((label || wantTaint) && (swapBehavior == null || swapBehavior.isEmpty()
                || !LABEL_VALUE.matcher(swapBehavior).matches())) {
            throw new IllegalArgumentException("swap behaviour \"" + swapBehavior + "\" cannot be a label value (at"
                    + " most 63 characters: letters, digits, '-', '_', '.', starting and ending alphanumeric)");
        }
        if (!options.nodeMarking()) {
            return;
        }
        for (int attempt = 1; attempt <= NODE_CONFLICT_RETRIES; attempt++) {
            Node node;
            try {
                node = api.nodes().withName(nodeName).get();
            } catch (KubernetesClientException e) {
                nodeFailures.incrementAndGet();
                LOG.warn("could not read node {} to set its {} label/taint: {}", nodeName, SWAP_KEY, brief(e));
                return;
            }
            if (node == null) {
                nodeFailures.incrementAndGet();
                LOG.warn("node {} not found: its {} label/taint not set", nodeName, SWAP_KEY);
                return;
            }
            Map<String, String> labels = node.getMetadata().getLabels() == null ? Map.of()
                    : node.getMetadata().getLabels();
            String wantLabel = label ? swapBehavior : null;
            boolean labelOk = Objects.equals(labels.get(SWAP_KEY), wantLabel);

            List<Taint> current = node.getSpec() == null || node.getSpec().getTaints() == null ? List.of()
                    : node.getSpec().getTaints();
            List<Taint> wanted = new ArrayList<>();
            for (Taint t : current) {
                if (!isOurs(t)) {
                    wanted.add(t);
                }
            }
            if (wantTaint) {
                wanted.add(new TaintBuilder().withKey(SWAP_KEY).withValue(swapBehavior).withEffect(TAINT_EFFECT)
                        .build());
            }
            boolean taintOk = sameTaints(current, wanted);
            if (labelOk && taintOk) {
                return; // already as wanted: no write
            }
            // JSON Patch (RFC 6902): a test of the resourceVersion makes the write conditional (a concurrent
            // writer, e.g. the node lifecycle controller adding its taints, makes it fail and we re-read); the
            // taint list is replaced whole (Node taints have no merge key), with every other taint kept.
            ArrayNode ops = JSON.createArrayNode();
            ops.addObject().put("op", "test").put("path", "/metadata/resourceVersion")
                    .put("value", node.getMetadata().getResourceVersion());
            if (!labelOk) {
                if (wantLabel == null) {
                    ops.addObject().put("op", "remove").put("path", LABEL_PATH);
                } else if (node.getMetadata().getLabels() == null) {
                    ops.addObject().put("op", "add").put("path", "/metadata/labels").putObject("value")
                            .put(SWAP_KEY, wantLabel);
                } else {
                    ops.addObject().put("op", "add").put("path", LABEL_PATH).put("value", wantLabel);
                }
            }
            if (!taintOk) {
                ArrayNode list = JSON.createArrayNode();
                for (Taint t : wanted) {
                    list.add(JSON.valueToTree(taintMap(t)));
                }
                if (node.getSpec() == null) {
                    ops.addObject().put("op", "add").put("path", "/spec").putObject("value").set("taints", list);
                } else if (node.getSpec().getTaints() == null) {
                    ops.addObject().put("op", "add").put("path", "/spec/taints").set("value", list);
                } else if (wanted.isEmpty()) {
                    ops.addObject().put("op", "remove").put("path", "/spec/taints");
                } else {
                    ops.addObject().put("op", "replace").put("path", "/spec/taints").set("value", list);
                }
            }
            try {
                api.nodes().withName(nodeName).patch(PatchContext.of(PatchType.JSON), JSON.writeValueAsString(ops));
                nodeWrites.incrementAndGet();
                LOG.info("node {}: label {}={}, taint {}", nodeName, SWAP_KEY, wantLabel == null ? "(none)" : wantLabel,
                        wantTaint ? SWAP_KEY + "=" + swapBehavior + ":" + TAINT_EFFECT : "(none)");
                return;
            } catch (KubernetesClientException e) {
                if ((e.getCode() == 409 || e.getCode() == 422) && attempt < NODE_CONFLICT_RETRIES) {
                    LOG.debug("node {} changed while patching it (attempt {}): retrying", nodeName, attempt);
                    continue;
                }
                nodeFailures.incrementAndGet();
                LOG.warn("could not patch node {} ({} label/taint): {}", nodeName, SWAP_KEY, brief(e));
                return;
            }
        }
    }

    private static boolean isOurs(Taint t) {
        return SWAP_KEY.equals(t.getKey()) && TAINT_EFFECT.equals(t.getEffect());
    }

    private static boolean sameTaints(List<Taint> a, List<Taint> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (!taintMap(a.get(i)).equals(taintMap(b.get(i)))) {
                return false;
            }
        }
        return true;
    }

    private static Map<String, String> taintMap(Taint t) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("key", t.getKey());
        if (t.getValue() != null && !t.getValue().isEmpty()) {
            m.put("value", t.getValue());
        }
        m.put("effect", t.getEffect());
        if (t.getTimeAdded() != null) {
            m.put("timeAdded", t.getTimeAdded());
        }
        return m;
    }

    // ---- lifecycle ---------------------------------------------------------------------------------------------

    /** Stops taking events, sends what is queued (up to the request timeout), stops the sender. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (sender.isAlive()) {
            flush(options.requestTimeout());
            sender.interrupt();
            try {
                sender.join(options.requestTimeout().toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        long left = queue.size();
        if (left > 0) {
            queue.clear();
            eventsDropped.addAndGet(left);
            LOG.warn("{} events not sent at shutdown", left);
        }
    }

    // ---- helpers -----------------------------------------------------------------------------------------------

    private static String time(Instant t) {
        return RFC3339.format(t.truncatedTo(ChronoUnit.SECONDS));
    }

    private static String name(EventCorrelator.ObjectKey o) {
        return o.namespace().isEmpty() ? o.name() : o.namespace() + "/" + o.name();
    }

    private static void require(String what, String value) {
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException(what + " is missing");
        }
    }

    /** "HTTP 409: message" or, without an HTTP answer, the cause (connection refused, timeout). */
    static String brief(KubernetesClientException e) {
        if (e.getCode() > 0) {
            String m = e.getStatus() != null && e.getStatus().getMessage() != null ? e.getStatus().getMessage()
                    : e.getMessage();
            return "HTTP " + e.getCode() + ": " + m;
        }
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return "Kubernetes API unreachable: " + (root == e ? e.getMessage() : root.toString());
    }
}
