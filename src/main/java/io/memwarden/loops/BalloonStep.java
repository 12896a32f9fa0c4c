package io.memwarden.loops;

import io.memwarden.cgroup.HostFacts;
import io.memwarden.cgroup.NodeStats;
import io.memwarden.control.BalloonWatch;
import io.memwarden.kernel.Balloon;
import io.memwarden.model.Clock;
import java.io.IOException;
import java.util.function.Consumer;

/**
 * The round's balloon step (the node is a VM): reads the guest's balloon ({@link Balloon}), lets
 * {@link BalloonWatch} say what the hypervisor left, and records a growth by a large share as a node action
 * (loop {@value #LOOP}; the agent turns it into a node event). The round's node then has the effective capacity, and
 * the pressure guard thresholds on it ({@link Round#guardConfig()}).
 */
final class BalloonStep {
    static final String LOOP = "balloon";

    private final Clock clock;
    private final Consumer<String> log;
    private volatile Balloon.Paths paths = Balloon.Paths.system();
    private volatile BalloonWatch.Config config = BalloonWatch.Config.DEFAULTS;
    private BalloonWatch watch;
    private volatile BalloonWatch.State last;
    private volatile Balloon.Reading lastReading;
    private volatile long firstMemTotal = -1;
    private volatile long podRequests;
    private boolean warned;

    BalloonStep(Clock clock, Consumer<String> log) {
        this.clock = clock;
        this.log = log;
        this.watch = new BalloonWatch(config, clock);
    }

    /** Where the balloon's files are (tests point them at a fixture tree); the watch starts afresh. */
    synchronized void paths(Balloon.Paths p) {
        this.paths = p;
        this.watch = new BalloonWatch(config, clock);
        this.firstMemTotal = -1;
    }

    synchronized void config(BalloonWatch.Config c) {
        if (!c.equals(config)) {
            this.config = c;
            this.watch = new BalloonWatch(c, clock);
        }
    }

    /** The balloon's state after the last round, or null before the first (or where it cannot be read). */
    BalloonWatch.State last() {
        return last;
    }

    /**
     * Observes the balloon for {@code round}; returns the round's node with the balloon's pages that still count in
     * MemTotal taken out (a cgroup standing in for the node is left as it is: its limit is its capacity).
     */
    synchronized NodeStats observe(Round round, HostFacts host, NodeStats node) {
        Balloon.Reading r;
        try {
            r = Balloon.read(paths, host.pageSize());
        } catch (IOException | RuntimeException e) {
            if (!warned) {
                warned = true;
                log.accept("balloon: cannot read the balloon's state (" + e.getMessage() + "); the node counts as"
                        + " having none until it can");
            }
            last = null;
            lastReading = null;
            return node;
        }
        warned = false;
        BalloonWatch.State s = watch.observe(new BalloonWatch.Observation(r.driver().toString(), r.insideMemTotal(),
                r.memTotalBytes(), r.balloonBytes(), r.source().toString(), r.freePageReporting()));
        last = s;
        lastReading = r;
        podRequests = round.pods().stream().mapToLong(mp -> mp.plan().memoryRequestBytes()).sum();
        if (firstMemTotal < 0) {
            firstMemTotal = r.memTotalBytes();
        }
        if (s.grew() != null) {
            round.record(LOOP, "", null, "node capacity " + s.effectiveBytes() + " bytes (balloon " + s.balloonBytes()
                    + " of " + s.physicalBytes() + ")" + overcommit(podRequests, s.effectiveBytes()),
                    s.grew().describe(), round.options().nodeCgroup() == null
                    ? "pressure guard on the effective capacity" : "noted (the guard's node is a cgroup)");
        }
        if (round.options().nodeCgroup() != null || !s.insideMemTotal()) {
            return node; // without DEFLATE_ON_OOM the driver already took the pages out of MemTotal
        }
        return node.lessBalloon(s.balloonBytes(), host);
    }

    /**
     * MemTotal at the first reading: what the guard's config was resolved on (the loops' options are made from
     * MemTotal at start), hence the capacity its thresholds are scaled from; -1 before any reading.
     */
    long configuredFor() {
        return firstMemTotal;
    }

    /**
     * The memory the managed pods request (their plans' pod requests, as the scheduler counts them) at the last
     * reading. The scheduler placed them on the node's allocatable, which a balloon does not change: requests above
     * the capacity the hypervisor left are promises the node can no longer keep.
     */
    long podRequests() {
        return podRequests;
    }

    /** "; pods request R bytes, O above it" when the requests exceed the capacity left, else "". */
    static String overcommit(long requests, long effective) {
        return requests > effective ? "; the pods here request " + requests + " bytes, " + (requests - effective)
                + " above it" : "";
    }

    /** The reading behind {@link #last()}, or null. */
    Balloon.Reading lastReading() {
        return lastReading;
    }
}
