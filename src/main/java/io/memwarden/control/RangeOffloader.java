package io.memwarden.control;

import io.memwarden.model.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Precise cold-memory offload (cgroup v1 and v2; {@link OffloadRoute} picks it per container): pages out exactly the
 * address ranges that stayed unreferenced, instead of asking the kernel's LRU for an amount (v1: lowering the limit;
 * v2: {@code memory.reclaim}), which takes hot pages too once it probes into the working set.
 *
 * <p>Each sampling interval the mechanism reads, per process of the container, every anonymous private unlocked
 * mapping with the bytes referenced since the previous sample ({@code Referenced:} of {@code /proc/PID/smaps} after
 * {@code clear_refs} 1, kernel-and-vm.md §5) and clears the bits again. A range whose referenced bytes stayed 0 for
 * {@code coldSamples} samples in a row is cold; the coldest resident ranges are paged out
 * ({@code process_madvise(MADV_PAGEOUT)}) up to {@code bytesPerInterval} per interval — a range larger than that goes
 * out in consecutive chunks. A range referenced again after it was paged out was promoted: it must stay idle twice as
 * long before the next pageout (up to 16×). Pages of a range that stay resident after it was paged out whole (shared
 * or pinned pages, a full allowance) are retried only after another cold stretch.
 *
 * <p>Referenced bits exist per page table entry but the kernel reports them per mapping only (page_idle and soft-dirty
 * are not built here), and allocators put hot and cold data side by side in one mapping (adjacent anonymous mappings
 * even merge). For a range that was referenced but whose resident bytes exceeded its largest referenced count over the
 * last {@code coldSamples} samples, the difference is memory no sample saw touched; a share
 * ({@code mixedReclaimShare}) of it is reclaimed through the kernel's LRU (v1: limit probing; v2:
 * {@code memory.reclaim}), whose reference check spares the pages whose accessed bit was set since the last
 * {@code clear_refs} — the hot ones. Asking for no more than that estimate is what keeps the probe out of the working
 * set.
 *
 * <p>Back-off exactly as {@link ColdOffloader}: a stall (growth of the container's PSI some total, when the
 * container has its own PSI) at or above the target stops it for {@code backoffIntervals}; a refault burst (the
 * container's {@code workingset_refault_anon} growing by more than the bound) stops it for {@code backoffIntervals}
 * doubled per burst in a row (bursts less than 30 intervals apart). Guards: the container's remaining swap allowance
 * (v1: memsw − limit − swap in use; v2: memory.swap.max − memory.swap.current) and node swap free above a reserve —
 * at or below the reserve ("swap nearly full") nothing is paged out. A state machine with an injected clock; no I/O.
 */
public final class RangeOffloader {

    /**
     * @param interval                   sampling interval (clear_refs → read Referenced)
     * @param coldSamples                samples in a row without a reference before a range counts as cold
     * @param bytesPerInterval           offload rate limit per container (estimated resident bytes per interval)
     * @param stallTargetMicros          PSI some stall per interval at which it backs off
     * @param refaultPagesPerIntervalMax refaults per interval above which it backs off
     * @param backoffIntervals           intervals to stay off after a stall or refault burst
     * @param swapReserve                share of node swap kept free (nothing is paged out at or below it)
     */
    public record Config(Duration interval, int coldSamples, long bytesPerInterval, long stallTargetMicros,
                         long refaultPagesPerIntervalMax, int backoffIntervals, double swapReserve,
                         double mixedReclaimShare) {
        /** Without reclaim of partly referenced ranges (only whole cold ranges are paged out). */
        public Config(Duration interval, int coldSamples, long bytesPerInterval, long stallTargetMicros,
                      long refaultPagesPerIntervalMax, int backoffIntervals, double swapReserve) {
            this(interval, coldSamples, bytesPerInterval, stallTargetMicros, refaultPagesPerIntervalMax,
                    backoffIntervals, swapReserve, 0);
        }

        public Config {
            if (interval == null || interval.toMillis() <= 0) {
                throw new IllegalArgumentException("interval must be positive, got " + interval);
            }
            if (coldSamples < 1) {
                throw new IllegalArgumentException("coldSamples must be at least 1, got " + coldSamples);
            }
            if (bytesPerInterval < PAGE) {
                throw new IllegalArgumentException("bytesPerInterval must be at least a page, got " + bytesPerInterval);
            }
            if (stallTargetMicros <= 0) {
                throw new IllegalArgumentException("stallTargetMicros must be positive, got " + stallTargetMicros);
            }
            if (refaultPagesPerIntervalMax < 0 || backoffIntervals < 0) {
                throw new IllegalArgumentException("refaultPagesPerIntervalMax and backoffIntervals must not be"
                        + " negative, got " + refaultPagesPerIntervalMax + " and " + backoffIntervals);
            }
            if (!(swapReserve >= 0 && swapReserve < 1)) {
                throw new IllegalArgumentException("swapReserve must be in [0, 1), got " + swapReserve);
            }
            if (!(mixedReclaimShare >= 0 && mixedReclaimShare <= 1)) {
                throw new IllegalArgumentException("mixedReclaimShare must be in [0, 1], got " + mixedReclaimShare);
            }
        }

        /**
         * Defaults: sample every 2 s, cold after 3 idle samples (6 s, memtierd's sample pages out data idle ≥ 10 s),
         * at most 64 MiB per container per interval (32 MiB/s; memtierd moves ≤ 50 MB/s), back off at 20 ms of stall
         * per interval or 256 refaults, for 3 intervals, keep 10 % of swap free; of the never-referenced bytes of
         * partly referenced ranges, reclaim half per interval.
         */
        public static final Config DEFAULTS = new Config(Duration.ofSeconds(2), 3, 64L << 20, 20_000, 256, 3, 0.10,
                0.5);
    }

    /**
     * One anonymous private unlocked mapping of one process at one sample.
     *
     * @param residentBytes   bytes of it in RAM
     * @param referencedBytes bytes referenced since the previous sample
     */
    public record Range(long pid, long start, long end, long residentBytes, long referencedBytes) {
        public Range {
            if (end <= start || start % PAGE != 0) {
                throw new IllegalArgumentException("range " + Long.toHexString(start) + "-" + Long.toHexString(end)
                        + " of pid " + pid + ": start must be page-aligned and below end");
            }
        }
    }

    /**
     * @param psiSomeTotalMicros the container's own cumulative PSI some total, or -1 when it has none
     * @param refaultPages       the container's cumulative anonymous refaults (memory.stat workingset_refault_anon)
     * @param swapAllowance      bytes it may still swap (-1 unlimited, 0 none)
     */
    public record Observation(String cgroup, List<Range> ranges, long psiSomeTotalMicros, long refaultPages,
                              long swapAllowance, long swapFree, long swapTotal) {
        public Observation {
            ranges = List.copyOf(ranges);
        }
    }

    /** One range of one process to page out. */
    public record Pageout(long pid, long start, long length) {}

    /**
     * What to offload from one container: ranges to page out (with an estimate of the resident bytes they hold),
     * and {@code reclaimBytes} to take from the container through the kernel's LRU (partly referenced ranges: the
     * LRU's reference check spares the pages referenced since the last sample, and no more than a share of the
     * bytes found unreferenced over the whole window is asked for).
     */
    public record Decision(String cgroup, List<Pageout> ranges, long estimatedBytes, long reclaimBytes,
                           String trigger) {}

    static final long PAGE = 4096;

    /** Smaller LRU reclaims are not worth a limit probe. */
    static final long MIN_RECLAIM = 1L << 20;

    /** Refault bursts less than this many intervals apart count as "in a row" (the back-off doubles). */
    static final int BURST_MEMORY_INTERVALS = 30;

    private record Key(long pid, long start, long end) {}

    private static final class RangeState {
        long[] recentReferenced;
        int samples;
        int idle;
        int promotions;
        boolean pagedOut;
        long cursor;
    }

    private static final class State {
        long lastPsi = -1;
        long lastRefaults = -1;
        long lastAt;
        boolean sampled;
        long lastReferenced;
        int backoff;
        int bursts;
        long lastBurstAt = Long.MIN_VALUE / 2;
        final Map<Key, RangeState> ranges = new HashMap<>();
    }

    private final Config cfg;
    private final Clock clock;
    private final Map<String, State> states = new HashMap<>();

    public RangeOffloader(Config cfg, Clock clock) {
        this.cfg = cfg;
        this.clock = clock;
    }

    public Config config() {
        return cfg;
    }

    /** True when a new sample of this container is due (none yet, or an interval has passed). */
    public boolean due(String cgroup) {
        State s = states.get(cgroup);
        return s == null || !s.sampled || clock.millis() - s.lastAt >= cfg.interval().toMillis();
    }

    /** Bytes referenced in the container's last sample: its working set over one interval (0 before a sample). */
    public long referencedBytes(String cgroup) {
        State s = states.get(cgroup);
        return s == null ? 0 : s.lastReferenced;
    }

    public List<Decision> decide(List<Observation> observations) {
        long now = clock.millis();
        List<Decision> out = new ArrayList<>();
        for (Observation o : observations) {
            State s = states.computeIfAbsent(o.cgroup(), k -> new State());
            if (s.sampled && now - s.lastAt < cfg.interval().toMillis()) {
                continue; // not yet an interval since the last sample
            }
            boolean first = !s.sampled;
            long stall = first || o.psiSomeTotalMicros() < 0 || s.lastPsi < 0 ? 0 : o.psiSomeTotalMicros() - s.lastPsi;
            long refaults = first ? 0 : Math.max(0, o.refaultPages() - s.lastRefaults);
            s.lastPsi = o.psiSomeTotalMicros();
            s.lastRefaults = o.refaultPages();
            s.lastAt = now;
            s.sampled = true;
            updateRanges(s, o.ranges());
            s.lastReferenced = o.ranges().stream().mapToLong(Range::referencedBytes).sum();
            if (first || o.swapAllowance() == 0 || o.swapTotal() == 0) {
                continue;
            }
            long reserve = (long) (o.swapTotal() * cfg.swapReserve());
            if (o.swapFree() <= reserve) {
                continue; // swap nearly full: stop
            }
            if (refaults > cfg.refaultPagesPerIntervalMax()) {
                if (now - s.lastBurstAt > BURST_MEMORY_INTERVALS * cfg.interval().toMillis()) {
                    s.bursts = 0; // the last burst is long gone: this is a first one again
                }
                s.lastBurstAt = now;
                s.bursts = Math.min(s.bursts + 1, 6);
                s.backoff = cfg.backoffIntervals() << s.bursts;
                continue;
            }
            if (stall >= cfg.stallTargetMicros()) {
                s.backoff = cfg.backoffIntervals();
                continue;
            }
            if (s.backoff > 0) {
                s.backoff--;
                continue;
            }
            long budget = Math.min(cfg.bytesPerInterval(), o.swapFree() - reserve);
            if (o.swapAllowance() > 0) {
                budget = Math.min(budget, o.swapAllowance());
            }
            Decision d = pick(o, s, budget / PAGE * PAGE, stall, refaults);
            if (d != null) {
                out.add(d);
            }
        }
        return out;
    }

    /** Forgets every container not in {@code live} (gone); containers merely not due are kept. */
    public void retain(java.util.Collection<String> live) {
        states.keySet().retainAll(new HashSet<>(live));
    }

    private void updateRanges(State s, List<Range> ranges) {
        Set<Key> seen = new HashSet<>();
        for (Range r : ranges) {
            Key k = new Key(r.pid(), r.start(), r.end());
            seen.add(k);
            RangeState rs = s.ranges.computeIfAbsent(k, x -> new RangeState());
            if (rs.recentReferenced == null) {
                rs.recentReferenced = new long[cfg.coldSamples()];
            }
            rs.recentReferenced[rs.samples % cfg.coldSamples()] = r.referencedBytes();
            rs.samples++;
            if (r.referencedBytes() > 0) {
                if (rs.pagedOut) {
                    rs.promotions = Math.min(rs.promotions + 1, 4);
                }
                rs.idle = 0;
                rs.pagedOut = false;
                rs.cursor = 0;
            } else {
                rs.idle++;
            }
        }
        s.ranges.keySet().retainAll(seen);
    }

    private int needed(RangeState rs) {
        return cfg.coldSamples() << rs.promotions;
    }

    private Decision pick(Observation o, State s, long budget, long stall, long refaults) {
        if (budget < PAGE) {
            return null;
        }
        List<Range> cold = new ArrayList<>();
        for (Range r : o.ranges()) {
            RangeState rs = s.ranges.get(new Key(r.pid(), r.start(), r.end()));
            if (rs.idle >= needed(rs) && r.residentBytes() > 0) {
                cold.add(r);
            }
        }
        cold.sort(Comparator.comparingInt((Range r) -> -s.ranges.get(new Key(r.pid(), r.start(), r.end())).idle)
                .thenComparingLong(r -> -r.residentBytes()).thenComparingLong(Range::pid).thenComparingLong(Range::start));
        List<Pageout> chosen = new ArrayList<>();
        long estimate = 0;
        int minIdle = Integer.MAX_VALUE;
        for (Range r : cold) {
            if (budget - estimate < PAGE) {
                break;
            }
            RangeState rs = s.ranges.get(new Key(r.pid(), r.start(), r.end()));
            long from = r.start() + rs.cursor;
            long left = r.end() - from;
            double density = (double) r.residentBytes() / (r.end() - r.start());
            long residentLeft = Math.max(PAGE, (long) (left * density));
            long length;
            long est;
            if (residentLeft <= budget - estimate) {
                length = left;
                est = residentLeft;
            } else {
                length = Math.max(PAGE, (long) ((budget - estimate) / density) / PAGE * PAGE);
                length = Math.min(length, left);
                est = Math.min(budget - estimate, (long) (length * density));
            }
            chosen.add(new Pageout(r.pid(), from, length));
            estimate += est;
            minIdle = Math.min(minIdle, rs.idle);
            rs.cursor += length;
            if (rs.cursor >= r.end() - r.start()) {
                rs.cursor = 0;
                rs.pagedOut = true;
                rs.idle = 0; // whatever stayed resident is retried only after another cold stretch
            }
        }
        // partly referenced ranges with a full window: the bytes no sample saw referenced
        long unreferenced = 0;
        int mixed = 0;
        for (Range r : o.ranges()) {
            RangeState rs = s.ranges.get(new Key(r.pid(), r.start(), r.end()));
            if (rs.idle > 0 || rs.samples < cfg.coldSamples()) {
                continue;
            }
            long maxRef = 0;
            for (long v : rs.recentReferenced) {
                maxRef = Math.max(maxRef, v);
            }
            if (r.residentBytes() > maxRef) {
                unreferenced += r.residentBytes() - maxRef;
                mixed++;
            }
        }
        long reclaim = (long) (unreferenced * cfg.mixedReclaimShare());
        reclaim = Math.min(reclaim, budget - estimate) / PAGE * PAGE;
        if (reclaim < MIN_RECLAIM) {
            reclaim = 0;
        }
        if (chosen.isEmpty() && reclaim == 0) {
            return null;
        }
        String why = (chosen.isEmpty() ? "" : chosen.size() + " range(s) unreferenced for " + minIdle + "+ samples of "
                + cfg.interval().toMillis() + " ms (" + cfg.coldSamples() + " needed): page out ~" + estimate
                + " bytes; ")
                + (reclaim == 0 ? "" : mixed + " partly referenced range(s) hold " + unreferenced
                + " bytes unreferenced in " + cfg.coldSamples() + " samples: reclaim " + reclaim + " through the LRU; ")
                + "stall " + (o.psiSomeTotalMicros() < 0 ? "unknown (no per-cgroup PSI)" : stall + " µs")
                + ", refaults " + refaults + " pages (budget " + budget + ")";
        return new Decision(o.cgroup(), chosen, estimate, reclaim, why);
    }
}
