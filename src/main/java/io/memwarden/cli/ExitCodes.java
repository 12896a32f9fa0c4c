package io.memwarden.cli;

/** kubectl-like exit codes. */
final class ExitCodes {
    private ExitCodes() {}

    static final int OK = 0;
    /** Runtime failure, or some pod/container could not be planned. */
    static final int FAILURE = 1;
    /** Usage error, or an invalid node/config file. */
    static final int USAGE = 2;
    /** {@code memwarden doctor}: the node works for memwarden, but some capability will not (docs/operations.md). */
    static final int DOCTOR_DEGRADED = 3;
    /** {@code memwarden doctor}: memwarden cannot work on this node (no cgroup memory controller). */
    static final int DOCTOR_UNUSABLE = 4;
}
