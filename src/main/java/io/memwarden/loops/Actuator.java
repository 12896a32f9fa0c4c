package io.memwarden.loops;

import static io.memwarden.model.CgroupFiles.MEMORY_HIGH;

import io.memwarden.cgroup.CgroupReclaim;
import io.memwarden.cgroup.CgroupWriteException;
import io.memwarden.cgroup.CgroupWriter;
import io.memwarden.cgroup.MemoryUsage;
import io.memwarden.control.PressureGuard;
import io.memwarden.control.RangeOffloader;
import io.memwarden.kernel.Libc;
import io.memwarden.kernel.Pidfd;
import io.memwarden.kernel.ProcessPages;
import io.memwarden.model.CgroupFiles;
import io.memwarden.model.CgroupVersion;
import io.memwarden.policy.V1Ceiling;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The loops' hands for one round: every change the control loops make to a container, each returning what its action
 * record says as the result. Settings go through {@link CgroupWriter} (all or nothing, read back; its typed
 * {@link CgroupWriteException} becomes "failed: ..."), reclaim through {@link CgroupReclaim}, cold ranges through
 * process_madvise, evictions through the {@link Evictor}. In dry-run it touches nothing and says "dry-run".
 */
final class Actuator {
    private final long pageSize;
    private final boolean dryRun;
    private final Evictor evictor;

    Actuator(long pageSize, boolean dryRun, Evictor evictor) {
        this.pageSize = pageSize;
        this.dryRun = dryRun;
        this.evictor = evictor;
    }

    /** cgroup v2: {@code memory.high}. */
    String setHigh(ContainerStatus s, long bytes) {
        return write(s, CgroupVersion.V2, Map.of(MEMORY_HIGH, Long.toString(bytes)));
    }

    /** cgroup v1: the projected ceiling {@code memory.limit_in_bytes}, the swap allowance kept above it. */
    String setV1Ceiling(ContainerStatus s, long bytes) {
        return write(s, CgroupVersion.V1, V1Ceiling.files(bytes, s.applied()));
    }

    /** A node-level cgroup's settings (the kubepods swap cap). */
    String setNodeFiles(Path cgroup, CgroupVersion version, Map<String, String> files) {
        if (dryRun) {
            return "dry-run";
        }
        try {
            new CgroupWriter(version, pageSize).apply(cgroup, files);
            return "ok";
        } catch (CgroupWriteException e) {
            return "failed: " + e.getMessage();
        }
    }

    private String write(ContainerStatus s, CgroupVersion version, Map<String, String> files) {
        if (dryRun) {
            return "dry-run";
        }
        try {
            new CgroupWriter(version, pageSize).apply(s.cgroup(), files);
            return "ok";
        } catch (CgroupWriteException e) {
            return "failed: " + e.getMessage();
        }
    }

    /** What a reclaim got: the bytes the container's usage dropped by (0 in dry-run or on failure). */
    record Reclaimed(long bytes, String result) {}

    /** v2 {@code memory.reclaim}; v1 limit probing (lower the limit, put it back). */
    Reclaimed reclaim(ContainerStatus s, long bytes) {
        if (dryRun) {
            return new Reclaimed(0, "dry-run");
        }
        try {
            long got = CgroupReclaim.reclaim(s.cgroup(), s.usage().version(), bytes, pageSize);
            return new Reclaimed(got, "reclaimed " + got + " bytes");
        } catch (IOException | RuntimeException e) {
            // a failed reclaim is this action's result, never the end of the round (the guard escalates next)
            return new Reclaimed(0, "failed: " + (e.getMessage() == null ? "the kernel refused" : e.getMessage()));
        }
    }

    /**
     * What a page-out did.
     *
     * @param refusal the error when this host will not let memwarden page out other processes' ranges (EPERM,
     *                ENOSYS), else null
     */
    record PagedOut(String result, String refusal) {}

    /** {@code process_madvise(MADV_PAGEOUT)} of the cold ranges, one call a process. */
    PagedOut pageout(ContainerStatus s, List<RangeOffloader.Pageout> ranges) {
        if (dryRun) {
            return new PagedOut("dry-run", null);
        }
        Map<Long, List<RangeOffloader.Pageout>> byPid = new LinkedHashMap<>();
        for (RangeOffloader.Pageout p : ranges) {
            byPid.computeIfAbsent(p.pid(), k -> new ArrayList<>()).add(p);
        }
        long bytes = 0;
        int skipped = 0;
        String refusal = null;
        StringBuilder errors = new StringBuilder();
        for (var e : byPid.entrySet()) {
            long[] starts = e.getValue().stream().mapToLong(RangeOffloader.Pageout::start).toArray();
            long[] lengths = e.getValue().stream().mapToLong(RangeOffloader.Pageout::length).toArray();
            try {
                ProcessPages.Result r = ProcessPages.pageout(e.getKey(), s.cgroup().resolve(CgroupFiles.CGROUP_PROCS), starts,
                        lengths);
                bytes += r.bytes(); // address range processed: the kernel does not say how much it paged out
                skipped += r.skipped();
            } catch (Libc.ErrnoException ex) {
                errors.append(ex.getMessage()).append("; ");
                if (ex.errno() == 1 || ex.errno() == 38) { // EPERM, ENOSYS: this host will not let us
                    refusal = ex.getMessage();
                }
            } catch (IOException ex) {
                errors.append(ex.getMessage()).append("; ");
            }
        }
        return new PagedOut("process_madvise(MADV_PAGEOUT) processed " + bytes + " bytes of address range"
                + (skipped > 0 ? ", " + skipped + " range(s) gone since the sample" : "")
                + (errors.isEmpty() ? "" : "; errors: " + errors), refusal);
    }

