package io.memwarden.cgroup;

import io.memwarden.model.CgroupFiles;
import io.memwarden.model.Pressure;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Per-container PSI on a cgroup v1 memory host (kernel-and-vm.md §6): PSI is accounted per task in the cgroup2
 * hierarchy whatever controllers it holds, so a cgroup2 group holding a container's processes gives that container
 * its own {@code memory.pressure} (avg10, totals and triggers work) although memory is bound to v1. The mirror lives
 * in the host's existing cgroup2 mount (nothing is mounted), in one {@code memwarden-psi-PID-N} group below this
 * process's own cgroup2 group, with one child per container; only processes of containers memwarden started are
 * moved into it. No controller is enabled in it, so the move changes nothing but PSI accounting. {@link #close()}
 * moves any process still there back to this process's own group and removes every group it created.
 */
public final class PsiMirror implements AutoCloseable {
    private static final AtomicInteger SEQ = new AtomicInteger();

    private final Path parent;
    private final Path root;
    private final Map<String, Path> groups = new LinkedHashMap<>();

    private PsiMirror(Path parent, Path root) {
        this.parent = parent;
        this.root = root;
    }

    /**
     * Creates the mirror, or returns null when the host has no usable cgroup2 tree beside its v1 memory controller
     * (not hybrid, no {@code memory.pressure} in cgroup2 groups, or not writable).
     */
    public static PsiMirror create(HostFacts host) throws IOException {
        if (!host.hybrid() || host.unifiedMount() == null) {
            return null;
        }
        Path parent = ownUnifiedGroup(host.unifiedMount(), Files.readString(Path.of("/proc/self/cgroup")));
        if (parent == null || !Files.isWritable(parent.resolve(CgroupFiles.CGROUP_PROCS))) {
            return null;
        }
        Path root = parent.resolve("memwarden-psi-" + ProcessHandle.current().pid() + "-" + SEQ.incrementAndGet());
        Files.createDirectory(root);
        if (!Files.exists(root.resolve(CgroupFiles.MEMORY_PRESSURE))) {
            Files.delete(root);
            return null;
        }
        return new PsiMirror(parent, root);
    }

    /** This process's cgroup2 group: the {@code 0::PATH} line of /proc/self/cgroup below the cgroup2 mount. */
    static Path ownUnifiedGroup(Path mount, String procSelfCgroup) {
        for (String line : procSelfCgroup.split("\n")) {
            if (line.startsWith("0::")) {
                String rel = line.substring(3).strip();
                Path p = mount;
                for (String part : rel.split("/")) {
                    if (!part.isEmpty()) {
                        p = p.resolve(part);
                    }
                }
                return p;
            }
        }
        return null;
    }

    public Path root() {
        return root;
    }

    /**
     * Moves the container's processes (those not yet there) into its PSI group and reads the group's
     * {@code memory.pressure}. Processes that exited meanwhile are skipped.
     */
    public Pressure pressure(String container, List<Long> pids) throws IOException {
        Path g = groups.get(container);
        if (g == null) {
            g = root.resolve("c" + groups.size());
            Files.createDirectory(g);
            groups.put(container, g);
        }
        Set<Long> there = new HashSet<>(procs(g));
        for (long pid : pids) {
            if (!there.contains(pid)) {
                try {
                    Files.writeString(g.resolve(CgroupFiles.CGROUP_PROCS), Long.toString(pid), StandardOpenOption.WRITE);
                } catch (IOException e) {
                    if (Files.exists(Path.of("/proc", Long.toString(pid)))) {
                        throw e;
                    }
                    // exited meanwhile
                }
            }
        }
        return CgroupText.pressure(g.resolve(CgroupFiles.MEMORY_PRESSURE));
    }

    private static List<Long> procs(Path g) throws IOException {
        try {
            return Files.readAllLines(g.resolve(CgroupFiles.CGROUP_PROCS)).stream().map(String::strip).filter(s -> !s.isEmpty())
                    .map(Long::parseLong).toList();
        } catch (NoSuchFileException e) {
            return List.of();
        }
    }

    /** Moves every process still in the mirror back to this process's own group and removes the groups. */
    @Override
    public void close() throws IOException {
        List<IOException> failures = new ArrayList<>();
        for (Path g : groups.values()) {
            try {
                for (long pid : procs(g)) {
                    try {
                        Files.writeString(parent.resolve(CgroupFiles.CGROUP_PROCS), Long.toString(pid), StandardOpenOption.WRITE);
                    } catch (IOException e) {
                        if (Files.exists(Path.of("/proc", Long.toString(pid)))) {
                            throw e;
                        }
                    }
                }
                rmdir(g);
            } catch (IOException e) {
                failures.add(e);
            }
        }
        try {
            rmdir(root);
        } catch (IOException e) {
            failures.add(e);
        }
        if (!failures.isEmpty()) {
            IOException e = new IOException("PSI mirror clean-up of " + root + " failed", failures.getFirst());
            failures.stream().skip(1).forEach(e::addSuppressed);
            throw e;
        }
    }

    /** rmdir, retrying briefly: a group whose last process just exited may report busy for a moment. */
    private static void rmdir(Path g) throws IOException {
        for (int i = 0; ; i++) {
            try {
                Files.deleteIfExists(g);
                return;
            } catch (IOException e) {
                if (i >= 50) {
                    throw e;
                }
                try {
                    Thread.sleep(20);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }
}
