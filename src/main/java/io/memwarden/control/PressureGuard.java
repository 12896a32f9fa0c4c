package io.memwarden.control;

import io.memwarden.model.Clock;
import io.memwarden.model.QosClass;
import io.memwarden.policy.Criticality;
import io.memwarden.policy.EvictionRanking;
import io.memwarden.policy.EvictionThreshold;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Acts on node memory pressure before the kernel OOM killer does: a state machine over observations with an
 * injected clock (no I/O). Signals: the kubelet's memory.available, made swap-aware (free swap, the swap-in rate and
 * whether any container may swap at all decide whether low RAM is an emergency or work for the swap device), and
 * PSI.
 *
 * <ul>
 *   <li><b>SOFT</b> (available below the soft threshold, PSI some above its bound, available below the hard
 *       threshold while swap has room, or a hypervisor's balloon growing fast enough to take available below the
 *       hard threshold within the grace period): after {@code softGrace}, reclaim from containers that may swap; after
 *       2 × grace also throttle BestEffort containers; after 3 × grace evict one victim.</li>
 *   <li><b>HARD</b> (available below the hard threshold and swap has no room, or PSI full above its bound): all three
 *       at once.</li>
 * </ul>
 * Victims are ranked as the kubelet ranks them ({@link EvictionRanking}); critical pods and admin-protected pods
 * never are. One victim at a time: after an eviction, none until the cooldown passed and the victim is gone.
 *
 * <p>Evictions that cannot wedge (kubelet-semantics.md §4: the kubelet's node-pressure eviction kills the pod itself
 * and never waits for a PodDisruptionBudget). The loops report each eviction's {@link Outcome}
 * ({@link #evictionOutcome}). A refused, failed or timed-out eviction costs no cooldown: the pod is remembered as
 * refused for one cooldown (not asked again before then) and the next-ranked pod is asked at the next round. While
 * the node stays HARD and no pod has left it for {@code directAfter} since the guard first wanted a victim, the guard
 * decides a {@link GuardAction.Kill}: the victim still running after an accepted eviction, else the top-ranked pod,
 * refused or not. A HARD node therefore gets a pod taken off (an accepted eviction or a direct kill) within
 * cooldown + directAfter plus one round and one API call.
 * <p>The kubelet's eviction settings ({@link KubeletEviction}, kubelet-semantics.md §4): beside its own thresholds the
 * guard evaluates the kubelet's memory.available and allocatableMemory.available thresholds as the kubelet's
 * eviction manager does (soft ones after their grace period, minimum reclaim, the MemoryPressure condition's
 * transition period). A hard one met makes the level HARD; a soft one past its grace evicts one victim per cooldown.
 * Each action carries the {@link GuardTrigger} that made it (memwarden's own threshold or the kubelet's), and an
 * eviction the kubelet's pod grace period (1 s at HARD, else min(evictionMaxPodGracePeriod,
 * terminationGracePeriodSeconds)).
 * On a VM node the loops {@link #retune} the thresholds each round to the capacity the balloon left
 * ({@link Config#scaled}), keeping the grace and cooldown timers.
 */
public final class PressureGuard {

    public enum Level { NONE, SOFT, HARD }

    /** What became of an {@link GuardAction.Evict}, as the loops report it ({@link #evictionOutcome}). */
    public enum Outcome {
        /** the Eviction API accepted it (or dry-run): wait for the pod to go, bounded by directAfter when HARD */
        ACCEPTED,
        /** the pod was killed (standalone: no Eviction API) */
        KILLED,
        /** refused by the API: HTTP 429, a PodDisruptionBudget */
        REFUSED,
        /** failed: any other HTTP error (500, 404), the API unreachable, evictions disabled */
        FAILED,
        /** no answer within the request timeout */
        TIMED_OUT;

        /** Whether the pod was not taken off: the guard moves on to the next-ranked pod. */
        public boolean notTaken() {
            return this == REFUSED || this == FAILED || this == TIMED_OUT;
        }
    }

    /** Default {@code directAfter}: see {@link Config}. */
    public static final Duration DEFAULT_DIRECT_AFTER = Duration.ofSeconds(5);

    /**
     * @param reclaimFraction   share of a container's usage to reclaim per decision (e.g. 0.05)
     * @param swapFreeMin       fraction of swap that must stay free for swap to count as room (e.g. 0.1)
     * @param swapInPagesPerSecMax swap-in rate above which swap counts as thrashing, not room
     * @param directAfter       how long the node may stay HARD while the Eviction API takes no pod off it (refused,
     *                          failed, timed out, or accepted and the pod still running) before the guard kills the
     *                          victim directly; default {@link #DEFAULT_DIRECT_AFTER} (5 s): a few 1 s rounds of API
     *                          answers, and half the kubelet's 10 s eviction period, so memwarden still acts before the
     *                          kubelet's own hard eviction and the kernel OOM killer
     */
    public record Config(long softAvailableBytes, Duration softGrace, long hardAvailableBytes, double psiSomeAvg10Soft,
                         double psiFullAvg10Hard, double swapFreeMin, long swapInPagesPerSecMax, Duration cooldown,
                         double reclaimFraction, Duration directAfter) {
        /** With the default {@code directAfter}. */
        public Config(long softAvailableBytes, Duration softGrace, long hardAvailableBytes, double psiSomeAvg10Soft,
                      double psiFullAvg10Hard, double swapFreeMin, long swapInPagesPerSecMax, Duration cooldown,
                      double reclaimFraction) {
            this(softAvailableBytes, softGrace, hardAvailableBytes, psiSomeAvg10Soft, psiFullAvg10Hard, swapFreeMin,
                    swapInPagesPerSecMax, cooldown, reclaimFraction, DEFAULT_DIRECT_AFTER);
        }

        public Config {
            if (directAfter == null || directAfter.isNegative()) {
                throw new IllegalArgumentException("directAfter must be zero or positive, got " + directAfter);
            }
            if (hardAvailableBytes > softAvailableBytes) {
                throw new IllegalArgumentException("hard threshold " + hardAvailableBytes + " above soft threshold "
                        + softAvailableBytes);
            }
            if (!(reclaimFraction > 0 && reclaimFraction <= 1)) {
                throw new IllegalArgumentException("reclaimFraction must be in (0, 1], got " + reclaimFraction);
            }
        }

        /**
         * The same config for a node whose capacity went from {@code configuredFor} to {@code capacity} (a balloon
         * took memory or gave it back): the memory.available thresholds scale by the same ratio, so a threshold of
         * 20 % of the node stays 20 % of what the hypervisor left; the rest is unchanged.
         */
        public Config scaled(long configuredFor, long capacity) {
            if (configuredFor <= 0 || capacity == configuredFor) {
                return this;
            }
            double ratio = Math.max(0, (double) capacity / configuredFor);
            return new Config((long) Math.floor(softAvailableBytes * ratio), softGrace,
                    (long) Math.floor(hardAvailableBytes * ratio), psiSomeAvg10Soft, psiFullAvg10Hard, swapFreeMin,
                    swapInPagesPerSecMax, cooldown, reclaimFraction, directAfter);
        }

        /** The same config with another {@code directAfter}. */
        public Config withDirectAfter(Duration d) {
            return new Config(softAvailableBytes, softGrace, hardAvailableBytes, psiSomeAvg10Soft, psiFullAvg10Hard,
                    swapFreeMin, swapInPagesPerSecMax, cooldown, reclaimFraction, d);
        }

        /**
         * Defaults scaled to the node: soft 20 % of RAM, hard 10 % (well above the kubelet's 100Mi, so memwarden acts
         * before the kubelet's 10 s loop and the kernel), grace 5 s, cooldown 10 s, PSI some 20 % / full 40 %,
         * direct kill after 5 s.
         */
        public static Config defaults(long memoryCapacity) {
            return new Config(memoryCapacity / 5, Duration.ofSeconds(5), memoryCapacity / 10, 20.0, 40.0, 0.10,
                    2560, Duration.ofSeconds(10), 0.05, DEFAULT_DIRECT_AFTER);
        }
    }

    public record Decision(Level level, List<GuardAction> actions, List<String> why) {}

    private static final long PAGE = 4096;
    /** the API answers a direct kill's reason names at most (the latest ones) */
    private static final int MAX_REASONS = 3;

    private volatile Config cfg;
    private final Clock clock;
    private final KubeletEviction kubelet;
    private volatile Level lastLevel = Level.NONE;
    private long softSince = -1;
    private long lastEvictAt = Long.MIN_VALUE / 2;
    private long evictAtBefore = Long.MIN_VALUE / 2;
    /** the pod of the last eviction, until it is gone (null: none pending) */
    private String lastVictim;
    /** the pod of the last eviction or direct kill, for the log */
    private String lastTaken;
    /** whether that eviction was a kill (standalone), not an accepted API eviction */
    private boolean victimKilled;
    /** the first round, in the current run of HARD rounds, that wanted a victim while no pod left; -1: none */
    private long wantSince = -1;
    /** refused pods and until when they are not asked again (clock ms) */
    private final Map<String, Long> refusedUntil = new HashMap<>();
    /** each remembered refusal, failure or timeout in words, for the direct kill's reason (as refusedUntil) */
    private final Map<String, String> refusalWhy = new LinkedHashMap<>();
    private boolean noContainerMaySwap;
    private long lastSwapIn = -1;
    private long lastSwapInAt;

    /** A guard on memwarden's own thresholds only (no kubelet eviction settings known). */
    public PressureGuard(Config cfg, Clock clock) {
        this(cfg, new KubeletEviction(KubeletEviction.Settings.NONE), clock);
    }

    /**
     * @param kubelet the kubelet's eviction thresholds and their state (kept by the caller across guards: a new guard
     *                for new memwarden thresholds keeps the kubelet's grace periods and MemoryPressure condition)
     */
    public PressureGuard(Config cfg, KubeletEviction kubelet, Clock clock) {
        this.cfg = cfg;
        this.kubelet = kubelet;
        this.clock = clock;
    }

    /** The level of the last decision (memwarden's own or the kubelet's, whichever is higher). */
    public Level level() {
        return lastLevel;
    }

    /** The kubelet's side: its thresholds, and the last pass (met thresholds, the MemoryPressure condition). */
    public KubeletEviction kubelet() {
        return kubelet;
    }

    /**
     * New thresholds for the same node (its capacity changed: a balloon), keeping the guard's state: a soft
     * pressure's grace period and the eviction cooldown go on.
     */
    public void retune(Config next) {
        this.cfg = next;
    }

    public Config config() {
        return cfg;
    }

    /**
     * Whether a balloon growing at the node's rate would take memory.available below the hard threshold within the
     * soft grace period: balloon growth is pressure before it shows in memory.available.
     */
    private boolean balloonWillPress(NodeObservation node) {
        double rate = node.balloonGrowthBytesPerSecond();
        return rate > 0 && node.memoryAvailable() - rate * Math.max(1000, cfg.softGrace().toMillis()) / 1000.0
                < cfg.hardAvailableBytes();
    }

    /**
     * Whether a decision on {@code node} can depend on the pods at all: false when memory.available is at or above
     * the soft threshold (hence the hard one) and PSI some and full are below their bounds, where the level is NONE
     * whatever the pods are. The loops then skip reading the containers for the guard and decide on no pods.
     */
    public boolean needsPods(NodeObservation node) {
        double some = node.psi() == null ? 0 : node.psi().someAvg10();
        double full = node.psi() == null ? 0 : node.psi().fullAvg10();
        return node.memoryAvailable() < cfg.softAvailableBytes() || some >= cfg.psiSomeAvg10Soft()
                || full >= cfg.psiFullAvg10Hard() || balloonWillPress(node) || kubelet.mayMeet(node);
    }

    public Decision decide(NodeObservation node, List<PodObservation> pods) {
        long now = clock.millis();
        List<String> why = new ArrayList<>();
        double swapInRate = 0;
        if (lastSwapIn >= 0 && now > lastSwapInAt) {
            swapInRate = (node.swapInPagesTotal() - lastSwapIn) * 1000.0 / (now - lastSwapInAt);
        }
        lastSwapIn = node.swapInPagesTotal();
        lastSwapInAt = now;
        noContainerMaySwap = pods.stream().flatMap(p -> p.containers().stream()).allMatch(c -> c.swapAllowance() == 0);
        boolean anyMaySwap = pods.stream().flatMap(p -> p.containers().stream()).anyMatch(c -> c.swapAllowance() != 0);
        boolean swapRoom = anyMaySwap && node.swapTotal() > 0 && node.swapFree() >= cfg.swapFreeMin() * node.swapTotal()
                && swapInRate <= cfg.swapInPagesPerSecMax();
        long available = node.memoryAvailable();
        double some = node.psi() == null ? 0 : node.psi().someAvg10();
        double full = node.psi() == null ? 0 : node.psi().fullAvg10();
        KubeletEviction.Pass kubeletPass = kubelet.observe(node, now);

        // memwarden's own thresholds (loops.guard.*)
        Level own = Level.NONE;
        String ownThreshold = null;
        long ownBytes = 0;
        if (available < cfg.hardAvailableBytes() && !swapRoom) {
            own = Level.HARD;
            ownThreshold = "loops.guard.hardAvailable " + human(cfg.hardAvailableBytes());
            ownBytes = cfg.hardAvailableBytes();
            why.add("memory.available " + available + " < hard " + cfg.hardAvailableBytes() + " and swap has no room ("
                    + swapState(node, swapInRate) + ")");
        } else if (full >= cfg.psiFullAvg10Hard()) {
            own = Level.HARD;
            ownThreshold = "loops.guard PSI full avg10 " + full + "% >= " + cfg.psiFullAvg10Hard() + "%";
            why.add("PSI full avg10 " + full + "% >= " + cfg.psiFullAvg10Hard() + "%");
        } else if (available < cfg.softAvailableBytes() || some >= cfg.psiSomeAvg10Soft()) {
            own = Level.SOFT;
            if (available < cfg.softAvailableBytes()) {
                ownThreshold = "loops.guard.softAvailable " + human(cfg.softAvailableBytes());
                ownBytes = cfg.softAvailableBytes();
            } else {
                ownThreshold = "loops.guard PSI some avg10 " + some + "% >= " + cfg.psiSomeAvg10Soft() + "%";
            }
            why.add(available < cfg.softAvailableBytes()
                    ? "memory.available " + available + " < soft " + cfg.softAvailableBytes()
                            + (available < cfg.hardAvailableBytes() ? " (below hard, but swap has room: "
                            + swapState(node, swapInRate) + ")" : "")
                    : "PSI some avg10 " + some + "% >= " + cfg.psiSomeAvg10Soft() + "%");
        } else if (balloonWillPress(node)) {
            own = Level.SOFT;
            ownThreshold = "loops.guard balloon growth (would cross loops.guard.hardAvailable "
                    + human(cfg.hardAvailableBytes()) + " within the soft grace)";
            ownBytes = cfg.hardAvailableBytes();
            why.add("balloon growing at " + Math.round(node.balloonGrowthBytesPerSecond()) + " bytes/s: memory.available "
                    + available + " would fall below hard " + cfg.hardAvailableBytes() + " within "
                    + Math.max(1000, cfg.softGrace().toMillis()) + " ms");
        }
        // the kubelet's thresholds, kubelet-exact (KubeletEviction)
        for (KubeletEviction.Met m : kubeletPass.met()) {
            why.add(m.name() + ": " + m.threshold().signal() + " " + m.availableBytes()
                    + (m.onlyByReclaim() ? " not yet above threshold + minimum reclaim " + m.thresholdBytes()
                    + " + " + m.minReclaimBytes() : " < " + m.thresholdBytes())
                    + (m.acting() ? "" : " (within its grace period: " + (now - m.sinceMillis()) + " of "
                    + m.threshold().gracePeriod().toMillis() + " ms)"));
        }
        KubeletEviction.Met k = kubeletPass.toReclaim();
        Level kl = k == null ? Level.NONE : k.hard() ? Level.HARD : Level.SOFT;
        Level level = own.ordinal() >= kl.ordinal() ? own : kl;
        lastLevel = level;
        if (level != Level.HARD) {
            wantSince = -1; // the direct-kill clock runs only while the node stays HARD
        }
        if (own == Level.NONE) {
            softSince = -1; // memwarden's own staging runs only while its own thresholds are met
        }
        if (level == Level.NONE) {
            return new Decision(level, List.of(), kubeletPass.met().isEmpty() ? List.of() : why);
        }
        GuardTrigger ownTrigger = own == Level.NONE ? null : new GuardTrigger(GuardTrigger.MEMWARDEN, ownThreshold,
                EvictionThreshold.MEMORY_AVAILABLE, available, ownBytes, versusKubelet(kubeletPass, now));
        GuardTrigger kubeletTrigger = k == null ? null : new GuardTrigger(GuardTrigger.KUBELET,
                k.threshold().field() + " " + k.threshold().describe() + (k.hard() ? ""
                        : " (grace " + k.threshold().gracePeriod().toSeconds() + "s)")
                        + (k.onlyByReclaim() ? " with minimum reclaim " + human(k.minReclaimBytes()) : ""),
                k.threshold().signal(), k.availableBytes(), k.thresholdBytes(), versusOwn(own, ownThreshold));
        if (own != Level.NONE && softSince < 0) {
            softSince = now;
        }
        long grace = cfg.softGrace().toMillis();
        long inSoft = own == Level.NONE ? 0 : now - softSince;
        int stage = level == Level.HARD ? 3 : own == Level.NONE ? 0
                : inSoft < grace ? 0 : inSoft < 2 * grace ? 1 : inSoft < 3 * grace ? 2 : 3;
        boolean kubeletEvicts = k != null;
        if (stage == 0 && !kubeletEvicts) {
            why.add("within the soft grace period (" + inSoft + " of " + grace + " ms)");
            return new Decision(level, List.of(), why);
        }
        // who the staged actions (reclaim, throttle) answer: memwarden's own level unless the kubelet's is HARD
        GuardTrigger staged = own == Level.HARD || kl != Level.HARD ? ownTrigger : kubeletTrigger;
        GuardTrigger evictBy = own == Level.HARD ? ownTrigger : kl == Level.HARD ? kubeletTrigger
                : stage >= 3 ? ownTrigger : kubeletTrigger;
        String trigger = String.join("; ", why);
        List<GuardAction> actions = new ArrayList<>();
        if (stage >= 1 && swapRoom) {
            for (PodObservation p : pods) {
                for (PodObservation.ContainerObservation c : p.containers()) {
                    if (c.swapAllowance() == 0) {
                        continue;
                    }
                    long want = (long) (c.usage() * cfg.reclaimFraction()) / PAGE * PAGE;
                    if (c.swapAllowance() > 0) {
                        want = Math.min(want, c.swapAllowance() / PAGE * PAGE);
                    }
                    if (want >= PAGE) {
                        actions.add(new GuardAction.Reclaim(p.pod().key(), c.name(), want, trigger, staged));
                    }
                }
            }
        } else if (stage >= 1) {
            why.add("no reclaim to swap: " + swapState(node, swapInRate));
        }
        if (stage >= 2) {
            for (PodObservation p : pods) {
                if (p.qos() != QosClass.BEST_EFFORT || Criticality.isCritical(p.pod()) || p.protectedPod()) {
                    continue;
                }
                for (PodObservation.ContainerObservation c : p.containers()) {
                    long high = Math.max(PAGE, c.usage() / PAGE * PAGE);
                    if (c.memoryHigh() < 0 || c.memoryHigh() > high) {
                        actions.add(new GuardAction.Throttle(p.pod().key(), c.name(), high, trigger, staged));
                    }
                }
            }
        }
        if (stage >= 3 || kubeletEvicts) {
            GuardAction evict = victim(now, evictBy, level, pods, trigger, why);
            if (evict != null) {
                actions.add(evict);
            }
        }
        return new Decision(level, actions, why);
    }

    /**
     * Where the kubelet's memory thresholds stood when memwarden's own acted: those met (acting, or within their
     * grace), and the hard memory.available ones not met yet.
     */
    private String versusKubelet(KubeletEviction.Pass pass, long now) {
        List<EvictionThreshold> all = kubelet.settings().thresholds();
        if (all.isEmpty()) {
            return "the kubelet's eviction thresholds are not known to this guard";
        }
        List<String> out = new ArrayList<>();
        for (KubeletEviction.Met m : pass.met()) {
            out.add("the kubelet's " + (m.hard() ? "hard" : "soft") + " threshold " + m.threshold().describe()
                    + (m.acting() ? " was met too" : " met " + (now - m.sinceMillis()) / 1000 + " s of its "
                    + m.threshold().gracePeriod().toSeconds() + " s grace"));
        }
        List<EvictionThreshold> metT = pass.met().stream().map(KubeletEviction.Met::threshold).toList();
        List<String> notMet = all.stream().filter(t -> !metT.contains(t) && !t.isSoft()
                        && t.signal().equals(EvictionThreshold.MEMORY_AVAILABLE)) // the signal memwarden's own act on
                .map(t -> "the kubelet's hard threshold " + t.describe()).distinct().toList();
        if (!notMet.isEmpty()) {
            out.add("before " + String.join(" and ", notMet));
        }
        return String.join("; ", out);
    }

    /** Where memwarden's own thresholds stood when the kubelet's acted. */
    private String versusOwn(Level own, String ownThreshold) {
        if (own != Level.NONE) {
            return "memwarden's own " + ownThreshold + " was met too";
        }
        return "memwarden's own thresholds (loops.guard.softAvailable " + human(cfg.softAvailableBytes())
                + ", hardAvailable " + human(cfg.hardAvailableBytes()) + ") were not reached";
    }

    private GuardAction victim(long now, GuardTrigger by, Level level, List<PodObservation> pods, String trigger,
                               List<String> why) {
        refusedUntil.entrySet().removeIf(e -> e.getValue() <= now
                || pods.stream().noneMatch(p -> p.pod().key().equals(e.getKey())));
        refusalWhy.keySet().retainAll(refusedUntil.keySet());
        boolean victimGone = lastVictim == null || pods.stream().noneMatch(p -> p.pod().key().equals(lastVictim));
        if (lastVictim != null && victimGone) {
            lastVictim = null;
            wantSince = -1; // a pod left the node: progress, the direct-kill clock starts again
        }
        List<EvictionRanking.Candidate> cands = new ArrayList<>();
        for (PodObservation p : pods) {
            if (!Criticality.isCritical(p.pod()) && !p.protectedPod()) {
                cands.add(new EvictionRanking.Candidate(p.pod(), p.memoryRequest(), p.workingSet()));
            }
        }
        cands.sort(EvictionRanking.ORDER);
        long threshold = by.thresholdBytes();
        long available = by.availableBytes();
        long direct = cfg.directAfter().toMillis();
        if (level == Level.HARD && !cands.isEmpty()
                && (lastVictim != null || now - lastEvictAt >= cfg.cooldown().toMillis())) {
            if (wantSince < 0) {
                wantSince = now;
            }
            if (now - wantSince >= direct) {
                EvictionRanking.Candidate v = lastVictim != null ? cands.stream()
                        .filter(c -> c.pod().key().equals(lastVictim)).findFirst().orElse(cands.getFirst())
                        : cands.getFirst();
                String pending = victimKilled ? "the kill of " + lastVictim + " did not take it off the node"
                        : "the Eviction API accepted the eviction of " + lastVictim;
                String reason = (lastVictim != null ? pending + " but it is still running"
                        : "the Eviction API took no pod off the node"
                                + (refusalWhy.isEmpty() ? "" : " (" + String.join("; ", refusalWhy.values()) + ")"))
                        + " for " + (now - wantSince) + " ms (directAfter " + direct + " ms) while memory.available "
                        + "stayed below the hard threshold";
                why.add("direct kill of " + v.pod().key() + ": " + reason);
                lastEvictAt = now;
                lastTaken = v.pod().key();
                lastVictim = null; // a killed pod's containers may be restarted by the kubelet: do not wait for it
                wantSince = -1;
                refusedUntil.remove(v.pod().key());
                refusalWhy.remove(v.pod().key());
                return new GuardAction.Kill(v.pod().key(), message(v, threshold, available), reason, trigger, by);
            }
        }
        if (now - lastEvictAt < cfg.cooldown().toMillis() || !victimGone) {
            why.add("eviction cooling down after " + lastTaken + (victimGone ? "" : " (still present)")
                    + (wantSince >= 0 ? "; direct kill in " + Math.max(0, wantSince + direct - now) + " ms" : ""));
            return null;
        }
        if (cands.isEmpty()) {
            why.add("no victim: every pod is critical or protected");
            return null;
        }
        EvictionRanking.Candidate v = cands.stream().filter(c -> !refusedUntil.containsKey(c.pod().key()))
                .findFirst().orElse(null);
        if (v == null) {
            why.add("every candidate refused its eviction recently (" + String.join(", ", refusedUntil.keySet())
                    + ")" + (wantSince >= 0 ? "; direct kill in " + Math.max(0, wantSince + direct - now) + " ms"
                    : "; asked again when the cooldown after each refusal ends"));
            return null;
        }
        evictAtBefore = lastEvictAt;
        lastEvictAt = now;
        lastVictim = v.pod().key();
        lastTaken = lastVictim;
        victimKilled = false;
        long podGrace = level == Level.HARD ? KubeletEviction.HARD_POD_GRACE_SECONDS
                : kubelet.settings().softPodGraceSeconds(v.pod().terminationGracePeriodOrDefault());
        return new GuardAction.Evict(v.pod().key(), message(v, threshold, available), trigger, podGrace, by);
    }

    /** The kubelet's eviction message (kubelet-semantics.md §4), the pod's numbers where it uses more than requested. */
    private static String message(EvictionRanking.Candidate v, long threshold, long available) {
        return "The node was low on resource: memory. Threshold quantity: " + quantity(threshold)
                + ", available: " + quantity(Math.max(0, available)) + ". "
                + (v.workingSet() != null && v.workingSet() > v.memoryRequest()
                ? "Pod " + v.pod().key() + " was using " + quantity(v.workingSet()) + ", request is "
                        + quantity(v.memoryRequest()) + ", has larger consumption of memory. " : "");
    }

    /**
     * What became of the {@link GuardAction.Evict} of {@code pod} decided in this round. Not taken
     * ({@link Outcome#notTaken}): no cooldown, the pod is not asked again for one cooldown, and the next round asks the
     * next-ranked pod. Accepted or killed: the eviction stands (cooldown, wait for the pod to go). An outcome for
     * another pod than the last eviction's is ignored.
     *
     * @param detail the API's answer in words naming the pod, for the direct kill's reason (null: the outcome)
     */
    public void evictionOutcome(String pod, Outcome outcome, String detail) {
        if (pod == null || !pod.equals(lastVictim)) {
            return;
        }
        if (!outcome.notTaken()) {
            victimKilled = outcome == Outcome.KILLED;
            return;
        }
        long now = clock.millis();
        lastEvictAt = evictAtBefore;
        lastVictim = null;
        lastTaken = null;
        refusedUntil.put(pod, now + Math.max(1, cfg.cooldown().toMillis()));
        refusalWhy.remove(pod);
        refusalWhy.put(pod, detail == null || detail.isEmpty()
                ? pod + ": " + outcome.name().toLowerCase(Locale.ROOT).replace('_', ' ') : detail);
        while (refusalWhy.size() > MAX_REASONS) { // bounded: the oldest go first
            refusalWhy.remove(refusalWhy.keySet().iterator().next());
        }
    }

    /** For tests and explain: the pods refused recently and until when (ms on the injected clock). */
    public Map<String, Long> refused() {
        return Map.copyOf(refusedUntil);
    }

    private String swapState(NodeObservation n, double swapInRate) {
        if (n.swapTotal() == 0) {
            return "no swap";
        }
        if (noContainerMaySwap) {
            return "no container may swap";
        }
        return "swap free " + n.swapFree() + " of " + n.swapTotal() + ", swap-in " + Math.round(swapInRate) + " pages/s";
    }

    /** A byte count the way Kubernetes prints a BinarySI quantity (1Gi, 100Mi, 1536Ki, 1000). */
    static String quantity(long bytes) {
        String[] suffix = {"Ei", "Pi", "Ti", "Gi", "Mi", "Ki"};
        int[] shift = {60, 50, 40, 30, 20, 10};
        for (int i = 0; i < suffix.length; i++) {
            long unit = 1L << shift[i];
            if (bytes != 0 && bytes % unit == 0) {
                return (bytes / unit) + suffix[i];
            }
        }
        return Long.toString(bytes);
    }

    /** A byte count for people: 100Mi, 1.5Gi, 819.2Mi (binary units, one decimal where not exact). */
    public static String human(long bytes) {
        String[] suffix = {"Ti", "Gi", "Mi", "Ki"};
        int[] shift = {40, 30, 20, 10};
        long abs = Math.abs(bytes);
        for (int i = 0; i < suffix.length; i++) {
            long unit = 1L << shift[i];
            if (abs >= unit) {
                if (bytes % unit == 0) {
                    return (bytes / unit) + suffix[i];
                }
                return String.format(Locale.ROOT, "%.1f%s", (double) bytes / unit, suffix[i]);
            }
        }
        return bytes + "B";
    }

    /** For tests and explain: the current soft-pressure start (ms on the injected clock), or -1. */
    long softSince() {
        return softSince;
    }

    static Comparator<EvictionRanking.Candidate> order() {
        return EvictionRanking.ORDER;
    }
}
