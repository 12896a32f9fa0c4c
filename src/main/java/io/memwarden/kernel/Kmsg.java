package io.memwarden.kernel;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * A reader of {@code /dev/kmsg}: one record per read(2). Opened non-blocking so "nothing more" is EAGAIN rather
 * than a hang; {@link #await} polls for new records. EPIPE (the ring buffer overwrote unread records) skips ahead
 * and is counted ({@link #overruns()}). A record that is not a well-formed kmsg record comes back as a
 * {@link BadKmsgRecord}, numbered like every other record, so that the caller skips it alone.
 */
public final class Kmsg implements KmsgSource {
    public static final String PATH = "/dev/kmsg";
    private static final int RECORD_MAX = 8192; // the kernel's CONSOLE_EXT_LOG_MAX
    /** The most records one {@link #drain()} returns (a flood is read over several calls, in bounded memory). */
    public static final int DRAIN_MAX = 4096;

    private final int fd;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment buf = arena.allocate(RECORD_MAX);
    private long overruns;
    private long read;

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

    /** The records available now (may be empty; at most {@link #DRAIN_MAX}: call again while it returns that many). */
    @Override
    public List<KmsgEntry> drain() throws IOException {
        List<KmsgEntry> out = new ArrayList<>();
        while (out.size() < DRAIN_MAX) {
            long n = Libc.read(fd, buf);
            if (n == -Libc.EPIPE) {
                overruns++;
                continue;
            }
            if (n == -Libc.EINTR) {
                continue;
            }
            if (n <= 0) {
                break;
            }
            byte[] b = buf.asSlice(0, n).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            out.add(new KmsgEntry(++read, KmsgRecord.read(b, 0, b.length)));
        }
        return out;
    }

    /** Waits up to {@code timeoutMillis} for new records. */
    @Override
    public boolean await(int timeoutMillis) throws IOException {
        return (Libc.poll(fd, Libc.POLLIN, timeoutMillis) & Libc.POLLIN) != 0;
    }

    /** How often the kernel overwrote records before they were read. */
    public long overruns() {
        return overruns;
    }

    @Override
    public String name() {
        return PATH;
    }

    @Override
    public void close() {
        Libc.close(fd);
        arena.close();
    }
}
