package io.memwarden.kernel;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * Signals through pidfds (pidfd_open 434, pidfd_send_signal 424 on x86_64): a pidfd refers to one process for its
 * whole life, so a recycled pid can never receive a signal meant for a process that already exited.
 */
public final class Pidfd {
    private Pidfd() {}

    private static final long SYS_PIDFD_SEND_SIGNAL = 424;
    private static final long SYS_PIDFD_OPEN = 434;
    public static final int SIGKILL = 9;
    public static final int SIGTERM = 15;
    public static final int ESRCH = 3;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle SYSCALL = LINKER.downcallHandle(
            LINKER.defaultLookup().find("syscall").orElseThrow(),
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.firstVariadicArg(1), Linker.Option.captureCallState("errno"));

    private static final MethodHandle SYSCALL5 = LINKER.downcallHandle(
            LINKER.defaultLookup().find("syscall").orElseThrow(),
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.firstVariadicArg(1), Linker.Option.captureCallState("errno"));

    private static long syscall(MemorySegment st, long nr, long a, long b, long c, long d) throws Throwable {
        return (long) SYSCALL.invokeExact(st, nr, a, b, c, d);
    }

    static long syscall5(MemorySegment st, long nr, long a, long b, long c, long d, long e) throws Throwable {
        return (long) SYSCALL5.invokeExact(st, nr, a, b, c, d, e);
    }

    static StructLayout captureLayout() {
        return CAPTURE;
    }

    static int errno(MemorySegment st) {
        return (int) ERRNO.get(st, 0L);
    }

    /**
     * Opens a pidfd for {@code pid}; returns -1 when the process is gone. The caller closes it ({@link Libc#close}).
     *
     * @throws Libc.ErrnoException for any other failure
     */
    public static int open(long pid) throws Libc.ErrnoException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            long fd = syscall(st, SYS_PIDFD_OPEN, pid, 0, 0, 0);
            if (fd < 0) {
                int e = errno(st);
                if (e == ESRCH) {
                    return -1;
                }
                throw new Libc.ErrnoException("pidfd_open(" + pid + ")", e);
            }
            return (int) fd;
        } catch (Libc.ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Sends {@code signal} to {@code pid} through a pidfd. Returns false when the process is already gone.
     *
     * @throws Libc.ErrnoException for any other failure (e.g. EPERM)
     */
    public static boolean signal(long pid, int signal) throws Libc.ErrnoException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            long fd = syscall(st, SYS_PIDFD_OPEN, pid, 0, 0, 0);
            if (fd < 0) {
                int e = (int) ERRNO.get(st, 0L);
                if (e == ESRCH) {
                    return false;
                }
                throw new Libc.ErrnoException("pidfd_open(" + pid + ")", e);
            }
            try {
                long r = syscall(st, SYS_PIDFD_SEND_SIGNAL, fd, signal, MemorySegment.NULL.address(), 0);
                if (r < 0) {
                    int e = (int) ERRNO.get(st, 0L);
                    if (e == ESRCH) {
                        return false;
                    }
                    throw new Libc.ErrnoException("pidfd_send_signal(" + pid + ", " + signal + ")", e);
                }
                return true;
            } finally {
                Libc.close((int) fd);
            }
        } catch (Libc.ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
