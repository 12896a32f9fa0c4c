package io.memwarden.control;

import io.memwarden.model.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Keeps memory.high from stalling a container (the reason KEP-2570 stalled: a workload whose working set sits above
 * memory.high is throttled without end unless someone acts). A state machine over per-cgroup observations with an
 * injected clock; no I/O.
 *
 * <p>A cgroup counts as throttled in a tick when its {@code high} events grow faster than a bound or its own PSI
 * {@code some avg10} is above a bound, while its usage is at the throttle point. After {@code ticksToAct}
 * throttled ticks in a row it acts, escalating: first make room by reclaiming to swap (only if the container may
 * swap and swap has room), then, if it is still throttled, raise memory.high toward memory.max by a step. Once quiet
 * for {@code restoreAfter} with usage well below the planned value, memory.high goes back to the plan.
 *
 * <p>cgroup v1 has no memory.high: memwarden's plan projects it onto {@code memory.limit_in_bytes} (docs/policy.md),
 * which does not throttle but reclaims and then OOM-kills. The same machine runs there with the ceiling as "high",
 * the plan's memory limit as "max" and {@code failcnt} as the event counter: a container stuck at its projected
 * ceiling gets room (swap) or a higher ceiling, never more than its declared limit.
 */
public final class ThrottleRelief {

    public record Config(long highEventsPerSecond, double psiSomeAvg10, int ticksToAct, double raiseStep,
                         long minRaiseBytes, Duration restoreAfter, double reclaimShare) {
        public static final Config DEFAULTS = new Config(50, 10.0, 2, 0.25, 4L << 20, Duration.ofSeconds(60), 0.05);
    }

    /**
     * @param high          current memory.high (or v1 ceiling), -1 = max
     * @param max           memory.max (v1: the plan's limit), -1 = max
     * @param plannedHigh   the plan's value, -1 = max
     * @param events        cumulative memory.events high (v1: failcnt)
     * @param psiSomeAvg10  the cgroup's PSI some avg10 (%), or -1 when unknown
     * @param mayReclaim    the container may swap and swap has room
     */
    public record Observation(String cgroup, long usage, long high, long max, long plannedHigh, long events,
                              double psiSomeAvg10, boolean mayReclaim) {}

    public sealed interface Action {
        String cgroup();

        String trigger();

        record Reclaim(String cgroup, long bytes, String trigger) implements Action {}

        record SetHigh(String cgroup, long high, String trigger) implements Action {}
    }

    private static final long PAGE = 4096;

    private static final class State {
        long lastEvents = -1;
        long lastAt;
        int hotTicks;
        int acts;
        long quietSince = -1;
    }

    private final Config cfg;
    private final Clock clock;
    private final Map<String, State> states = new HashMap<>();

    public ThrottleRelief(Config cfg, Clock clock) {
        this.cfg = cfg;
        this.clock = clock;
    }

    public List<Action> decide(List<Observation> observations) {
        long now = clock.millis();
        List<Action> out = new ArrayList<>();
        for (Observation o : observations) {
            State s = states.computeIfAbsent(o.cgroup(), k -> new State());
            double rate = 0;
            if (s.lastEvents >= 0 && now > s.lastAt) {
                rate = (o.events() - s.lastEvents) * 1000.0 / (now - s.lastAt);
            }
            boolean first = s.lastEvents < 0;
            s.lastEvents = o.events();
            s.lastAt = now;
            if (o.high() < 0) {
                s.hotTicks = 0;
                continue; // no throttle point
            }
            boolean atHigh = o.usage() >= o.high() * 95 / 100;
            boolean throttled = !first && atHigh && (rate > cfg.highEventsPerSecond()
                    || (o.psiSomeAvg10() >= 0 && o.psiSomeAvg10() >= cfg.psiSomeAvg10()));
            if (!throttled) {
                s.hotTicks = 0;
                s.acts = 0;
                if (s.quietSince < 0) {
                    s.quietSince = now;
                }
                boolean raised = o.plannedHigh() >= 0 && o.high() > o.plannedHigh();
                if (raised && now - s.quietSince >= cfg.restoreAfter().toMillis()
                        && o.usage() < o.plannedHigh() * 9 / 10) {
                    out.add(new Action.SetHigh(o.cgroup(), o.plannedHigh(), "quiet for "
                            + (now - s.quietSince) / 1000 + " s with usage " + o.usage() + " below 90% of the planned "
                            + o.plannedHigh() + ": back to the plan"));
                    s.quietSince = now;
                }
                continue;
            }
            s.quietSince = -1;
            s.hotTicks++;
            if (s.hotTicks < cfg.ticksToAct()) {
                continue;
            }
            s.hotTicks = 0;
            String trigger = "throttled at memory.high " + o.high() + ": high events " + Math.round(rate) + "/s"
                    + (o.psiSomeAvg10() >= 0 ? ", PSI some avg10 " + o.psiSomeAvg10() + "%" : "") + ", usage "
                    + o.usage();
            if (s.acts == 0 && o.mayReclaim()) {
                long bytes = Math.max(PAGE, (long) (o.usage() * cfg.reclaimShare()) / PAGE * PAGE);
                out.add(new Action.Reclaim(o.cgroup(), bytes, trigger + ": make room by reclaiming to swap"));
                s.acts++;
                continue;
            }
            if (o.max() >= 0 && o.high() >= o.max()) {
                continue; // nothing left to raise: the kernel's memory.max decides
            }
            long room = o.max() >= 0 ? o.max() - o.high() : o.high();
            long step = Math.max(cfg.minRaiseBytes(), (long) (room * cfg.raiseStep()));
            long next = (o.high() + step) / PAGE * PAGE;
            if (o.max() >= 0) {
                next = Math.min(next, o.max());
            }
            out.add(new Action.SetHigh(o.cgroup(), next, trigger + ": raise toward memory.max "
                    + (o.max() < 0 ? "max" : o.max())));
            s.acts++;
        }
        // a set: retainAll on a list would compare every state with every observation (n² per round)
        states.keySet().retainAll(observations.stream().map(Observation::cgroup)
                .collect(java.util.stream.Collectors.toSet()));
        return out;
    }
}
