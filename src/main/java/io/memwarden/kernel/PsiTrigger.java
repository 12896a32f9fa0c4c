package io.memwarden.kernel;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A PSI trigger (kernel-and-vm.md §6): a pressure file ({@code /proc/pressure/memory} or a cgroup v2
 * {@code memory.pressure}) opened read-write, a trigger line {@code "some|full <stall us> <window us>"} written to
 * it, then poll(2) for POLLPRI: the kernel signals when tasks stalled at least {@code stall} within one
 * {@code window} (at most once per window). Closing the file removes the trigger.
 *
 * <p>{@link #await} blocks in poll(2) through FFM, which pins a virtual thread's carrier: call it from a platform
 * thread (as the OOM watch does for /dev/kmsg).
 */
public final class PsiTrigger implements AutoCloseable {
    public static final Path SYSTEM_MEMORY = Path.of("/proc/pressure/memory");

    private final Path file;
    private final Spec spec;
    private final int fd;
    private boolean closed;

    /**
     * A validated trigger line. Without CAP_SYS_RESOURCE (our machines) the kernel accepts only windows that are a
     * multiple of 2 s, and never more than 10 s; the stall must be above 0 and not above the window.
     *
     * @param kind        "some" or "full"
     * @param stallMicros stall time within one window that fires the trigger
     * @param windowMicros the tracking window
     */
    public record Spec(String kind, long stallMicros, long windowMicros) {
        public static final long WINDOW_STEP_MICROS = 2_000_000;
        public static final long WINDOW_MAX_MICROS = 10_000_000;

        public Spec {
            if (!"some".equals(kind) && !"full".equals(kind)) {
                throw new IllegalArgumentException("PSI trigger kind must be some or full, got \"" + kind + "\"");
            }
            if (windowMicros <= 0 || windowMicros > WINDOW_MAX_MICROS || windowMicros % WINDOW_STEP_MICROS != 0) {
                throw new IllegalArgumentException("PSI trigger window must be a multiple of 2000000 us (2 s) up to "
                        + "10000000 us (10 s) (unprivileged limit, kernel-and-vm.md §6), got " + windowMicros);
            }
            if (stallMicros <= 0 || stallMicros > windowMicros) {
                throw new IllegalArgumentException("PSI trigger stall must be above 0 and at most the window "
                        + windowMicros + " us, got " + stallMicros);
            }
        }

        /**
         * Parses {@code "some|full <stall us> <window us>"}.
         *
         * @throws IllegalArgumentException naming the text and what is wrong
         */
        public static Spec parse(String text) {
            String[] p = text == null ? new String[0] : text.trim().split("\\s+");
            if (p.length != 3) {
                throw new IllegalArgumentException("PSI trigger \"" + text
                        + "\" must be \"some|full <stall us> <window us>\", e.g. \"some 150000 2000000\"");
            }
            long stall;
            long window;
            try {
                stall = Long.parseLong(p[1]);
                window = Long.parseLong(p[2]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("PSI trigger \"" + text
                        + "\": stall and window must be whole microseconds, e.g. \"some 150000 2000000\"");
            }
            try {
                return new Spec(p[0], stall, window);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("\"" + text + "\": " + e.getMessage());
            }
        }

        /** The line written to the pressure file (without its terminator). */
        public String text() {
            return kind + " " + stallMicros + " " + windowMicros;
        }

        /** Short form for logs and action triggers: {@code some 150000/2000000}. */
        public String brief() {
            return kind + " " + stallMicros + "/" + windowMicros;
        }
    }

    private PsiTrigger(Path file, Spec spec, int fd) {
        this.file = file;
        this.spec = spec;
        this.fd = fd;
    }

    /**
     * Opens {@code file} and registers {@code spec} on it.
     *
     * @throws IOException naming the file and the trigger (ENOENT: no PSI; EACCES; EINVAL: the kernel refused the
     *                     window)
     */
    public static PsiTrigger register(Path file, Spec spec) throws IOException {
        int fd;
        try {
            fd = Libc.open(file.toString(), Libc.O_RDWR | Libc.O_NONBLOCK | Libc.O_CLOEXEC);
        } catch (Libc.ErrnoException e) {
            throw new IOException(file + ": cannot register PSI trigger \"" + spec.text() + "\": " + e.getMessage(), e);
        }
        // the kernel overwrites the last byte written with NUL: send one of our own (kernel-and-vm.md §6)
        byte[] line = (spec.text() + "\0").getBytes(StandardCharsets.US_ASCII);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(line.length);
            buf.copyFrom(MemorySegment.ofArray(line));
            Libc.write(fd, buf);
        } catch (Libc.ErrnoException e) {
            Libc.close(fd);
            throw new IOException(file + ": cannot register PSI trigger \"" + spec.text() + "\": " + e.getMessage(), e);
        }
        return new PsiTrigger(file, spec, fd);
    }

    /**
     * Waits up to {@code timeoutMillis} for the trigger.
     *
     * @return true when the kernel signalled (POLLPRI), false on timeout
     * @throws IOException when the file is no longer usable (POLLERR: e.g. its cgroup was removed)
     */
    public boolean await(long timeoutMillis) throws IOException {
        if (closed) {
            throw new IOException(file + ": PSI trigger \"" + spec.text() + "\" is closed");
        }
        int t = (int) Math.max(0, Math.min(Integer.MAX_VALUE, timeoutMillis));
        short revents;
        try {
            revents = Libc.poll(fd, Libc.POLLPRI, t);
        } catch (Libc.ErrnoException e) {
            throw new IOException(file + ": PSI trigger \"" + spec.text() + "\": " + e.getMessage(), e);
        }
        if ((revents & Libc.POLLERR) != 0) {
            throw new IOException(file + ": PSI trigger \"" + spec.text() + "\": poll reported POLLERR");
        }
        return (revents & Libc.POLLPRI) != 0;
    }

    public Path file() {
        return file;
    }

    public Spec spec() {
        return spec;
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            Libc.close(fd);
        }
    }
}
