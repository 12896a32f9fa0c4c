package io.memwarden.loops;

import io.memwarden.kernel.BadKmsgRecord;
import io.memwarden.kernel.Kmsg;
import io.memwarden.kernel.KmsgEntry;
import io.memwarden.kernel.KmsgSource;
import io.memwarden.model.OomEvent;
import io.memwarden.kernel.OomParser;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * Counts kernel OOM kills from {@code /dev/kmsg} (read from now on, parsed as the kubelet does by {@link OomParser}):
 * system (global) OOMs and cgroup (memcg) OOMs, for {@code memwarden_oom_kills_total}. A platform daemon thread
 * reads the log (a poll(2) through FFM would pin a virtual thread's carrier); {@link #close()} stops it within a
 * second.
 *
 * <p>The thread survives whatever the log delivers: a record that is not well-formed is skipped alone and counted
 * ({@link #skipped()}), with a warning for the first {@link #WARNINGS_LISTED} and then one at each power of ten;
 * overwritten records (EPIPE) are skipped by {@link Kmsg}; a read that fails is warned about, and the log is opened
 * again at its end after a pause; a listener's failure is ignored.
 */
public final class OomKillWatch implements AutoCloseable {
    /** Skipped records warned about one by one; after that only at 100, 1000, 10000, ... */
    public static final int WARNINGS_LISTED = 10;
    private static final Duration RETRY = Duration.ofSeconds(1);

    private final AtomicLong system = new AtomicLong();
    private final AtomicLong cgroup = new AtomicLong();
    private final AtomicLong skipped = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private volatile boolean stop;
    private Thread thread;
    private final Consumer<OomEvent> listener;
    private final Consumer<String> warnings;

    OomKillWatch() {
        this(e -> { });
    }

    OomKillWatch(Consumer<OomEvent> listener) {
        this(listener, w -> { });
    }

    OomKillWatch(Consumer<OomEvent> listener, Consumer<String> warnings) {
        this.listener = listener;
        this.warnings = warnings;
    }

    /** Opens {@code /dev/kmsg} (needs root) at its end and starts counting. */
    public static OomKillWatch start() throws IOException {
        return start(e -> { }, w -> { });
    }

    /**
     * As {@link #start()}, also handing every kill to {@code listener} and every warning (a skipped record, a failed
     * read) to {@code warnings}, both on the watch's thread.
     */
    public static OomKillWatch start(Consumer<OomEvent> listener, Consumer<String> warnings) throws IOException {
        return start(() -> Kmsg.open(true), listener, warnings, RETRY);
    }

    /** The log comes from {@code opener}, called on the watch's thread (again after a failed read). */
    interface Opener {
        KmsgSource open() throws IOException;
    }

    static OomKillWatch start(Opener opener, Consumer<OomEvent> listener, Consumer<String> warnings, Duration retry)
            throws IOException {
        OomKillWatch w = new OomKillWatch(listener, warnings);
        CompletableFuture<Void> opened = new CompletableFuture<>();
        w.thread = Thread.ofPlatform().daemon().name("memwarden-oom-watch").start(() -> w.follow(opener, opened, retry));
        try {
            opened.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            w.close();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while opening " + Kmsg.PATH, e);
        }
        return w;
    }

    private void follow(Opener opener, CompletableFuture<Void> opened, Duration retry) {
        KmsgSource k;
        try {
            k = opener.open(); // the Kmsg's confined arena belongs to this thread: open, read and close here
        } catch (IOException | RuntimeException e) {
            opened.completeExceptionally(e);
            return;
        }
        opened.complete(null);
        String lastFailure = null;
        while (!stop) {
            try (KmsgSource log = k) {
                OomParser parser = new OomParser();
                OomParser.Listener counting = new OomParser.Listener() {
                    @Override
                    public void kill(long number, OomEvent e) {
                        accept(e);
                    }

                    @Override
                    public void skipped(long number, BadKmsgRecord why) {
                        skip(log.name(), number, why);
                    }
                };
                while (!stop) {
                    for (KmsgEntry e : log.drain()) {
                        parser.feed(e, counting);
                    }
                    log.await(500);
                    lastFailure = null;
                }
                return;
            } catch (IOException | RuntimeException e) {
                failures.incrementAndGet();
                String m = e.getMessage() == null ? "input/output error" : e.getMessage();
                if (!m.equals(lastFailure)) {
                    warn("reading " + Kmsg.PATH + " failed (" + m + "); opening it again at its end in "
                            + retry.toMillis() + " ms (kills logged in between are not seen)");
                    lastFailure = m;
                }
            }
            k = null;
            while (!stop && k == null) {
                LockSupport.parkNanos(this, retry.toNanos());
                if (stop) {
                    return;
                }
                try {
                    k = opener.open();
                } catch (IOException | RuntimeException e) {
                    failures.incrementAndGet();
                    String m = e.getMessage() == null ? "input/output error" : e.getMessage();
                    if (!m.equals(lastFailure)) {
                        warn("opening " + Kmsg.PATH + " again failed (" + m + "); trying again every "
                                + retry.toMillis() + " ms");
                        lastFailure = m;
                    }
                }
            }
        }
    }

    private void skip(String source, long number, BadKmsgRecord why) {
        long n = skipped.incrementAndGet();
        if (n <= WARNINGS_LISTED) {
            warn(source + " record " + number + " skipped: " + why.describe());
        } else if (isPowerOfTen(n)) {
            warn(n + " " + source + " records skipped so far (the first " + WARNINGS_LISTED + " were listed)");
        }
    }

    private static boolean isPowerOfTen(long n) {
        while (n >= 10 && n % 10 == 0) {
            n /= 10;
        }
        return n == 1;
    }

    private void warn(String w) {
        try {
            warnings.accept(w);
        } catch (RuntimeException ignored) {
            // a failing log sink must not stop the watch
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

    /** Records skipped as not well-formed so far. */
    public long skipped() {
        return skipped.get();
    }

    /** Failed reads or re-opens so far. */
    public long failures() {
        return failures.get();
    }

    /** True while the watch's thread runs. */
    public boolean running() {
        return thread != null && thread.isAlive();
    }

    @Override
    public void close() {
        stop = true;
        if (thread != null) {
            LockSupport.unpark(thread);
            try {
                thread.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
