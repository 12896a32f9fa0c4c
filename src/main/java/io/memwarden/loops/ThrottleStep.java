package io.memwarden.loops;

import io.memwarden.cgroup.MemoryUsage;
import io.memwarden.model.Clock;
import io.memwarden.control.ThrottleRelief;
import io.memwarden.model.CgroupFiles;
import io.memwarden.model.CgroupVersion;
import io.memwarden.model.PodSpec;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The round's throttle-relief step: each container's throttle point (v2 memory.high, v1 the projected ceiling
 * memory.limit_in_bytes), its throttle events and PSI → {@link ThrottleRelief}.
 */
final class ThrottleStep {
    static final String LOOP = "throttle-relief";

    private final ThrottleRelief relief;

    ThrottleStep(Clock clock) {
        this.relief = new ThrottleRelief(ThrottleRelief.Config.DEFAULTS, clock);
    }

    void run(Round round) {
        boolean swapRoom = round.node().swapTotal() > 0 && round.node().swapFree() > round.node().swapTotal() / 10;
        List<ThrottleRelief.Observation> obs = new ArrayList<>();
        Map<String, ContainerStatus> byCgroup = new LinkedHashMap<>();
        Map<String, Long> declared = declaredLimits(round.pods());
        for (ContainerStatus s : round.running()) {
            MemoryUsage u = s.usage();
            if (u == null) {
                continue;
            }
            ThrottleRelief.Observation o;
            try {
                o = observe(s, u, declared, swapRoom);
            } catch (UncheckedIOException e) {
                continue; // removed during the round
            }
            obs.add(o);
            byCgroup.put(s.cgroup().toString(), s);
        }
        for (ThrottleRelief.Action a : relief.decide(obs)) {
            act(a, byCgroup.get(a.cgroup()), round);
        }
    }

    private static ThrottleRelief.Observation observe(ContainerStatus s, MemoryUsage u, Map<String, Long> declared,
                                                      boolean swapRoom) {
        boolean v2 = u.version() == CgroupVersion.V2;
        long high = v2 ? u.highBytes() : u.limitBytes();
        long events = u.event(v2 ? "high" : "failcnt");
        if (high < 0) {
            // no throttle point: relief only keeps counting its events, so nothing else is read
            return new ThrottleRelief.Observation(s.cgroup().toString(), 0, high, -1, -1, events, -1, false);
        }
        long max = v2 ? u.limitBytes() : declared.getOrDefault(s.pod() + "/" + s.container(), -1L);
        double psi = u.pressure() == null ? -1 : u.pressure().someAvg10();
        return new ThrottleRelief.Observation(s.cgroup().toString(), u.usageBytes(), high, max, plannedHigh(s), events,
                psi, swapRoom && u.swapLimitBytes() != 0);
    }

    /** "namespace/pod/container" → its declared memory limit (-1 none), the first declaration of each. */
    private static Map<String, Long> declaredLimits(List<ManagedWorkload.ManagedPod> pods) {
        Map<String, Long> out = new HashMap<>();
        for (ManagedWorkload.ManagedPod mp : pods) {
            PodSpec p = mp.spec();
            for (var c : p.containers()) {
                long limit = c.resources().memoryLimitOrZero();
                out.putIfAbsent(p.key() + "/" + c.name(), limit == 0 ? -1 : limit);
            }
        }
        return out;
    }

    private static long plannedHigh(ContainerStatus s) {
        String v = s.applied().getOrDefault(CgroupFiles.MEMORY_HIGH, s.applied().get(CgroupFiles.V1_LIMIT));
        if (v == null || v.equals("max") || v.equals("-1")) {
            return -1;
        }
        return Long.parseLong(v);
    }

    private static void act(ThrottleRelief.Action a, ContainerStatus s, Round round) {
        if (s == null) {
            return;
        }
        switch (a) {
            case ThrottleRelief.Action.Reclaim r -> round.reclaim(LOOP, s, r.bytes(), r.trigger());
            case ThrottleRelief.Action.SetHigh h -> {
                boolean v2 = s.usage().version() == CgroupVersion.V2;
                // v1: the projected ceiling is memory.limit_in_bytes, the swap allowance kept above it
                String result = v2 ? round.actuator().setHigh(s, h.high()) : round.actuator().setV1Ceiling(s, h.high());
                round.record(LOOP, s.pod(), s.container(), (v2 ? "memory.high=" : "memory.limit_in_bytes=") + h.high(),
                        h.trigger(), result);
            }
        }
    }
}
