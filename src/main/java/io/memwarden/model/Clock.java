package io.memwarden.model;

import java.time.Instant;

/**
 * Time as memwarden sees it, injected so that the control loops, the NRI plugin's waits and the Kubernetes events run
 * the same under a fake clock in tests and on a node: the one clock type of the project.
 */
@FunctionalInterface
public interface Clock {
    /** Monotonic milliseconds (only differences matter): for periods, deadlines, rates. */
    long millis();

    /** Wall-clock time: for timestamps shown to people or sent to the Kubernetes API. */
    default Instant now() {
        return Instant.now();
    }

    /** The machine's clocks. */
    Clock SYSTEM = () -> System.nanoTime() / 1_000_000;
}
