package io.memwarden.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * A main class for StopSignalsTest: installs {@link StopSignals} with a bound of {@code args[0]} ms and a stop
 * action that finishes ({@code args[1]} = "finish") or never does ("hang"), says "ready", and exits with the code a
 * command would return after its stop (0).
 */
public final class StopSignalsProbe {
    private StopSignalsProbe() {}

    public static void main(String[] args) throws InterruptedException {
        PrintWriter err = new PrintWriter(System.err, true);
        CountDownLatch stopped = new CountDownLatch(1);
        boolean hang = args[1].equals("hang");
        StopSignals s = StopSignals.install("probe: ", err, () -> {
            if (!hang) {
                stopped.countDown();
            }
        }, Duration.ofMillis(Long.parseLong(args[0])));
        err.println("probe: ready");
        while (!s.awaitStop(1000)) {
            // until a signal
        }
        stopped.await();
        err.println("probe: stopped by " + s.received());
        System.exit(ExitCodes.OK);
    }
}
