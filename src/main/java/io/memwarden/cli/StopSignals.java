package io.memwarden.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * SIGTERM and SIGINT as an orderly stop that the command ends with its own exit code.
 * <p>
 * The JVM's own handling of both signals runs the shutdown hooks and then exits with 128 + the signal's number (143,
 * 130), whatever the hooks do; only a handler of the signal (or {@code Runtime.halt} from a hook, which cuts the
 * other hooks short) changes that. The JDK's supported way to install one is {@code sun.misc.Signal}: it lives in
 * the {@code jdk.unsupported} module, which JEP 260 keeps exported for exactly this use (no {@code --add-exports},
 * unlike {@code jdk.internal.misc.Signal}).
 * <p>
 * The first signal says so on stderr, runs the command's stop action on the signal's own thread and opens
 * {@link #awaitStop}; the command then finishes as it does after any other stop and returns its exit code. A second
 * signal while it stops ends the process at once with 128 + its number (a user or supervisor that insists). If the
 * process is still there {@link #BOUND} after the first signal, it ends with exit code 1 (a stop that hangs is a
 * failure): memwarden never outlives a stop request by more than that. Other signals (SIGHUP) keep the JVM's default.
 */
final class StopSignals implements AutoCloseable {

    /** How long an orderly stop may take; below the kubelet's default grace period (30 s) before its SIGKILL. */
    static final Duration BOUND = Duration.ofSeconds(20);

    private static final String[] NAMES = {"TERM", "INT"};

    private final String prefix;
    private final PrintWriter err;
    private final Runnable stop;
    private final Duration bound;
    private final CountDownLatch stopping = new CountDownLatch(1);
    private final AtomicReference<String> received = new AtomicReference<>();
    private final Map<Signal, SignalHandler> previous = new LinkedHashMap<>();

    private StopSignals(String prefix, PrintWriter err, Runnable stop, Duration bound) {
        this.prefix = prefix;
        this.err = err;
        this.stop = stop;
        this.bound = bound;
    }

    /**
     * Handles SIGTERM and SIGINT from now on until {@link #close()}.
     *
     * @param prefix what each line on stderr starts with, e.g. {@code "memwarden agent: "}
     * @param stop   the command's stop action (runs once, on the first signal's thread)
     */
    static StopSignals install(String prefix, PrintWriter err, Runnable stop) {
        return install(prefix, err, stop, BOUND);
    }

    static StopSignals install(String prefix, PrintWriter err, Runnable stop, Duration bound) {
        StopSignals s = new StopSignals(prefix, err, stop, bound);
        for (String name : NAMES) {
            Signal sig = new Signal(name);
            try {
                s.previous.put(sig, Signal.handle(sig, s::handle));
            } catch (IllegalArgumentException e) {
                // the JVM runs with -Xrs, or the signal is taken: its default stays
            }
        }
        return s;
    }

    private void handle(Signal sig) {
        String name = "SIG" + sig.getName();
        if (!received.compareAndSet(null, name)) {
            err.println(prefix + name + " while stopping after " + received.get() + ": exiting at once (exit code "
                    + (128 + sig.getNumber()) + ")");
            err.flush();
            Runtime.getRuntime().halt(128 + sig.getNumber());
            return;
        }
        err.println(prefix + name + " received: stopping (another signal, or " + bound.toSeconds()
                + " s without finishing, ends the process at once)");
        err.flush();
        Thread.ofPlatform().daemon().name("memwarden-stop-bound").start(() -> {
            try {
                Thread.sleep(bound);
            } catch (InterruptedException e) {
                return;
            }
            err.println(prefix + "the orderly stop did not finish within " + bound.toSeconds()
                    + " s of " + name + ": exiting at once (exit code 1)");
            err.flush();
            Runtime.getRuntime().halt(ExitCodes.FAILURE);
        });
        stopping.countDown();
        try {
            stop.run();
        } catch (RuntimeException e) {
            err.println(prefix + "stopping: " + e.getMessage());
            err.flush();
        }
    }

    /** The signal that asked for the stop ({@code "SIGTERM"}, {@code "SIGINT"}), or null while none did. */
    String received() {
        return received.get();
    }

    /** Waits up to {@code millis} for a stop signal; true once one came. */
    boolean awaitStop(long millis) throws InterruptedException {
        return stopping.await(millis, TimeUnit.MILLISECONDS);
    }

    /**
     * Gives the signals back to the JVM's default handling. After a stop signal they stay handled: a second one
     * must still end the process at once while the command finishes.
     */
    @Override
    public void close() {
        if (received.get() != null) {
            return;
        }
        previous.forEach((sig, h) -> {
            try {
                Signal.handle(sig, h);
            } catch (IllegalArgumentException e) {
                // cannot happen for a signal handled before; nothing to give back
            }
        });
    }
}
