package io.memwarden.kernel;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A reader of {@code /dev/kmsg}: one record per read(2). Opened non-blocking so "nothing more" is EAGAIN rather
 * than a hang; {@link #await} polls for new records. EPIPE (the ring buffer overwrote unread records) skips ahead.
 */
public final class Kmsg implements AutoCloseable {
    public static final String PATH = "/dev/kmsg";
    private static final int RECORD_MAX = 8192; // the kernel's CONSOLE_EXT_LOG_MAX

    private final int fd;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment buf = arena.allocate(RECORD_MAX);
    private long overruns;

    private Kmsg(int fd) {
        this.fd = fd;
    }

    /** Opens the log; {@code fromEnd} skips every record already in the buffer (follow new messages only). */
    public static Kmsg open(boolean fromEnd) throws IOException {
        int fd = Libc.open(PATH, Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC);
        if (fromEnd) {
            try {
                Libc.lseek(fd, 0, Libc.SEEK_END);
            } catch (IOException e) {
                Libc.close(fd);
                throw e;
            }
        }
        return new Kmsg(fd);
    }

    /** Every record available now (may be empty). */
    public List<KmsgRecord> drain() throws IOException {
        List<KmsgRecord> out = new ArrayList<>();
        while (true) {
            long n = Libc.read(fd, buf);
            if (n == -Libc.EPIPE) {
                overruns++;
                continue;
            }
            if (n == -Libc.EINTR) {
                continue;
            }
            if (n <= 0) {
                return out;
            }
            String text = new String(buf.asSlice(0, n).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                    StandardCharsets.UTF_8);
            out.add(KmsgRecord.parse(text));
        }
    }

    /** Waits up to {@code timeoutMillis} for new records. */
    public boolean await(int timeoutMillis) throws IOException {
        return (Libc.poll(fd, Libc.POLLIN, timeoutMillis) & Libc.POLLIN) != 0;
    }

    /** How often the kernel overwrote records before they were read. */
    public long overruns() {
        return overruns;
    }

    @Override
    public void close() {
        Libc.close(fd);
        arena.close();
    }
}
