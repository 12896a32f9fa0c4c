package io.memwarden.control;

import io.memwarden.model.Clock;
import java.time.Duration;
import java.util.ArrayDeque;

/**
 * The node is a VM and the hypervisor may take memory back through a balloon: a state machine over balloon readings
 * with an injected clock (no I/O). It answers three questions each round:
 * <ul>
 *   <li><b>physical</b>: the memory this guest has with the balloon empty. Where the driver takes ballooned pages
 *       out of MemTotal (virtio_balloon without DEFLATE_ON_OOM) that is MemTotal + balloon; where they stay inside
 *       (vmw_balloon, DEFLATE_ON_OOM) it is MemTotal. The largest value seen, so a balloon without a counter still
 *       shows as the drop of MemTotal.</li>
 *   <li><b>effective capacity</b>: what the hypervisor left, physical − balloon; never above physical, never
 *       below 0.</li>
 *   <li><b>growth</b>: the balloon's growth rate over the last {@code rateWindow}, and a {@link Growth} when it grew
 *       by at least {@code growthShare} of physical since the last such growth (or since it last shrank): a node
 *       event's worth. Free page reporting is recorded, never counted: it hands the host free pages, which the
 *       guest still has.</li>
 * </ul>
 */
public final class BalloonWatch {

    /**
     * @param growthShare share of physical memory the balloon must grow by to be reported as a {@link Growth}
     * @param rateWindow  the growth rate is measured over at least this long
     */
    public record Config(double growthShare, Duration rateWindow) {
        public static final Config DEFAULTS = new Config(0.10, Duration.ofSeconds(2));

        public Config {
            if (!(growthShare > 0 && growthShare <= 1)) {
                throw new IllegalArgumentException("growthShare must be in (0, 1], got " + growthShare);
            }
            if (rateWindow.isNegative() || rateWindow.isZero()) {
                throw new IllegalArgumentException("rateWindow must be positive, got " + rateWindow);
            }
        }
    }

    /**
     * One reading of the balloon.
     *
     * @param driver            "virtio_balloon", "vmw_balloon", or "none"
     * @param insideMemTotal    ballooned pages still count in MemTotal
     * @param memTotalBytes     MemTotal now
     * @param balloonBytes      the balloon's size, or -1 when the kernel has no counter (then: the MemTotal drop)
     * @param source            where balloonBytes came from (for the reasons)
     * @param freePageReporting free page reporting is on (recorded; not pressure)
     */
    public record Observation(String driver, boolean insideMemTotal, long memTotalBytes, long balloonBytes,
                              String source, boolean freePageReporting) {
        public boolean present() {
            return !"none".equals(driver);
        }
    }

    /**
     * The balloon's state after an observation.
     *
     * @param insideMemTotal       the ballooned pages still count in MemTotal (the node's capacity must lose them)
     * @param growthBytesPerSecond the balloon's growth over the last rate window (negative: deflating)
     * @param grew                 a growth by a large share in this round, or null
     */
    public record State(String driver, boolean insideMemTotal, long physicalBytes, long balloonBytes,
                        long effectiveBytes, double growthBytesPerSecond, boolean freePageReporting, String source,
                        Growth grew) {
        /** The balloon's share of physical memory, 0..1. */
        public double share() {
            return physicalBytes <= 0 ? 0 : (double) balloonBytes / physicalBytes;
        }
    }

    /** The balloon grew from {@code fromBytes} to {@code toBytes} in {@code overMillis}. */
    public record Growth(long fromBytes, long toBytes, long physicalBytes, long overMillis) {
        public double share() {
            return physicalBytes <= 0 ? 0 : (double) (toBytes - fromBytes) / physicalBytes;
        }

        /** One line for logs, records and events. */
        public String describe() {
            return "the hypervisor's balloon grew by " + (toBytes - fromBytes) + " bytes ("
                    + Math.round(share() * 1000) / 10.0 + " % of " + physicalBytes + " physical) to " + toBytes
                    + " bytes in " + overMillis + " ms: capacity now " + (physicalBytes - toBytes) + " bytes";
        }
    }

    private record Sample(long atMillis, long balloonBytes) {}

    private final Config cfg;
    private final Clock clock;
    private final ArrayDeque<Sample> samples = new ArrayDeque<>();
    private long physical = -1;
    private long baseline = -1;
    private long baselineAt;
    private State last;

    public BalloonWatch(Config cfg, Clock clock) {
        this.cfg = cfg;
        this.clock = clock;
    }

    public State observe(Observation o) {
        long now = clock.millis();
        long counted = o.balloonBytes();
        // the guest with its balloon empty: where the driver took the pages out of MemTotal, they are added back
        long candidate = !o.present() || o.insideMemTotal() || counted < 0 ? o.memTotalBytes()
                : o.memTotalBytes() + counted;
        physical = Math.max(physical, candidate);
        long balloon;
        if (!o.present()) {
            balloon = 0;
        } else if (counted >= 0) {
            balloon = counted;
        } else {
            balloon = o.insideMemTotal() ? 0 : physical - o.memTotalBytes(); // no counter: the MemTotal drop
        }
        balloon = Math.clamp(balloon, 0, physical);
        long effective = physical - balloon;

        samples.addLast(new Sample(now, balloon));
        long window = cfg.rateWindow().toMillis();
        // keep one sample at least a window old as the anchor of the rate
        while (samples.size() > 1) {
            Sample first = samples.removeFirst();
            if (now - samples.getFirst().atMillis() < window) {
                samples.addFirst(first);
                break;
            }
        }
        Sample anchor = samples.getFirst();
        double rate = now > anchor.atMillis() ? (balloon - anchor.balloonBytes()) * 1000.0 / (now - anchor.atMillis())
                : 0;

        Growth grew = null;
        if (baseline < 0 || balloon < baseline) {
            baseline = balloon; // the first reading (a balloon inflated before we started is no growth), or deflated
            baselineAt = now;
        } else if (balloon - baseline >= cfg.growthShare() * physical) {
            grew = new Growth(baseline, balloon, physical, now - baselineAt);
            baseline = balloon;
            baselineAt = now;
        }
        last = new State(o.present() ? o.driver() : "none", o.present() && o.insideMemTotal(), physical, balloon, effective, rate,
                o.freePageReporting(), o.source(), grew);
        return last;
    }

    /** The state after the last observation, or null before the first. */
    public State last() {
        return last;
    }
}