    /**
     * Takes the pod off the node through the {@link Evictor}; its failure is the result (outcome FAILED). Dry-run:
     * ACCEPTED, "dry-run" (the guard then waits as for an accepted eviction).
     */
    Evictor.Result evict(String podKey, String message, long podGraceSeconds, List<ContainerStatus> containers) {
        if (dryRun) {
            return new Evictor.Result(PressureGuard.Outcome.ACCEPTED, "dry-run");
        }
        try {
            Evictor.Result r = evictor.evict(podKey, message, podGraceSeconds, containers);
            return r != null ? r : new Evictor.Result(PressureGuard.Outcome.FAILED, "failed: the evictor said nothing");
        } catch (RuntimeException ex) {
            return new Evictor.Result(PressureGuard.Outcome.FAILED, "failed: " + ex.getMessage());
        }
    }

    /** The guard's direct kill through the {@link Evictor#kill}; its failure is the result. */
    String kill(String podKey, String message, String reason, List<ContainerStatus> containers) {
        if (dryRun) {
            return "dry-run";
        }
        try {
            return evictor.kill(podKey, message, reason, containers);
        } catch (RuntimeException ex) {
            return "failed: " + ex.getMessage();
        }
    }

    /** The standalone eviction ({@link Evictor#SIGKILL}): SIGKILL every process of the pod's cgroups through pidfds. */
    static String killWithPidfd(String podKey, String message, List<ContainerStatus> containers) {
        StringBuilder errors = new StringBuilder();
        int killed = signalAll(containers, Pidfd.SIGKILL, false, errors);
        return "killed " + killed + " process(es) with SIGKILL via pidfd (no Eviction API)"
                + (errors.isEmpty() ? "" : "; errors: " + errors);
    }

    /**
     * The standalone eviction with the kubelet's pod grace period (kubelet-semantics §4): below 2 s (a hard
     * threshold's 1 s, or a soft grace of 0 or 1 s) SIGKILL at once, as {@link #killWithPidfd}; else SIGTERM to every
     * process of the pod's cgroups through pidfds now, and after {@code graceSeconds} SIGKILL to the processes then in
     * those cgroups (read again: a process that left them is not hit), from a virtual thread, so the round does not
     * wait.
     */
    static String terminateWithPidfd(String podKey, String message, long graceSeconds,
                                     List<ContainerStatus> containers) {
        if (graceSeconds < 2) {
            return killWithPidfd(podKey, message, containers);
        }
        StringBuilder errors = new StringBuilder();
        int termed = signalAll(containers, Pidfd.SIGTERM, false, errors);
        Thread.ofVirtual().name("memwarden-evict-" + podKey).start(() -> {
            try {
                Thread.sleep(Duration.ofSeconds(graceSeconds));
            } catch (InterruptedException e) {
                return;
            }
            signalAll(containers, Pidfd.SIGKILL, true, new StringBuilder());
        });
        return "sent SIGTERM to " + termed + " process(es) via pidfd (no Eviction API); SIGKILL to those left after"
                + " the pod grace period of " + graceSeconds + " s" + (errors.isEmpty() ? "" : "; errors: " + errors);
    }

    /**
     * Sends {@code signal} to every process of the containers' cgroups through pidfds.
     *
     * @param reread read cgroup.procs again (not the round's reading)
     * @return how many processes it reached
     */
    private static int signalAll(List<ContainerStatus> containers, int signal, boolean reread, StringBuilder errors) {
        int reached = 0;
        for (ContainerStatus s : containers) {
            if (s.usage() == null) {
                continue;
            }
            List<Long> pids;
            try {
                pids = reread ? MemoryUsage.lazy(s.cgroup(), s.usage().version()).pids() : s.usage().pids();
            } catch (UncheckedIOException e) {
                errors.append(s.pod()).append('/').append(s.container()).append(": ").append(e.getMessage())
                        .append("; ");
                continue;
            }
            for (long pid : pids) {
                try {
                    if (Pidfd.signal(pid, signal)) {
                        reached++;
                    }
                } catch (IOException ex) {
                    errors.append(ex.getMessage()).append("; ");
                }
            }
        }
        return reached;
    }
}
