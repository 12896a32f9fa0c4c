package io.memwarden.policy;

/** Sums of byte sizes over many pods: a node-wide total must never overflow into an exception or a negative. */
final class Sizes {
    private Sizes() {
    }

    /**
     * a + b for non-negative sizes, saturating at {@link Long#MAX_VALUE}: pods' hostile sizes (up to the int64
     * limit each) must not turn a node-wide sum, and with it the whole node's plan, into an overflow.
     */
    static long add(long a, long b) {
        return a > Long.MAX_VALUE - b ? Long.MAX_VALUE : a + b;
    }
}
