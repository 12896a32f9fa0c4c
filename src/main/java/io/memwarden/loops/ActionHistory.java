package io.memwarden.loops;

import io.memwarden.model.Clock;
import java.util.ArrayDeque;
import java.util.List;
import java.util.function.Consumer;

/**
 * The loops' bounded action history: every action recorded on a managed container (the loops' own and others', such
 * as the standalone agent's plan writes) is stamped with the loops' clock, kept (the oldest dropped past the limit),
 * handed to the listener and logged as one line. Read from any thread.
 */
final class ActionHistory {
    /** How many actions are kept by default (the oldest are dropped first). */
    public static final int DEFAULT_LIMIT = 10_000;

    /** The kept actions, oldest first, and how many older ones were dropped, read together. */
    public record Snapshot(List<ActionRecord> actions, long dropped) {}

    private final ArrayDeque<ActionRecord> actions = new ArrayDeque<>();
    private final Clock clock;
    private final Consumer<String> log;
    private int limit = DEFAULT_LIMIT;
    private long dropped;
    private volatile Consumer<ActionRecord> listener = r -> { };

    ActionHistory(Clock clock, Consumer<String> log) {
        this.clock = clock;
        this.log = log;
    }

    /** Keep at most {@code limit} actions (the oldest are dropped). */
    synchronized void limit(int limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("history limit must be at least 1, got " + limit);
        }
        this.limit = limit;
        trim();
    }

    /** Hands every recorded action to {@code l} (on the recording thread; a failing listener is ignored). */
    void onAction(Consumer<ActionRecord> l) {
        this.listener = l;
    }

    void record(String loop, String pod, String container, String action, String trigger, String result) {
        record(loop, pod, container, action, trigger, result, null);
    }

    void record(String loop, String pod, String container, String action, String trigger, String result,
                NodeStatus.ActedOn actedOn) {
        ActionRecord r = new ActionRecord(clock.millis(), loop, pod, container, action, trigger, result, actedOn);
        synchronized (this) {
            actions.addLast(r);
            trim();
        }
        try {
            listener.accept(r);
        } catch (RuntimeException ignored) {
            // a listener's failure (e.g. an event sink) never stops the loops
        }
        log.accept(loop + ": " + (pod.isEmpty() ? "node" : pod) + (container == null ? "" : "/" + container) + ": " + action + " (" + result
                + ") because " + trigger);
    }

    synchronized List<ActionRecord> list() {
        return List.copyOf(actions);
    }

    synchronized Snapshot snapshot() {
        return new Snapshot(List.copyOf(actions), dropped);
    }

    synchronized long dropped() {
        return dropped;
    }

    private void trim() {
        while (actions.size() > limit) {
            actions.removeFirst();
            dropped++;
        }
    }
}
