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
import java.util.function.Function;
import java.util.Set;

/**
 * Counts kernel OOM kills from {@code /dev/kmsg} (read from now on, parsed as the kubelet does by {@link OomParser}):
 * system (global) OOMs and cgroup (memcg) OOMs, and by pod, container and victim process in a bounded
 * {@link OomKillSeries}, for {@code memwarden_oom_kills_total}. Each kill goes through the watch's attribution
 * ({@link OomAttribution#kill}: the managed container, the "OOM while swap was free" diagnosis) before it is counted
 * and handed to the listener. A platform daemon thread
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
    private final Consumer<OomAttribution.Kill> listener;
    private final Consumer<String> warnings;
    private final Function<OomEvent, OomAttribution.Kill> attribution;
    private final OomKillSeries series;

    OomKillWatch() {
        this(e -> { });
    }

    OomKillWatch(Consumer<OomAttribution.Kill> listener) {
        this(listener, w -> { }, OomAttribution.Kill::unattributed, new OomKillSeries());
    }

    OomKillWatch(Consumer<OomAttribution.Kill> listener, Consumer<String> warnings,
                 Function<OomEvent, OomAttribution.Kill> attribution, OomKillSeries series) {
        this.listener = listener;
        this.warnings = warnings;
        this.attribution = attribution;
        this.series = series;
    }

    /** Opens {@code /dev/kmsg} (needs root) at its end and starts counting; no kill is attributed. */
    public static OomKillWatch start() throws IOException {
        return start(e -> { }, w -> { }, OomAttribution.Kill::unattributed);
    }

    /**
     * As {@link #start()}, attributing every kill with {@code attribution} (e.g. {@link OomAttribution#kill} over a
     * workload), handing it to {@code listener} and every warning (a skipped record, a failed read) to
     * {@code warnings}, all on the watch's thread.
     */
    public static OomKillWatch start(Consumer<OomAttribution.Kill> listener, Consumer<String> warnings,
                                     Function<OomEvent, OomAttribution.Kill> attribution) throws IOException {
        return start(() -> Kmsg.open(true), listener, warnings, attribution, RETRY);
    }

    /** The log comes from {@code opener}, called on the watch's thread (again after a failed read). */
    interface Opener {
        KmsgSource open() throws IOException;
    }

    static OomKillWatch start(Opener opener, Consumer<OomAttribution.Kill> listener, Consumer<String> warnings,
                              Function<OomEvent, OomAttribution.Kill> attribution, Duration retry) throws IOException {
        OomKillWatch w = new OomKillWatch(listener, warnings, attribution, new OomKillSeries());
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
        OomAttribution.Kill k;
        try {
            k = attribution.apply(e);
        } catch (RuntimeException ex) {
            k = OomAttribution.Kill.unattributed(e); // a workload that failed to answer: counted all the same
        }
        series.record(e.systemOom(), k.victim(), e.process(), k.podsOnNode());
        try {
            listener.accept(k);
        } catch (RuntimeException ignored) {
            // a listener's failure must not stop the counting
        }
    }

    /** The kills seen so far, with every series kept. */
    public NodeStatus.OomKills counts() {
        return counts(null);
    }

    /** The kills seen so far; the series of pods not in {@code podsOnNode} (when given) are dropped first. */
    public NodeStatus.OomKills counts(Set<String> podsOnNode) {
        return new NodeStatus.OomKills(system.get(), cgroup.get(), series.series(podsOnNode));
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
