package io.memwarden.loops;

import io.memwarden.control.WakeUp;
import io.memwarden.kernel.PsiTrigger;
import java.io.IOException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The control loops' thread, for {@code memwarden run} and the agent alike: a round, then a wait of one period or
 * less when the PSI trigger fires ({@link LoopWakeUp} on {@link PsiTrigger#SYSTEM_MEMORY}), until
 * {@link #stop(Duration)}. A round that throws is handed to the failure sink and the thread goes on with the next.
 * The period and trigger are read before every round: a changed trigger is registered anew. A platform thread: the
 * trigger's poll(2) through FFM would pin a virtual thread's carrier.
 */
public final class LoopThread {

    /** One round; {@code wokenBy} says what woke it early, null: the period ({@link ControlLoops#tick(String)}). */
    @FunctionalInterface
    public interface RoundAction {
        void run(String wokenBy) throws IOException;
    }

    /**
     * The wait between rounds.
     *
     * @param psiTrigger the PSI trigger that ends a wait early, or null for the fixed period only
     */
    public record Pace(long periodMillis, PsiTrigger.Spec psiTrigger) {}

    private final Supplier<Pace> pace;
    private final RoundAction round;
    private final Consumer<String> log;
    private final Consumer<Exception> failed;
    private final CountDownLatch stop = new CountDownLatch(1);
    private Thread thread;

    private LoopThread(Supplier<Pace> pace, RoundAction round, Consumer<String> log, Consumer<Exception> failed) {
        this.pace = pace;
        this.round = round;
        this.log = log;
        this.failed = failed;
    }

    /**
     * Starts the thread "memwarden-loops".
     *
     * @param pace   read before every round
     * @param log    one line each: the trigger in use, or why there is none
     * @param failed a round that threw (the thread goes on)
     */
    public static LoopThread start(Supplier<Pace> pace, RoundAction round, Consumer<String> log,
                                   Consumer<Exception> failed) {
        LoopThread t = new LoopThread(pace, round, log, failed);
        t.thread = Thread.ofPlatform().daemon().name("memwarden-loops").start(t::loop);
        return t;
    }

    private void loop() {
        LoopWakeUp wake = null;
        String wokenBy = null;
        try {
            while (!stopping()) {
                Pace p = pace.get();
                if (wake == null || !Objects.equals(wake.spec(), p.psiTrigger())) {
                    // first round, or the trigger changed
                    if (wake != null) {
                        wake.close();
                    }
                    wake = LoopWakeUp.open(p.psiTrigger(), PsiTrigger.SYSTEM_MEMORY, this::sleepUnlessStopped,
                            this::stopping, log);
                }
                try {
                    round.run(wokenBy);
                } catch (IOException | RuntimeException e) {
                    failed.accept(e); // never the end of the thread: the next round tries again
                }
                WakeUp.Reason r = wake.await(p.periodMillis());
                if (r == WakeUp.Reason.STOPPED) {
                    return;
                }
                wokenBy = wake.wokenBy(r);
            }
        } finally {
            if (wake != null) {
                wake.close();
            }
        }
    }

    private boolean stopping() {
        return stop.getCount() == 0;
    }

    /** Sleeps up to {@code millis}; true when the thread is to stop. */
    private boolean sleepUnlessStopped(long millis) {
        try {
            return stop.await(millis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return true;
        }
    }

    /**
     * Ends the thread after its round, waiting at most {@code wait} for it (a PSI wait ends within one slice,
     * 250 ms). Idempotent.
     */
    public void stop(Duration wait) {
        stop.countDown();
        try {
            thread.join(wait);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** True while the thread runs. */
    public boolean running() {
        return thread.isAlive();
    }
}
