package io.memwarden.cgroup;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * Cgroup files kept open between the loops' rounds: reading one again is a positional read at offset 0 (the kernel
 * regenerates a cgroup file's text on every read from its start), not open, read and close with a path lookup
 * each time. At most {@link #MAX_HELD} files are held, and no more than a quarter of the process's open-file limit;
 * beyond that a file is opened and closed per read as before.
 * <p>
 * Reads are serialized (two readers of one open cgroup file would interleave in its kernel read state); the text
 * is then parsed outside the lock, in the reading thread's own buffer. A held file whose read fails (its cgroup was
 * removed, maybe created again) is closed and opened afresh once.
 */
public final class HeldFiles implements AutoCloseable {
    /** Enough for a few hundred containers' per-round files, well under a daemon's file limit. */
    public static final int MAX_HELD = 4096;

    private final Map<Path, FileChannel> open = new HashMap<>();
    private final int max;

    public HeldFiles() {
        this(Math.min(MAX_HELD, openFileLimit() / 4));
    }

    HeldFiles(int max) {
        this.max = max;
    }

    /**
     * The soft limit on open files ({@code /proc/self/limits}), or 1024 when it cannot be read. The held files take at
     * most a quarter of it, the HTTP API's connections another quarter ({@code io.memwarden.api.ApiLimits}).
     */
    public static int openFileLimit() {
        try {
            for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max open files")) {
                    String soft = line.substring("Max open files".length()).strip().split("\\s+")[0];
                    return soft.equals("unlimited") ? Integer.MAX_VALUE : (int) Math.min(Integer.MAX_VALUE,
                            Long.parseLong(soft));
                }
            }
        } catch (IOException | RuntimeException e) {
            // fall through
        }
        return 1024;
    }

    /** The file's text; valid until this thread's next read (see {@link CgroupText#read(Path)}). */
    synchronized CharSequence read(Path file) throws IOException {
        FileChannel ch = open.get(file);
        if (ch != null) {
            try {
                return CgroupText.read(ch);
            } catch (IOException e) {
                drop(file); // removed (ENODEV), perhaps created again: open it afresh below
            }
        }
        if (open.size() >= max) {
            return CgroupText.read(file);
        }
        ch = FileChannel.open(file, StandardOpenOption.READ); // NoSuchFileException: no such file (yet)
        open.put(file, ch);
        try {
            return CgroupText.read(ch);
        } catch (IOException e) {
            drop(file);
            throw e;
        }
    }

    /** Closes the files of cgroups (their parent directories) not in {@code cgroups}. */
    public synchronized void retainCgroups(Set<Path> cgroups) {
        for (Iterator<Map.Entry<Path, FileChannel>> it = open.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Path, FileChannel> e = it.next();
            if (!cgroups.contains(e.getKey().getParent())) {
                closeQuietly(e.getValue());
                it.remove();
            }
        }
    }

    /** How many files are held open. */
    public synchronized int size() {
        return open.size();
    }

    @Override
    public synchronized void close() {
        open.values().forEach(HeldFiles::closeQuietly);
        open.clear();
    }

    private void drop(Path file) {
        FileChannel ch = open.remove(file);
        if (ch != null) {
            closeQuietly(ch);
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing was written
        }
    }
}
