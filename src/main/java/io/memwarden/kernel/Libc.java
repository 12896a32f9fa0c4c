package io.memwarden.kernel;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The few libc calls memwarden needs that NIO cannot make (raw fds with O_NONBLOCK, lseek SEEK_END, poll with
 * POLLPRI), through the Java 25 foreign function API. Every call captures errno.
 */
public final class Libc {
    private Libc() {}

    public static final int O_RDONLY = 0;
    public static final int O_RDWR = 2;
    public static final int O_NONBLOCK = 04000;
    public static final int O_CLOEXEC = 02000000;
    public static final int SEEK_END = 2;
    public static final short POLLIN = 0x1;
    public static final short POLLPRI = 0x2;
    public static final short POLLERR = 0x8;
    public static final int EAGAIN = 11;
    public static final int EINTR = 4;
    public static final int EPIPE = 32;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CCS = Linker.Option.captureCallState("errno");

    private static MethodHandle handle(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), fd, CCS);
    }

    private static final MethodHandle OPEN = handle("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle READ = handle("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle WRITE = handle("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle LSEEK = handle("lseek", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT));
    private static final MethodHandle CLOSE = handle("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle POLL = handle("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));

    /** pollfd {int fd; short events; short revents}. */
    public static final StructLayout POLLFD = MemoryLayout.structLayout(JAVA_INT.withName("fd"),
            JAVA_SHORT.withName("events"), JAVA_SHORT.withName("revents"));

    /** A failed call: the function name and errno. */
    public static final class ErrnoException extends java.io.IOException {
        private final int errno;

        public ErrnoException(String call, int errno) {
            super(call + " failed: errno " + errno + " (" + describe(errno) + ")");
            this.errno = errno;
        }

        public int errno() {
            return errno;
        }

        private static String describe(int e) {
            return switch (e) {
                case 1 -> "EPERM";
                case 2 -> "ENOENT";
                case 4 -> "EINTR";
                case 9 -> "EBADF";
                case 11 -> "EAGAIN";
                case 13 -> "EACCES";
                case 22 -> "EINVAL";
                case 32 -> "EPIPE";
                default -> "see errno(3)";
            };
        }
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    public static int open(String path, int flags) throws ErrnoException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            int fd = (int) OPEN.invokeExact(st, a.allocateFrom(path), flags);
            if (fd < 0) {
                throw new ErrnoException("open(" + path + ")", errno(st));
            }
            return fd;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** read(2); returns the byte count, 0 at EOF, or -errno for EAGAIN/EINTR/EPIPE (callers decide). */
    public static long read(int fd, MemorySegment buf) throws ErrnoException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            long n = (long) READ.invokeExact(st, fd, buf, buf.byteSize());
            if (n < 0) {
                int e = errno(st);
                if (e == EAGAIN || e == EINTR || e == EPIPE) {
                    return -e;
                }
                throw new ErrnoException("read(fd " + fd + ")", e);
            }
            return n;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    public static long write(int fd, MemorySegment buf) throws ErrnoException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            long n = (long) WRITE.invokeExact(st, fd, buf, buf.byteSize());
            if (n < 0) {
                throw new ErrnoException("write(fd " + fd + ")", errno(st));
            }
            return n;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    public static long lseek(int fd, long offset, int whence) throws ErrnoException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            long r = (long) LSEEK.invokeExact(st, fd, offset, whence);
            if (r < 0) {
                throw new ErrnoException("lseek(fd " + fd + ")", errno(st));
            }
            return r;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** poll(2) on one fd; returns its revents, or 0 on timeout. EINTR counts as a timeout. */
    public static short poll(int fd, short events, int timeoutMillis) throws ErrnoException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            MemorySegment pfd = a.allocate(POLLFD);
            pfd.set(JAVA_INT, 0, fd);
            pfd.set(JAVA_SHORT, 4, events);
            pfd.set(JAVA_SHORT, 6, (short) 0);
            int r = (int) POLL.invokeExact(st, pfd, 1L, timeoutMillis);
            if (r < 0) {
                int e = errno(st);
                if (e == EINTR) {
                    return 0;
                }
                throw new ErrnoException("poll(fd " + fd + ")", e);
            }
            return r == 0 ? 0 : pfd.get(JAVA_SHORT, 6);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    public static void close(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            int r = (int) CLOSE.invokeExact(st, fd);
            if (r < 0) {
                // nothing sensible to do on a failed close of a read-only fd
                return;
            }
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
