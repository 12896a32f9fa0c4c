package io.memwarden.nri;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Tells runtime calls waiting for a pod spec that the pod-spec source may have learned pods: a counter that
 * {@link #signal()} bumps and a condition to wait on, so a waiting call looks again when something arrived instead
 * of polling. A lock, not {@code synchronized}: the waiters are virtual threads.
 */
final class PodArrivals {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition arrived = lock.newCondition();
    private long count;

    /** The source may have learned pods (called on the source's thread; never blocks for long). */
    void signal() {
        lock.lock();
        try {
            count++;
            arrived.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** How many signals so far: read before a lookup, then {@link #awaitAfter} misses no signal in between. */
    long count() {
        lock.lock();
        try {
            return count;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until a signal after {@code seen} (a value of {@link #count()}), at most {@code millis}.
     *
     * @return whether a signal came
     */
    boolean awaitAfter(long seen, long millis) throws InterruptedException {
        long nanos = TimeUnit.MILLISECONDS.toNanos(millis);
        lock.lock();
        try {
            while (count == seen) {
                if (nanos <= 0) {
                    return false;
                }
                nanos = arrived.awaitNanos(nanos);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }
}
