package io.memwarden.nri.wire;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A blocking byte channel over an inherited file descriptor (a launched NRI plugin's socket, fd 3), through the
 * JDK's foreign function API ({@code read}, {@code write}, {@code shutdown}, {@code close} from libc): the JDK has
 * no public way to wrap an arbitrary inherited fd. Reads block the calling (platform) thread; {@link #close()}
 * shuts the socket down first so a blocked reader wakes up.
 */
public final class FdChannel implements ByteChannel {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MemoryLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle READ = libc("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle WRITE = libc("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle SHUTDOWN = libc("shutdown", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle CLOSE = libc("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle SOCKETPAIR = libc("socketpair",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    private static final int EINTR = 4;
    private static final int AF_UNIX = 1;
    private static final int SOCK_STREAM = 1;
    private static final int SHUT_RDWR = 2;
    private static final int CHUNK = 64 * 1024;

    private final int fd;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Arena arena = Arena.ofShared();
    private final MemorySegment readBuf = arena.allocate(CHUNK);
    private final MemorySegment writeBuf = arena.allocate(CHUNK);
    private final MemorySegment readErrno = arena.allocate(CAPTURE);
    private final MemorySegment writeErrno = arena.allocate(CAPTURE);

    public FdChannel(int fd) {
        if (fd < 0) {
            throw new IllegalArgumentException("bad file descriptor " + fd);
        }
        this.fd = fd;
    }

    private static MethodHandle libc(String name, FunctionDescriptor d) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), d,
                Linker.Option.captureCallState("errno"));
    }

    /** A connected pair of unix stream sockets (for tests of the launched mode). */
    public static FdChannel[] socketPair() throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fds = a.allocate(JAVA_INT, 2);
            MemorySegment err = a.allocate(CAPTURE);
            int rc = (int) SOCKETPAIR.invokeExact(err, AF_UNIX, SOCK_STREAM, 0, fds);
            if (rc != 0) {
                throw new IOException("socketpair failed: errno " + (int) ERRNO.get(err, 0L));
            }
            return new FdChannel[] {new FdChannel(fds.getAtIndex(JAVA_INT, 0)), new FdChannel(fds.getAtIndex(JAVA_INT, 1))};
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException(t);
        }
    }

    @Override
    public synchronized int read(ByteBuffer dst) throws IOException {
        if (closed.get()) {
            throw new ClosedChannelException();
        }
        int want = Math.min(dst.remaining(), CHUNK);
        if (want == 0) {
            return 0;
        }
        while (true) {
            long n;
            try {
                n = (long) READ.invokeExact(readErrno, fd, readBuf, (long) want);
            } catch (Throwable t) {
                throw new IOException(t);
            }
            if (n > 0) {
                dst.put(readBuf.asSlice(0, n).asByteBuffer());
                return (int) n;
            }
            if (n == 0) {
                return -1;
            }
            int errno = (int) ERRNO.get(readErrno, 0L);
            if (closed.get()) {
                throw new ClosedChannelException();
            }
            if (errno != EINTR) {
                throw new IOException("read(fd " + fd + ") failed: errno " + errno);
            }
        }
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        synchronized (writeBuf) {
            if (closed.get()) {
                throw new ClosedChannelException();
            }
            int want = Math.min(src.remaining(), CHUNK);
            MemorySegment.copy(MemorySegment.ofBuffer(src.slice(src.position(), want)), 0, writeBuf, 0, want);
            while (true) {
                long n;
                try {
                    n = (long) WRITE.invokeExact(writeErrno, fd, writeBuf, (long) want);
                } catch (Throwable t) {
                    throw new IOException(t);
                }
                if (n >= 0) {
                    src.position(src.position() + (int) n);
                    return (int) n;
                }
                int errno = (int) ERRNO.get(writeErrno, 0L);
                if (errno != EINTR) {
                    throw new IOException("write(fd " + fd + ") failed: errno " + errno);
                }
            }
        }
    }

    @Override
    public boolean isOpen() {
        return !closed.get();
    }

    /** Shuts the socket down (waking a blocked reader) and closes the fd. */
    @Override
    public void close() throws IOException {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = a.allocate(CAPTURE);
            int ignored = (int) SHUTDOWN.invokeExact(err, fd, SHUT_RDWR);
            // the reader (if any) returns from read(2) now; take its lock before closing the fd so the number
            // cannot be reused under it
            synchronized (this) {
                synchronized (writeBuf) {
                    int rc = (int) CLOSE.invokeExact(err, fd);
                }
            }
        } catch (Throwable t) {
            throw new IOException(t);
        }
    }
}
