package io.memwarden.loops;

import io.memwarden.control.KsmDecision;
import io.memwarden.control.KsmObservation;
import io.memwarden.control.KsmTuner;
import io.memwarden.control.Ksmtuned;
import io.memwarden.kernel.Ksm;
import io.memwarden.kernel.KsmCounters;
import io.memwarden.model.Clock;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The KSM tuner over this node's kernel: each {@link #pass} observes ({@link Ksm}), decides ({@link KsmTuner}) and
 * writes, and {@link #close} restores what it changed. Ownership rules (docs/vm-nodes.md "KSM tuner"):
 * <ul>
 * <li>KSM already running when memwarden starts belongs to someone else: observe only, unless {@code takeOver};
 * so memwarden only ever turns off KSM it turned on;</li>
 * <li>a setting memwarden wrote (or found already at its value) that now reads differently was changed by someone else (virt-handler, ksmtuned, an
 * admin): memwarden stops writing and does not restore;</li>
 * <li>the advisor ({@code advisor_mode} scan-time) owns pages_to_scan: observe only;</li>
 * <li>only changed values are written; before its first write to a file the original value is kept, and
 * {@link #close} writes it back (sleep_millisecs, pages_to_scan, then run) unless someone else changed it.</li>
 * </ul>
 * Not thread-safe: one thread makes the passes; {@link #last()} may be read from any thread.
 */
public final class KsmLoop implements AutoCloseable {

    /** The order virt-handler and ksmtuned write in: run last, so ksmd wakes up with the new values. */
    static final List<String> ORDER = List.of("sleep_millisecs", "pages_to_scan", "run");

    /**
     * @param committed which processes' RSS is ksmtuned's "committed" memory (by comm)
     */
    public record Options(boolean dryRun, boolean takeOver, Pattern committed) {
        public static final Options DEFAULTS = new Options(false, false, Ksmtuned.QEMU);

        public Options {
            Objects.requireNonNull(committed, "committed");
        }
    }

    /**
     * One pass.
     *
     * @param written        "file=value" for each write made (empty in dry-run, observe-only or unchanged)
     * @param observeOnly    why nothing was written, or null
     * @param ksmdCpuSeconds ksmd's CPU time so far (utime + stime), or -1 when ksmd is not found
     * @param ksmdCpuPercent ksmd's CPU share since the previous pass, or -1 on the first pass
     */
    public record Pass(long atMillis, KsmCounters counters, KsmObservation observation, KsmDecision decision,
                       List<String> written, String observeOnly, double ksmdCpuSeconds, double ksmdCpuPercent) {
        public Pass {
            written = List.copyOf(written);
        }
    }

    private final Ksm ksm;
    private final KsmTuner tuner;
    private final Options opts;
    private final Clock clock;
    private final Map<String, Long> original = new LinkedHashMap<>();
    /** each tuned file's value as memwarden last decided it (written, or already so) */
    private final Map<String, Long> lastWritten = new LinkedHashMap<>();
    private String observeOnly;
    private volatile String managedElsewhere;
    private boolean first = true;
    private int ksmdPid = -2;
    private volatile Pass last;

    public KsmLoop(Ksm ksm, KsmTuner tuner, Options opts, Clock clock) {
        this.ksm = ksm;
        this.tuner = tuner;
        this.opts = opts;
        this.clock = clock;
    }

    /** The latest pass, or null before the first. */
    public Pass last() {
        return last;
    }

    /** Why memwarden only observes, or null while it tunes. */
    public String observeOnly() {
        return observeOnly;
    }

    /** The values memwarden changed, before its first write (what {@link #close} restores). */
    public Map<String, Long> originals() {
        return Map.copyOf(original);
    }

    /**
     * Another tuner claims KSM on this node (e.g. KubeVirt's virt-handler, by its node label or annotation): while
     * {@code why} is non-null, passes decide and write nothing (unless {@code takeOver}); null lifts it.
     */
    public void managedElsewhere(String why) {
        managedElsewhere = why;
    }

    /** One observe → decide → write pass. */
    public Pass pass() throws IOException {
        long now = clock.millis();
        KsmCounters c = ksm.read();
        if (first) {
            first = false;
            if (c.run() != 0 && !opts.takeOver()) {
                observeOnly = "KSM was running (run=" + c.run() + ") before memwarden started: someone else's;"
                        + " observing only (to tune it: loops.ksm.takeOver, or ksm tune --take-over)";
            } else if (c.advisorMode().equals("scan-time")) {
                observeOnly = "the KSM advisor (advisor_mode scan-time) tunes pages_to_scan: observing only";
            }
        }
        String foreign = foreignChange(c);
        if (foreign != null && observeOnly == null) {
            observeOnly = foreign + ": someone else tunes KSM; memwarden stops writing and will not restore";
            original.clear();
        }
        KsmObservation o = observation(c);
        KsmDecision d = tuner.decide(o);
        List<String> written = new ArrayList<>();
        String elsewhere = opts.takeOver() ? null : managedElsewhere;
        if (observeOnly == null && elsewhere == null && !opts.dryRun()) {
            Map<String, Long> want = new LinkedHashMap<>();
            want.put("sleep_millisecs", d.sleepMillisecs());
            want.put("pages_to_scan", d.pagesToScan());
            want.put("run", d.run() == null ? null : d.run().longValue());
            for (String file : ORDER) {
                Long v = want.get(file);
                long current = current(c, file);
                if (v == null) {
                    continue;
                }
                if (v != current) {
                    original.putIfAbsent(file, current);
                    ksm.write(file, v);
                    written.add(file + "=" + v);
                }
                lastWritten.put(file, v); // what memwarden set, or would have: a later difference is someone else's

            }
        }
        Pass p = new Pass(now, c, o, d, written, observeOnly != null ? observeOnly : elsewhere, -1, -1);
        p = withCpu(p);
        last = p;
        return p;
    }

    private Pass withCpu(Pass p) {
        double cpu = -1;
        try {
            if (ksmdPid == -2) {
                ksmdPid = ksm.ksmdPid();
            }
            if (ksmdPid > 0) {
                cpu = ksm.cpuSeconds(ksmdPid);
            }
        } catch (IOException e) {
            ksmdPid = -2; // look again next pass
        }
        Pass prev = last;
        double pct = -1;
        if (prev != null && cpu >= 0 && prev.ksmdCpuSeconds() >= 0 && p.atMillis() > prev.atMillis()) {
            pct = (cpu - prev.ksmdCpuSeconds()) * 100_000.0 / (p.atMillis() - prev.atMillis());
        }
        return new Pass(p.atMillis(), p.counters(), p.observation(), p.decision(), p.written(), p.observeOnly(), cpu,
                pct);
    }

    private String foreignChange(KsmCounters c) {
        for (var e : lastWritten.entrySet()) {
            long now = current(c, e.getKey());
            if (now != e.getValue()) {
                return e.getKey() + " reads " + now + " but memwarden wrote " + e.getValue();
            }
        }
        return null;
    }

    private static long current(KsmCounters c, String file) {
        return switch (file) {
            case "run" -> c.run();
            case "pages_to_scan" -> c.pagesToScan();
            case "sleep_millisecs" -> c.sleepMillisecs();
            default -> throw new IllegalArgumentException(file);
        };
    }

    private KsmObservation observation(KsmCounters c) throws IOException {
        Map<String, Long> mem = ksm.meminfo();
        long committed = tuner.policy() instanceof Ksmtuned ? ksm.rssKb(opts.committed()) : 0;
        return new KsmObservation(mem.get("MemTotal"), mem.get("MemAvailable"), mem.getOrDefault("MemFree", 0L),
                mem.getOrDefault("Buffers", 0L), mem.getOrDefault("Cached", 0L), committed, c.run(), c.pagesToScan(),
                c.sleepMillisecs(), c.pagesShared(), c.pagesSharing(), c.pagesUnshared(), c.pagesVolatile(),
                Math.max(0, c.zeroPages()), c.fullScans());
    }

    /**
     * Writes back every value memwarden changed (sleep_millisecs, pages_to_scan, then run), except one someone else
     * changed since; returns "file=value" for each restore and "file left at N (...)" for each left alone.
     */
    public List<String> restore() throws IOException {
        List<String> done = new ArrayList<>();
        if (original.isEmpty()) {
            return done;
        }
        KsmCounters c = ksm.read();
        IOException failed = null;
        for (String file : ORDER) {
            Long was = original.get(file);
            if (was == null) {
                continue;
            }
            long now = current(c, file);
            Long mine = lastWritten.get(file);
            if (mine != null && now != mine) {
                done.add(file + " left at " + now + " (changed by someone else since memwarden wrote " + mine + ")");
                continue;
            }
            if (now != was) {
                try {
                    ksm.write(file, was);
                    done.add(file + "=" + was);
                } catch (IOException e) {
                    failed = failed == null ? e : failed;
                    continue;
                }
            }
            original.remove(file);
            lastWritten.remove(file);
        }
        if (failed != null) {
            throw failed;
        }
        return done;
    }

    @Override
    public void close() throws IOException {
        restore();
    }
}
