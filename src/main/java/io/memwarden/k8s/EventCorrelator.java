package io.memwarden.k8s;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Decides what to do with each event before it goes to the API, in the spirit of client-go's event correlator
 * (kubernetes/client-go {@code tools/record/events_cache.go}: {@code EventSourceObjectSpamFilter},
 * {@code eventLogger}; read at commit 928244b13ad2): a per-object token bucket (client-go's defaults are burst 25,
 * refill 1/300 per second, i.e. one event every 5 minutes) drops spam, and a repeat of the same (object, type,
 * reason, message) within the aggregation window updates the existing Event ({@code count} + 1, new
 * {@code lastTimestamp}) instead of creating one. Both caches are LRU-bounded (client-go: 4096 entries).
 *
 * <p>Differences from client-go, on purpose: the rate limit is applied before counting, so an Event's
 * {@code count} is the number of occurrences that were recorded (dropped ones are counted by the caller); a repeat
 * counts only within the window since the last occurrence (client-go's dedupe cache has no window); the
 * "(combined from similar events)" aggregation of events that differ only by message is not done.
 *
 * <p>Pure (the time is an argument) and not thread-safe: one sender thread owns it.
 */
final class EventCorrelator {

    /** The object an event is about. {@code namespace} is empty for a Node. */
    record ObjectKey(String kind, String namespace, String name) {}

    sealed interface Decision permits Drop, Create, Update {}

    /** Over the object's rate limit: do not send. */
    record Drop() implements Decision {}

    /** Create a new Event with this name (count 1, first = last = now). */
    record Create(String name, Instant first) implements Decision {}

    /** Patch the existing Event {@code name}: {@code count}, {@code lastTimestamp}. */
    record Update(String name, int count, Instant first) implements Decision {}

    private record Series(String name, int count, Instant first, Instant last) {}

    private static final class Bucket {
        double tokens;
        Instant at;

        Bucket(double tokens, Instant at) {
            this.tokens = tokens;
            this.at = at;
        }
    }

    private final Duration window;
    private final int burst;
    private final double refillPerSecond;
    private final Map<String, Series> series;
    private final Map<ObjectKey, Bucket> buckets;
    private long lastNameNanos;

    EventCorrelator(Duration window, int burst, Duration refillEvery, int maxEntries) {
        if (window.isNegative() || window.isZero()) {
            throw new IllegalArgumentException("event aggregation window must be positive, got " + window);
        }
        if (burst < 1) {
            throw new IllegalArgumentException("event burst must be at least 1, got " + burst);
        }
        if (refillEvery.isNegative() || refillEvery.isZero()) {
            throw new IllegalArgumentException("event refill interval must be positive, got " + refillEvery);
        }
        if (maxEntries < 1) {
            throw new IllegalArgumentException("event cache size must be at least 1, got " + maxEntries);
        }
        this.window = window;
        this.burst = burst;
        this.refillPerSecond = 1e9 / refillEvery.toNanos();
        this.series = lru(maxEntries);
        this.buckets = lru(maxEntries);
    }

    private static <K, V> Map<K, V> lru(int max) {
        return new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
                return size() > max;
            }
        };
    }

    /** Decides for one occurrence at {@code now}; records it unless dropped. */
    Decision observe(ObjectKey object, String type, String reason, String message, Instant now) {
        if (!takeToken(object, now)) {
            return new Drop();
        }
        String key = seriesKey(object, type, reason, message);
        Series s = series.get(key);
        if (s != null && !now.isBefore(s.last()) && Duration.between(s.last(), now).compareTo(window) <= 0) {
            Series next = new Series(s.name(), s.count() + 1, s.first(), now);
            series.put(key, next);
            return new Update(next.name(), next.count(), next.first());
        }
        String name = eventName(object.name(), now);
        series.put(key, new Series(name, 1, now, now));
        return new Create(name, now);
    }

    /** The API did not take the event (create failed): the next occurrence starts a new series. */
    void forget(ObjectKey object, String type, String reason, String message) {
        series.remove(seriesKey(object, type, reason, message));
    }

    private boolean takeToken(ObjectKey object, Instant now) {
        Bucket b = buckets.get(object);
        if (b == null) {
            b = new Bucket(burst, now);
            buckets.put(object, b);
        } else if (now.isAfter(b.at)) {
            double seconds = Duration.between(b.at, now).toNanos() / 1e9;
            b.tokens = Math.min(burst, b.tokens + seconds * refillPerSecond);
            b.at = now;
        }
        if (b.tokens >= 1) {
            b.tokens -= 1;
            return true;
        }
        return false;
    }

    private static String seriesKey(ObjectKey o, String type, String reason, String message) {
        return String.join("\u0000", o.kind(), o.namespace(), o.name(), type, reason, message);
    }

    /** {@code <object>.<hex unix nanos>}, the Event naming client-go uses; unique within this process. */
    private String eventName(String objectName, Instant now) {
        long nanos = now.getEpochSecond() * 1_000_000_000L + now.getNano();
        if (nanos <= lastNameNanos) {
            nanos = lastNameNanos + 1;
        }
        lastNameNanos = nanos;
        return objectName + "." + Long.toHexString(nanos);
    }
}
