package io.memwarden.control;

import io.memwarden.model.Clock;
import java.time.Duration;
import java.util.Locale;

/**
 * The KSM tuner: a {@link KsmPolicy} (kubevirt or ksmtuned) plus net-loss detection, as a state machine with an
 * injected clock. No I/O: {@link #decide} takes an observation and returns what to write with its reason.
 *
 * <p>Net loss: KSM keeps a 64-byte rmap item for every page it tracks and saves 4096 bytes per merged page, so once
 * rmap items exceed {@code breakEven} (4096 / 64 = 64) per merged page it costs more memory than it saves
 * (general_profit &lt; 0). A fresh scan always looks like that (rmap items first, merges later), so the test waits
 * until {@code minFullScans} full scans have completed since KSM was started. On a net loss the tuner writes run=2:
 * unmerging re-duplicates fewer bytes (merged × 4096) than it frees (rmap × 64), and run=0 would keep the rmap items.
 * Then KSM stays stopped for {@code hold}, whatever the policy says.
 */
public final class KsmTuner {

    /**
     * @param breakEven rmap items per merged page above which KSM loses memory (PAGE_SIZE / sizeof(rmap_item))
     */
    public record Config(long minFullScans, double breakEven, Duration hold) {
        public static final Config DEFAULTS = new Config(2, 64, Duration.ofMinutes(30));
    }

    private volatile KsmPolicy policy;
    private final Config cfg;
    private final Clock clock;
    /** full_scans when KSM was (last) started or first seen running; -1 while stopped */
    private long fullScansAtStart = -1;
    private long holdUntil = Long.MIN_VALUE;

    public KsmTuner(KsmPolicy policy, Config cfg, Clock clock) {
        this.policy = policy;
        this.cfg = cfg;
        this.clock = clock;
    }

    public KsmPolicy policy() {
        return policy;
    }

    /**
     * Decides with another policy of the same kind from the next decision on (e.g. virt-handler's node annotations
     * changed the kubevirt policy's settings); the tuner's own state (scans since start, a net-loss hold) is kept.
     */
    public void usePolicy(KsmPolicy next) {
        if (!next.name().equals(policy.name())) {
            throw new IllegalArgumentException("policy " + next.name() + " cannot replace " + policy.name());
        }
        policy = next;
    }

    /** Whether KSM loses memory in this observation, judged only after enough full scans. */
    public boolean netLoss(KsmObservation o) {
        return o.run() == 1 && fullScansAtStart >= 0 && o.fullScans() - fullScansAtStart >= cfg.minFullScans()
                && o.rmapItems() > 0 && o.rmapItems() > cfg.breakEven() * o.mergedPages();
    }

    public KsmDecision decide(KsmObservation o) {
        long now = clock.millis();
        if (now < holdUntil) {
            return KsmDecision.nothing(false, "net-loss hold: KSM stays stopped for another "
                    + Math.ceilDiv(holdUntil - now, 1000) + " s");
        }
        if (o.run() == 1 && fullScansAtStart < 0) {
            fullScansAtStart = o.fullScans(); // running when first seen: count from here
        }
        if (netLoss(o)) {
            holdUntil = now + cfg.hold().toMillis();
            fullScansAtStart = -1;
            String ratio = o.mergedPages() == 0 ? "no merged page"
                    : String.format(Locale.ROOT, "%.1f per merged page", o.rmapItems() / (double) o.mergedPages());
            return new KsmDecision(2, null, null, false, "net loss after " + cfg.minFullScans() + "+ full scans: "
                    + o.rmapItems() + " rmap items for " + o.mergedPages() + " merged pages (" + ratio
                    + ", break-even " + Math.round(cfg.breakEven()) + "), profit " + o.profitBytes()
                    + " bytes: unmerge (run=2) and hold KSM stopped for " + cfg.hold().toSeconds() + " s");
        }
        KsmDecision d = policy.decide(o);
        if (d.run() != null) {
            if (d.run() == 1 && o.run() != 1) {
                fullScansAtStart = o.fullScans();
            } else if (d.run() != 1) {
                fullScansAtStart = -1;
            }
        }
        return d;
    }
}
