package io.memwarden.api;

import io.memwarden.kernel.Kmsg;
import io.memwarden.kernel.KmsgRecord;
import io.memwarden.kernel.OomEvent;
import io.memwarden.kernel.OomParser;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts kernel OOM kills from {@code /dev/kmsg} (read from now on, parsed as the kubelet does by {@link OomParser}):
 * system (global) OOMs and cgroup (memcg) OOMs, for {@code memwarden_oom_kills_total}. A platform daemon thread
 * reads the log (a poll(2) through FFM would pin a virtual thread's carrier); {@link #close()} stops it within a
 * second.
 */
public final class OomKillWatch implements AutoCloseable {
    private final AtomicLong system = new AtomicLong();
    private final AtomicLong cgroup = new AtomicLong();
    private volatile boolean stop;
    private Thread thread;
    private final java.util.function.Consumer<OomEvent> listener;

    OomKillWatch() {
        this(e -> { });
    }

    OomKillWatch(java.util.function.Consumer<OomEvent> listener) {
        this.listener = listener;
    }

    /** Opens {@code /dev/kmsg} (needs root) at its end and starts counting. */
    public static OomKillWatch start() throws IOException {
        return start(e -> { });
    }

    /** As {@link #start()}, also handing every kill to {@code listener} (on the watch's thread). */
    public static OomKillWatch start(java.util.function.Consumer<OomEvent> listener) throws IOException {
        OomKillWatch w = new OomKillWatch(listener);
        CompletableFuture<Void> opened = new CompletableFuture<>();
        w.thread = Thread.ofPlatform().daemon().name("memwarden-oom-watch").start(() -> w.follow(opened));
        try {
            opened.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        } catch (InterruptedException e) {
            w.close();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while opening " + Kmsg.PATH, e);
        }
        return w;
    }

    private void follow(CompletableFuture<Void> opened) {
        Kmsg k;
        try {
            k = Kmsg.open(true); // the Kmsg's confined arena belongs to this thread: open, read and close here
        } catch (IOException | RuntimeException e) {
            opened.completeExceptionally(e);
            return;
        }
        opened.complete(null);
        try (k) {
            OomParser parser = new OomParser();
            while (!stop) {
                for (KmsgRecord r : k.drain()) {
                    OomEvent e = parser.accept(r);
                    if (e != null) {
                        accept(e);
                    }
                }
                k.await(500);
            }
        } catch (IOException | RuntimeException e) {
            // the log became unreadable: the counts stay where they are
        }
    }

    void accept(OomEvent e) {
        (e.systemOom() ? system : cgroup).incrementAndGet();
        try {
            listener.accept(e);
        } catch (RuntimeException ignored) {
            // a listener's failure must not stop the counting
        }
    }

    /** The kills seen so far. */
    public NodeStatus.OomKills counts() {
        return new NodeStatus.OomKills(system.get(), cgroup.get());
    }

    @Override
    public void close() {
        stop = true;
        if (thread != null) {
            try {
                thread.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
