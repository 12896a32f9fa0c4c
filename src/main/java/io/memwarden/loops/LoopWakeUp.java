package io.memwarden.loops;

import io.memwarden.model.Clock;
import io.memwarden.control.WakeUp;
import io.memwarden.kernel.PsiTrigger;
import java.io.IOException;
import java.nio.file.Path;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The loop threads' wake-up on this machine: a {@link WakeUp} over a {@link PsiTrigger} (docs/control-loops.md
 * "Wake-up"). When the trigger cannot be registered (no PSI, EACCES, EINVAL) it logs one line and the loops tick
 * on the fixed period only; it never stops them from starting. Use it from a platform thread (poll(2) through FFM
 * pins a virtual thread's carrier).
 */
final class LoopWakeUp implements AutoCloseable {
    private final PsiTrigger.Spec spec;
    private final PsiTrigger trigger;
    private final WakeUp wakeUp;

    private LoopWakeUp(PsiTrigger.Spec spec, PsiTrigger trigger, WakeUp wakeUp) {
        this.spec = spec;
        this.trigger = trigger;
        this.wakeUp = wakeUp;
    }

    /**
     * @param spec    the trigger, or null for the fixed period only
     * @param file    the pressure file, e.g. {@link PsiTrigger#SYSTEM_MEMORY}
     * @param sleeper sleeps between ticks when there is no trigger; true when asked to stop
     * @param stopped true once the loop should end
     * @param log     one line: the trigger in use, or why there is none
     */
    public static LoopWakeUp open(PsiTrigger.Spec spec, Path file, WakeUp.Sleeper sleeper, BooleanSupplier stopped,
                                  Consumer<String> log) {
        PsiTrigger t = null;
        if (spec != null) {
            try {
                t = PsiTrigger.register(file, spec);
                log.accept("wake-up: loops tick early on PSI trigger " + spec.brief() + " (" + file + ")");
            } catch (IOException e) {
                log.accept("wake-up: no PSI trigger, loops tick on the fixed period only (" + e.getMessage() + ")");
            }
        }
        WakeUp w = new WakeUp(t == null ? null : t::await, spec == null ? "period" : "PSI trigger " + spec.brief(),
                Clock.SYSTEM, sleeper, stopped, log);
        return new LoopWakeUp(spec, t, w);
    }

    /** The configured trigger (null: off), whether or not it could be registered. */
    public PsiTrigger.Spec spec() {
        return spec;
    }

    /** Waits for the next tick: the period, or less when the trigger fires. */
    public WakeUp.Reason await(long periodMillis) {
        return wakeUp.await(periodMillis);
    }

    /** What to pass to {@link ControlLoops#tick(String)} after a wait that ended for {@code r}. */
    public String wokenBy(WakeUp.Reason r) {
        return r == WakeUp.Reason.PSI ? wakeUp.description() : null;
    }

    public long psiWakes() {
        return wakeUp.psiWakes();
    }

    public long periodWakes() {
        return wakeUp.periodWakes();
    }

    @Override
    public void close() {
        if (trigger != null) {
            trigger.close();
        }
    }
}
