package io.memwarden.kernel;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which anonymous memory of a process was referenced lately, and paging chosen ranges of it out — the mechanism of
 * the cold-range offload on cgroup v1 and v2 (kernel-and-vm.md §5, all verified on the build kernel; on v2 in the vm
 * tier):
 * <ul>
 *   <li>{@link #read}: {@code /proc/PID/smaps} ({@code Referenced:} = bytes whose accessed bit or PG_referenced
 *       was set since the last clear) for every anonymous, private, writable, unlocked mapping;
 *       {@link #clearRefs}: write {@code 1} to {@code /proc/PID/clear_refs} (clears the referenced bits of that
 *       process's pages and nobody else's; 2 would be mapped file pages only, 3 both, 4 soft-dirty, not built
 *       here).</li>
 *   <li>{@link #pageout}: {@code process_madvise(pidfd, iovec[], n, MADV_PAGEOUT, 0)} (syscall 440 on x86_64,
 *       every iovec start page-aligned) through a pidfd, so a recycled pid is never touched; at most
 *       {@value #IOV_MAX} iovecs per call.</li>
 * </ul>
 * No smaps sub-range is finer than a mapping: page_idle and soft-dirty are not built here, and kpageflags'
 * REFERENCED bit is only PG_referenced, not the PTE accessed bit.
 */
public final class ProcessPages {
    /** Whether this process's {@code /proc} has {@code pid} (a process of another pid namespace is not there). */
    public static boolean visible(long pid) {
        return Files.isDirectory(Path.of("/proc", Long.toString(pid)));
    }

    private ProcessPages() {}

    static final long SYS_PROCESS_MADVISE = 440;
    public static final int MADV_PAGEOUT = 21;
    static final int IOV_MAX = 1024;
    static final int ENOMEM = 12;
    static final int EINVAL = 22;

    /** One mapping eligible for offload: anonymous bytes resident and referenced since the last clear. */
    public record Mapping(long start, long end, long anonymousBytes, long referencedBytes) {}

    private static final Pattern HEADER = Pattern.compile(
            "^([0-9a-f]+)-([0-9a-f]+) (\\S{4}) [0-9a-f]+ [0-9a-f]+:[0-9a-f]+ (\\d+)\\s*(.*)$");

    /**
     * Reads the eligible mappings with the bytes referenced since the last {@link #clearRefs}. Returns an empty list
     * when the process is gone.
     */
    public static List<Mapping> read(long pid) throws IOException {
        Path dir = Path.of("/proc", Long.toString(pid));
        try {
            return parseSmaps(Files.readString(dir.resolve("smaps")));
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            if (!Files.exists(dir)) {
                return List.of(); // exited while we read
            }
            throw e;
        }
    }

    /**
     * Writes {@code 1} to {@code /proc/PID/clear_refs}: the next {@link #read} counts only what is touched from now
     * on. Returns false when the process is gone.
     */
    public static boolean clearRefs(long pid) throws IOException {
        Path dir = Path.of("/proc", Long.toString(pid));
        try {
            Files.writeString(dir.resolve("clear_refs"), "1", StandardOpenOption.WRITE);
            return true;
        } catch (NoSuchFileException e) {
            return false;
        } catch (IOException e) {
            if (!Files.exists(dir)) {
                return false;
            }
            throw e;
        }
    }

    /**
     * The eligible mappings of an smaps text: private and writable ({@code rw?p}), anonymous (inode 0; no path, or
     * {@code [heap]}, {@code [stack]} or {@code [anon:…]}), not locked ({@code Locked: 0}, no {@code lo} flag), not
     * I/O or PFN-mapped, with resident anonymous memory.
     */
    public static List<Mapping> parseSmaps(String text) {
        List<Mapping> out = new ArrayList<>();
        long start = 0;
        long end = 0;
        boolean eligible = false;
        long anon = 0;
        long referenced = 0;
        long locked = 0;
        String flags = "";
        boolean open = false;
        for (String line : text.split("\n")) {
            Matcher m = HEADER.matcher(line);
            if (m.matches()) {
                if (open) {
                    add(out, start, end, eligible, anon, referenced, locked, flags);
                }
                open = true;
                start = Long.parseUnsignedLong(m.group(1), 16);
                end = Long.parseUnsignedLong(m.group(2), 16);
                String perms = m.group(3);
                String path = m.group(5).strip();
                eligible = perms.charAt(0) == 'r' && perms.charAt(1) == 'w' && perms.charAt(3) == 'p'
                        && m.group(4).equals("0") && (path.isEmpty() || path.equals("[heap]")
                        || path.equals("[stack]") || path.startsWith("[anon:"));
                anon = 0;
                referenced = 0;
                locked = 0;
                flags = "";
                continue;
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                continue;
            }
            String key = line.substring(0, colon);
            String value = line.substring(colon + 1).strip();
            switch (key) {
                case "Anonymous" -> anon = kib(value);
                case "Referenced" -> referenced = kib(value);
                case "Locked" -> locked = kib(value);
                case "VmFlags" -> flags = " " + value + " ";
                default -> { }
            }
        }
        if (open) {
            add(out, start, end, eligible, anon, referenced, locked, flags);
        }
        return out;
    }

    private static void add(List<Mapping> out, long start, long end, boolean eligible, long anon, long referenced,
                            long locked, String flags) {
        if (!eligible || anon == 0 || locked != 0 || flags.contains(" lo ") || flags.contains(" io ")
                || flags.contains(" pf ")) {
            return;
        }
        out.add(new Mapping(start, end, anon, Math.min(referenced, anon)));
    }

    private static long kib(String value) {
        String[] f = value.split("\\s+");
        return Long.parseLong(f[0]) * 1024;
    }

    /** A result of {@link #pageout}: bytes the kernel processed and ranges it refused (unmapped since). */
    public record Result(long bytes, int skipped, boolean gone) {}

    /**
     * Pages out the given ranges of {@code pid} (MADV_PAGEOUT: resident pages of them go to swap now, the rest of the
     * process is untouched). The pidfd is opened first; then {@code procsFile} (the cgroup.procs of the container it
     * was sampled in) must still list the pid, so a pid reused by another process in the meantime is never touched.
     * A range the kernel refuses (ENOMEM: unmapped since the sample; EINVAL) is skipped and the rest continue.
     */
    public static Result pageout(long pid, Path procsFile, long[] starts, long[] lengths) throws IOException {
        if (starts.length != lengths.length) {
            throw new IllegalArgumentException("starts and lengths differ in length: " + starts.length + " vs "
                    + lengths.length);
        }
        int fd = Pidfd.open(pid);
        if (fd < 0) {
            return new Result(0, 0, true);
        }
        try {
            if (!listed(procsFile, pid)) {
                return new Result(0, 0, true);
            }
            long total = 0;
            int skipped = 0;
            try (Arena a = Arena.ofConfined()) {
                MemorySegment st = a.allocate(Pidfd.captureLayout());
                MemorySegment iov = a.allocate(16L * IOV_MAX, 8);
                int i = 0;
                while (i < starts.length) {
                    int n = Math.min(IOV_MAX, starts.length - i);
                    long want = 0;
                    for (int k = 0; k < n; k++) {
                        iov.setAtIndex(JAVA_LONG, 2L * k, starts[i + k]);
                        iov.setAtIndex(JAVA_LONG, 2L * k + 1, lengths[i + k]);
                        want += lengths[i + k];
                    }
                    long r = Pidfd.syscall5(st, SYS_PROCESS_MADVISE, fd, iov.address(), n, MADV_PAGEOUT, 0);
                    if (r < 0) {
                        int e = Pidfd.errno(st);
                        if (e == Pidfd.ESRCH) {
                            return new Result(total, skipped, true);
                        }
                        if (e != ENOMEM && e != EINVAL) {
                            throw new Libc.ErrnoException("process_madvise(" + pid + ", MADV_PAGEOUT)", e);
                        }
                        skipped++; // the first iovec failed: skip it
                        i++;
                        continue;
                    }
                    total += r;
                    if (r >= want) {
                        i += n;
                        continue;
                    }
                    // stopped inside the batch: advance past the iovecs it did, skip the one it failed on
                    long done = r;
                    int k = 0;
                    while (k < n && done >= lengths[i + k]) {
                        done -= lengths[i + k];
                        k++;
                    }
                    skipped++;
                    i += k + 1;
                }
            }
            return new Result(total, skipped, false);
        } catch (Libc.ErrnoException e) {
            throw e;
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        } finally {
            Libc.close(fd);
        }
    }

    private static boolean listed(Path procsFile, long pid) throws IOException {
        try {
            String me = Long.toString(pid);
            return Files.readAllLines(procsFile).stream().anyMatch(l -> l.strip().equals(me));
        } catch (NoSuchFileException e) {
            return false;
        }
    }
}
