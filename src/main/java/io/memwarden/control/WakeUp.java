package io.memwarden.control;

import io.memwarden.model.Clock;
import java.io.IOException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * When a control-loop thread wakes for its next tick: after the period, or at once when a pressure trigger (a PSI
 * trigger) fires — whichever comes first — but never sooner than {@link #MIN_GAP_MILLIS} after the previous wake,
 * so a firing trigger adds at most one extra tick per 100 ms. The trigger is waited on in slices of at most
 * {@link #SLICE_MILLIS} so a stop request is seen promptly. A trigger that fails is dropped with one log line and
 * the loop goes on with the fixed period. The clock, the trigger and the sleeping are injected (tests run it on a
 * fake clock).
 */
public final class WakeUp {
    public static final long MIN_GAP_MILLIS = 100;
    public static final long SLICE_MILLIS = 250;

    /** A pressure signal: waits up to {@code timeoutMillis}, true when it fired. */
    @FunctionalInterface
    public interface Trigger {
        boolean await(long timeoutMillis) throws IOException;
    }

    /** Sleeps up to {@code millis}; true when asked to stop meanwhile. */
    @FunctionalInterface
    public interface Sleeper {
        boolean sleep(long millis);
    }

    /** Why a wait ended. */
    public enum Reason { PERIOD, PSI, STOPPED }

    private final Clock clock;
    private final Sleeper sleeper;
    private final BooleanSupplier stopped;
    private final Consumer<String> log;
    private final String description;
    private volatile Trigger trigger;
    private long lastWake = Long.MIN_VALUE;
    private volatile long psiWakes;
    private volatile long periodWakes;

    /**
     * @param trigger     the pressure signal, or null for the fixed period only
     * @param description what the trigger is, for the log and action triggers (e.g. "PSI trigger some
     *                    150000/2000000")
     * @param stopped     true once the loop should end
     * @param log         where the one line about a failed trigger goes
     */
    public WakeUp(Trigger trigger, String description, Clock clock, Sleeper sleeper, BooleanSupplier stopped,
                  Consumer<String> log) {
        this.trigger = trigger;
        this.description = description;
        this.clock = clock;
        this.sleeper = sleeper;
        this.stopped = stopped;
        this.log = log;
    }

    /** Waits for the next tick: at most {@code periodMillis}, less when the trigger fires. */
    public Reason await(long periodMillis) {
        long deadline = clock.millis() + periodMillis;
        while (true) {
            if (stopped.getAsBoolean()) {
                return Reason.STOPPED;
            }
            long left = deadline - clock.millis();
            if (left <= 0) {
                return wake(Reason.PERIOD);
            }
            Trigger t = trigger;
            if (t == null) {
                if (sleeper.sleep(left)) {
                    return Reason.STOPPED;
                }
                continue;
            }
            boolean fired;
            try {
                fired = t.await(Math.min(left, SLICE_MILLIS));
            } catch (IOException | RuntimeException e) {
                trigger = null;
                log.accept("wake-up: " + description + " failed (" + e.getMessage()
                        + "); ticking every " + periodMillis + " ms only");
                continue;
            }
            if (fired) {
                if (lastWake != Long.MIN_VALUE) {
                    long early = lastWake + MIN_GAP_MILLIS - clock.millis();
                    if (early > 0 && sleeper.sleep(early)) {
                        return Reason.STOPPED;
                    }
                }
                return wake(Reason.PSI);
            }
        }
    }

    private Reason wake(Reason r) {
        lastWake = clock.millis();
        if (r == Reason.PSI) {
            psiWakes++;
        } else {
            periodWakes++;
        }
        return r;
    }

    /** Whether a trigger is still in use (false: none configured, or it failed). */
    public boolean triggered() {
        return trigger != null;
    }

    /** The trigger's description, e.g. "PSI trigger some 150000/2000000". */
    public String description() {
        return description;
    }

    public long psiWakes() {
        return psiWakes;
    }

    public long periodWakes() {
        return periodWakes;
    }
}
