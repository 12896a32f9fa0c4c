package io.memwarden.cgroup;

import io.memwarden.model.CgroupFiles;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * A subtree of cgroups that memwarden created and owns: every directory is made through it, so cleanup removes
 * exactly those and nothing else. {@link #close()} kills the processes in them (SIGKILL), waits until they are
 * gone, then removes the directories deepest first. Safe to close twice.
 */
public final class CgroupTree implements AutoCloseable {
    private final Path root;
    private final boolean v2;
    private final List<Path> created = new ArrayList<>();
    private boolean closed;

    private CgroupTree(Path root, boolean v2) {
        this.root = root;
        this.v2 = v2;
    }

    /** Creates {@code parent/name}; fails if it exists (never adopts a cgroup it did not create). cgroup v1. */
    public static CgroupTree create(Path parent, String name) throws IOException {
        return create(parent, name, false);
    }

    /**
     * Creates {@code parent/name}; fails if it exists. On cgroup v2 ({@code v2}) the memory controller is enabled in
     * {@code cgroup.subtree_control} of every cgroup that gets a child (the parent included), as v2 requires for the
     * children to have memory files; a parent that holds processes cannot (the "no internal processes" rule).
     */
    public static CgroupTree create(Path parent, String name, boolean v2) throws IOException {
        if (name.contains("/") || name.isEmpty()) {
            throw new IllegalArgumentException("cgroup name \"" + name + "\" must be one path component");
        }
        Path root = parent.resolve(name);
        if (v2) {
            enableMemory(parent);
        }
        try {
            Files.createDirectory(root);
        } catch (FileAlreadyExistsException e) {
            throw new IOException("cgroup " + root + " already exists; refusing to adopt a cgroup memwarden did not create", e);
        }
        CgroupTree t = new CgroupTree(root, v2);
        t.created.add(root);
        return t;
    }

    private static void enableMemory(Path cgroup) throws IOException {
        Path ctl = cgroup.resolve(CgroupFiles.CGROUP_SUBTREE_CONTROL);
        if (List.of(Files.readString(ctl).strip().split("\\s+")).contains("memory")) {
            return;
        }
        try {
            Files.writeString(ctl, "+memory", StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new IOException("cgroup v2: cannot enable the memory controller in " + ctl + " (" + e.getMessage()
                    + "); a cgroup that holds processes cannot have controllers for its children: run memwarden from"
                    + " a delegated cgroup (e.g. systemd-run --scope -p Delegate=yes)", e);
        }
    }

    public Path root() {
        return root;
    }

    /** Creates {@code relative} (and missing parents) below the root; returns its path. */
    public synchronized Path mkdirs(String relative) throws IOException {
        Path p = root.resolve(relative).normalize();
        if (!p.startsWith(root)) {
            throw new IllegalArgumentException("\"" + relative + "\" leaves the cgroup tree");
        }
        List<Path> missing = new ArrayList<>();
        for (Path q = p; !q.equals(root); q = q.getParent()) {
            if (!Files.isDirectory(q)) {
                missing.addFirst(q);
            }
        }
        for (Path q : missing) {
            if (v2) {
                enableMemory(q.getParent());
            }
            Files.createDirectory(q);
            created.add(q);
        }
        return p;
    }

    /** Moves a process into a cgroup of this tree. */
    public void enter(Path cgroup, long pid) throws IOException {
        if (!cgroup.startsWith(root)) {
            throw new IllegalArgumentException(cgroup + " is not in " + root);
        }
        Files.writeString(cgroup.resolve(CgroupFiles.CGROUP_PROCS), Long.toString(pid), StandardOpenOption.WRITE);
    }

    /** The pids in every cgroup of the tree. */
    public synchronized List<Long> pids() {
        List<Long> out = new ArrayList<>();
        for (Path p : created) {
            try {
                for (String l : Files.readAllLines(p.resolve(CgroupFiles.CGROUP_PROCS))) {
                    if (!l.isBlank()) {
                        out.add(Long.parseLong(l.strip()));
                    }
                }
            } catch (NoSuchFileException e) {
                // removed already
            } catch (IOException e) {
                // unreadable: nothing to kill there
            }
        }
        return out;
    }

    /** SIGKILLs every process in the tree and waits (bounded) until none is left. Returns whether it is empty. */
    public boolean killAll(Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            List<Long> pids = pids();
            if (pids.isEmpty()) {
                return true;
            }
            for (long pid : pids) {
                Optional<ProcessHandle> h = ProcessHandle.of(pid);
                h.ifPresent(ProcessHandle::destroyForcibly);
            }
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }

    /**
     * Removes a tree memwarden created in an earlier process that is gone (a run killed with SIGKILL): kills every
     * process in {@code root} and its descendant cgroups (cgroup v2: {@code cgroup.kill} where the kernel has it, 5.14+;
     * and SIGKILL to each pid in every {@code cgroup.procs}), waits up to {@code wait} until they are gone, then
     * removes the directories deepest first. The caller decides that the tree is abandoned; nothing outside
     * {@code root} is touched.
     *
     * @return how many processes were killed
     * @throws IOException when a process is still there after {@code wait} or a directory cannot be removed
     */
    public static int removeAbandoned(Path root, boolean v2, Duration wait) throws IOException {
        List<Path> dirs;
        try (var walk = Files.walk(root)) {
            dirs = walk.filter(p -> Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)).toList();
        }
        Path kill = root.resolve(CgroupFiles.CGROUP_KILL);
        if (v2 && Files.exists(kill)) {
            try {
                Files.writeString(kill, "1", StandardOpenOption.WRITE);
            } catch (IOException e) {
                // the SIGKILLs below do the same, one process at a time
            }
        }
        java.util.Set<Long> seen = new java.util.HashSet<>();
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            List<Long> pids = new ArrayList<>();
            for (Path d : dirs) {
                pids.addAll(procs(d));
            }
            if (pids.isEmpty()) {
                break;
            }
            seen.addAll(pids);
            pids.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
            if (System.nanoTime() > deadline) {
                throw new IOException("cgroup " + root + ": processes " + pids + " are still there after "
                        + wait.toMillis() + " ms of SIGKILL; not removed");
            }
            sleep(20);
        }
        List<Path> deepestFirst = new ArrayList<>(dirs);
        deepestFirst.sort(Comparator.comparingInt(Path::getNameCount).reversed());
        for (Path p : deepestFirst) {
            for (int attempt = 0; ; attempt++) {
                try {
                    Files.deleteIfExists(p);
                    break;
                } catch (IOException e) {
                    if (attempt >= 50) {
                        throw new IOException("cannot remove cgroup " + p + ": " + e.getMessage(), e);
                    }
                    sleep(20); // EBUSY for a moment after the last task exits
                }
            }
        }
        return seen.size();
    }

    private static List<Long> procs(Path cgroup) {
        List<Long> out = new ArrayList<>();
        try {
            for (String l : Files.readAllLines(cgroup.resolve(CgroupFiles.CGROUP_PROCS))) {
                if (l.strip().matches("[0-9]{1,10}")) {
                    out.add(Long.parseLong(l.strip()));
                }
            }
        } catch (IOException e) {
            // gone, or unreadable: nothing to kill there
        }
        return out;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        boolean empty = killAll(Duration.ofSeconds(10));
        List<Path> dirs = new ArrayList<>(created);
        dirs.sort(Comparator.comparingInt(Path::getNameCount).reversed());
        IOException first = null;
        for (Path p : dirs) {
            for (int attempt = 0; ; attempt++) {
                try {
                    Files.deleteIfExists(p);
                    break;
                } catch (IOException e) {
                    // rmdir can fail with EBUSY for a moment after the last task exits
                    if (attempt >= 50) {
                        if (first == null) {
                            first = new IOException("cannot remove cgroup " + p + (empty ? "" : " (processes still in it)")
                                    + ": " + e.getMessage(), e);
                        }
                        break;
                    }
                    try {
                        Thread.sleep(20);
                    } catch (InterruptedException ie) {
                        Thread.currentThread().interrupt();
                        break;
                    }
                }
            }
        }
        closed = true;
        if (first != null) {
            throw first;
        }
    }
}
