package io.memwarden.control;

import io.memwarden.model.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Proactively offloads cold memory of containers that may swap, under a pressure target — the TMO/Senpai family
 * (memory-control-anchors.md §1). Each interval, per cgroup: the stall is the growth of its PSI {@code some total}
 * (µs) over the interval; at or above the target it backs off at once (no reclaim, and none for
 * {@code backoffIntervals}); below it reclaims {@code usage × ratio × (1 − stall/target)} (TMO's law), bounded by the
 * container's remaining swap allowance, by swap free above a reserve, and never below a floor. A swap-in (refault)
 * burst also counts as pressure, and teaches a floor: the usage before the last offload was the working set's edge,
 * so it is not probed below again for {@code floorHold} (doubling the back-off on each further burst). A state
 * machine with an injected clock; no I/O.
 */
public final class ColdOffloader {

    public record Config(Duration interval, long stallTargetMicros, double ratio, long floorBytes, double swapReserve,
                         long swapInPagesPerIntervalMax, int backoffIntervals) {
        /**
         * Defaults: a 2 s interval (PSI's averaging granularity), 20 ms of stall per interval (1 %) as the target, 5 %
         * of usage per step, a 32 MiB floor, back-off for 3 intervals on stall or on more than 256 swap-ins. Faster
         * than Senpai's 1 % per 6 s, which needs about 4 minutes to move 90 % of a cold set; cold pages do not come
         * back, so the stall and swap-in guards are what stop it at the working set.
         */
        public static final Config DEFAULTS = new Config(Duration.ofSeconds(2), 20_000, 0.05, 32L << 20, 0.10, 256, 3);
    }

    /**
     * @param psiSomeTotalMicros cumulative PSI some total of the cgroup (or of the node on v1 without per-cgroup PSI)
     * @param swapInPages        cumulative swap-ins attributable to it (v2 workingset_refault_anon; v1 node pswpin)
     * @param swapAllowance      bytes it may still swap (-1 unlimited, 0 none)
     * @param swapFree           node swap free, {@code swapTotal} node swap total
     */
    public record Observation(String cgroup, long usage, long anon, long psiSomeTotalMicros, long swapInPages,
                              long swapAllowance, long swapFree, long swapTotal, long stallTargetMicros) {
        /** With the config's stall target. */
        public Observation(String cgroup, long usage, long anon, long psiSomeTotalMicros, long swapInPages,
                           long swapAllowance, long swapFree, long swapTotal) {
            this(cgroup, usage, anon, psiSomeTotalMicros, swapInPages, swapAllowance, swapFree, swapTotal, -1);
        }
    }

    /**
     * The working set as the loop found it (TMO's sense): the usage at which probing last met pressure — its stall
     * reached the target, or offloaded pages came back — with when that was.
     */
    public record WorkingSetEstimate(long bytes, long atMillis, String how) {}

    /** Reclaim {@code bytes} of the cgroup's memory to swap. */
    public record Offload(String cgroup, long bytes, String trigger) {}

    private static final long PAGE = 4096;

    /** How long a floor learnt from a refault burst holds. */
    static final long FLOOR_HOLD_MILLIS = 300_000;

    private static final class State {
        long lastPsi = -1;
        long lastSwapIn = -1;
        long lastAt;
        int backoff;
        int bursts;
        long usageBeforeLastOffload = -1;
        long learnedFloor;
        long floorUntil;
        WorkingSetEstimate estimate;
    }

    private final Config cfg;
    private final Clock clock;
    private final Map<String, State> states = new HashMap<>();

    public ColdOffloader(Config cfg, Clock clock) {
        this.cfg = cfg;
        this.clock = clock;
    }

    /** The cgroup's working-set estimate, or null before probing first met pressure. */
    public WorkingSetEstimate estimate(String cgroup) {
        State s = states.get(cgroup);
        return s == null ? null : s.estimate;
    }

    public List<Offload> decide(List<Observation> observations) {
        Map<String, Observation> byCgroup = new java.util.LinkedHashMap<>();
        for (Observation o : observations) {
            byCgroup.put(o.cgroup(), o);
        }
        return decide(byCgroup.keySet(), byCgroup::get);
    }

    /**
     * As {@link #decide(List)} for the cgroups {@code cgroups}, observing ({@code observe}) only those whose interval
     * has passed: the caller reads a container's files only when a decision is due. {@code observe} may return null
     * (no observation this time: the cgroup keeps its state and is skipped).
     */
    public List<Offload> decide(java.util.Collection<String> cgroups,
                                java.util.function.Function<String, Observation> observe) {
        long now = clock.millis();
        List<Offload> out = new ArrayList<>();
        for (String cgroup : cgroups) {
            State s = states.computeIfAbsent(cgroup, k -> new State());
            if (s.lastPsi >= 0 && now - s.lastAt < cfg.interval().toMillis()) {
                continue; // not yet an interval since the last decision
            }
            Observation o = observe.apply(cgroup);
            if (o == null) {
                continue;
            }
            boolean first = s.lastPsi < 0;
            long stall = first ? 0 : o.psiSomeTotalMicros() - s.lastPsi;
            long swapIns = first ? 0 : o.swapInPages() - s.lastSwapIn;
            s.lastPsi = o.psiSomeTotalMicros();
            s.lastSwapIn = o.swapInPages();
            s.lastAt = now;
            if (first || o.swapAllowance() == 0 || o.swapTotal() == 0) {
                continue;
            }
            if (swapIns > cfg.swapInPagesPerIntervalMax()) {
                // offloaded pages came back: the last probe went into the working set
                if (s.usageBeforeLastOffload > 0) {
                    s.learnedFloor = Math.max(s.learnedFloor, s.usageBeforeLastOffload);
                    s.floorUntil = now + FLOOR_HOLD_MILLIS;
                    s.estimate = new WorkingSetEstimate(s.learnedFloor, now, swapIns
                            + " pages swapped back in after an offload from " + s.usageBeforeLastOffload + " bytes");
                }
                s.bursts = Math.min(s.bursts + 1, 6);
                s.backoff = cfg.backoffIntervals() << s.bursts;
                continue;
            }
            long target = o.stallTargetMicros() > 0 ? o.stallTargetMicros() : cfg.stallTargetMicros();
            if (stall >= target) {
                s.backoff = cfg.backoffIntervals();
                if (s.usageBeforeLastOffload > 0) {
                    s.estimate = new WorkingSetEstimate(o.usage(), now, "stall " + stall + " µs reached the target "
                            + target + " µs at usage " + o.usage());
                }
                continue;
            }
            if (s.backoff > 0) {
                s.backoff--;
                continue;
            }
            double headroom = 1.0 - (double) stall / target;
            long bytes = (long) (o.usage() * cfg.ratio() * headroom);
            bytes = Math.min(bytes, o.anon());
            bytes = Math.min(bytes, Math.max(0, o.usage() - cfg.floorBytes()));
            if (now < s.floorUntil) {
                bytes = Math.min(bytes, Math.max(0, o.usage() - s.learnedFloor));
            } else {
                s.learnedFloor = 0;
                s.bursts = 0;
            }
            if (o.swapAllowance() > 0) {
                bytes = Math.min(bytes, o.swapAllowance());
            }
            bytes = Math.min(bytes, Math.max(0, o.swapFree() - (long) (o.swapTotal() * cfg.swapReserve())));
            bytes = bytes / PAGE * PAGE;
            if (bytes >= PAGE) {
                s.usageBeforeLastOffload = o.usage();
                out.add(new Offload(o.cgroup(), bytes, "stall " + stall + " µs < target " + target
                        + " µs, swap-ins " + swapIns + " pages: offload " + bytes + " bytes"));
            }
        }
        states.keySet().retainAll(cgroups instanceof Set<?> ? cgroups : new java.util.HashSet<>(cgroups));
        return out;
    }
}
