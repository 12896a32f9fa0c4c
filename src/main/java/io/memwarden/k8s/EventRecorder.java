package io.memwarden.k8s;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.memwarden.model.Clock;
import io.memwarden.model.OomEvent;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * core/v1 Events on pods and this Node, sent by one daemon thread from a bounded queue (a full queue drops and
 * counts, never blocks the caller); each occurrence goes through {@link EventCorrelator} first: a repeat within the
 * aggregation window patches the existing Event's count, an object over its rate limit gets nothing.
 */
final class EventRecorder implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(KubeCluster.class); // the log name users know

    /** The kubelet's reason for a system OOM (kubelet-semantics.md §6). */
    static final String REASON_SYSTEM_OOM = "SystemOOM";

    private static final Pattern REASON = Pattern.compile("[A-Z][A-Za-z0-9]*");
    private static final DateTimeFormatter RFC3339 = DateTimeFormatter.ISO_INSTANT;
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final int MAX_CACHE_ENTRIES = 4096; // client-go's maxLruCacheEntries

    private record Pending(EventCorrelator.ObjectKey object, String uid, String type, String reason, String message,
                           Instant at) {}

    private final KubernetesClient api;
    private final String nodeName;
    private final KubeCluster.Options options;
    private final Clock clock;
    private final EventCorrelator correlator;
    private final BlockingQueue<Pending> queue;
    private final AtomicLong pending = new AtomicLong();
    private final Thread sender;
    private volatile boolean closed;

    private final AtomicLong created = new AtomicLong();
    private final AtomicLong updated = new AtomicLong();
    private final AtomicLong rateLimited = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();

    /** Starts the sender when {@code options.events()}; otherwise every event is checked and then ignored. */
    EventRecorder(KubernetesClient api, String nodeName, KubeCluster.Options options, Clock clock) {
        this.api = api;
        this.nodeName = nodeName;
        this.options = options;
        this.clock = clock;
        this.correlator = new EventCorrelator(options.aggregationWindow(), options.spamBurst(), options.spamRefill(),
                MAX_CACHE_ENTRIES);
        this.queue = new ArrayBlockingQueue<>(options.queueCapacity());
        this.sender = Thread.ofPlatform().daemon().name("memwarden-k8s-events").unstarted(this::sendLoop);
        if (options.events()) {
            sender.start();
        }
    }

    long created() {
        return created.get();
    }

    long updated() {
        return updated.get();
    }

    long rateLimited() {
        return rateLimited.get();
    }

    long dropped() {
        return dropped.get();
    }

    long failed() {
        return failed.get();
    }

    /** A Warning SystemOOM on this Node when the OOM was the whole machine's ({@link ClusterActions#systemOom}). */
    void systemOom(OomEvent e) {
        if (!"/".equals(e.victimCgroup())) {
            return; // a container, pod or kubepods limit: the kubelet records no SystemOOM either (§6)
        }
        nodeEvent("Warning", REASON_SYSTEM_OOM, e.systemOomMessage());
    }

    /** @param uid the pod's uid, or null/empty to read it from the API when the Event is created */
    void podEvent(String namespace, String pod, String uid, String type, String reason, String message) {
        ApiCalls.require("pod namespace", namespace);
        ApiCalls.require("pod name", pod);
        enqueue(new EventCorrelator.ObjectKey("Pod", namespace, pod), uid == null || uid.isEmpty() ? null : uid, type,
                reason, message);
    }

    void nodeEvent(String type, String reason, String message) {
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
            dropped.incrementAndGet();
            return;
        }
        pending.incrementAndGet();
        if (!queue.offer(new Pending(object, uid, type, reason, m, clock.now()))) {
            pending.decrementAndGet();
            long n = dropped.incrementAndGet();
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
                failed.incrementAndGet();
                LOG.warn("event {} on {} {}: {}", p.reason(), p.object().kind(), name(p.object()), e.toString());
            } finally {
                pending.decrementAndGet();
            }
        }
    }

    private void send(Pending p) {
        switch (correlator.observe(p.object(), p.type(), p.reason(), p.message(), p.at())) {
            case EventCorrelator.Drop d -> {
                rateLimited.incrementAndGet();
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
            created.incrementAndGet();
        } catch (KubernetesClientException e) {
            correlator.forget(o, p.type(), p.reason(), p.message());
            failed.incrementAndGet();
            LOG.warn("could not create event {} {} on {} {}: {}", p.type(), p.reason(), o.kind(), name(o),
                    ApiCalls.brief(e));
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
            updated.incrementAndGet();
        } catch (KubernetesClientException e) {
            if (e.getCode() == 404) { // expired (the API server's event TTL) or deleted: create it again
                create(p, u.name(), u.count(), u.first());
                return;
            }
            failed.incrementAndGet();
            LOG.warn("could not update event {} {} on {} {} (count {}): {}", p.type(), p.reason(), o.kind(), name(o),
                    u.count(), ApiCalls.brief(e));
        }
    }

    /** The pod's uid (so that kubectl describe pod shows the event), or null when it cannot be read. */
    private String podUid(String namespace, String pod) {
        try {
            Pod p = api.pods().inNamespace(namespace).withName(pod).get();
            return p == null || p.getMetadata() == null ? null : p.getMetadata().getUid();
        } catch (KubernetesClientException e) {
            LOG.debug("uid of pod {}/{}: {}", namespace, pod, ApiCalls.brief(e));
            return null;
        }
    }

    /** Waits until every queued event has been handled (sent, dropped or failed); whether it did in time. */
    boolean flush(Duration timeout) {
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
            dropped.addAndGet(left);
            LOG.warn("{} events not sent at shutdown", left);
        }
    }

    private static String time(Instant t) {
        return RFC3339.format(t.truncatedTo(ChronoUnit.SECONDS));
    }

    private static String name(EventCorrelator.ObjectKey o) {
        return o.namespace().isEmpty() ? o.name() : o.namespace() + "/" + o.name();
    }
}
