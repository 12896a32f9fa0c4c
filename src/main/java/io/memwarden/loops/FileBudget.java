package io.memwarden.loops;

import io.memwarden.cgroup.HeldFiles;

/**
 * The process's file descriptors, shared so that the control loops never compete with the HTTP API's clients: with
 * an open-file limit L, the loops' held cgroup files take at most L/4 ({@link HeldFiles}), the API's client
 * connections at most another L/4 ({@code api.ApiLimits}), and the other half is the reserve for the loops' per-round
 * reads, the NRI socket, the Kubernetes client and the JVM.
 */
public final class FileBudget {
    private FileBudget() {}

    /** The process's soft open-file limit (from {@code /proc/self/limits}; 1024 when it cannot be read). */
    public static int openFileLimit() {
        return HeldFiles.openFileLimit();
    }

    /** The share of {@code limit} for one of the two bounded users (held cgroup files, API clients). */
    public static int quarter(int limit) {
        return limit / 4;
    }
}
