package io.memwarden.model;

/** Time as control loops see it: injected, so loops run the same under a fake clock in tests and on the kernel. */
@FunctionalInterface
public interface Clock {
    /** Monotonic milliseconds (only differences matter). */
    long millis();

    Clock SYSTEM = () -> System.nanoTime() / 1_000_000;
}
