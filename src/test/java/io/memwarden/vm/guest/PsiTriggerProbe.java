package io.memwarden.vm.guest;

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
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Guest program of the vm tier (runs inside the VM with the host's JDK, see test/vm/guest/cgroup-v2-checks.sh):
 * arms a PSI trigger on a cgroup's {@code memory.pressure} and waits for it with {@code poll(POLLPRI)}, all through
 * the FFM API — the mechanism memwarden's pressure guard will use.
 *
 * <pre>usage: PsiTriggerProbe PRESSURE_FILE TRIGGER QUIET_MILLIS READY_FILE WAIT_MILLIS</pre>
 *
 * Writes TRIGGER (e.g. {@code "some 100000 1000000"}) to PRESSURE_FILE, then expects no event for QUIET_MILLIS
 * (the cgroup is idle), creates READY_FILE (the caller then starts the memory pressure) and waits up to WAIT_MILLIS
 * for the event. Prints one line per step; exit 0 fired, 1 no event in time, 3 event while idle, 2 error.
 */
public final class PsiTriggerProbe {
    private static final int O_RDWR = 0x2;
    private static final int O_NONBLOCK = 0x800;
    private static final short POLLPRI = 0x2;
    private static final short POLLERR = 0x8;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final StructLayout POLLFD = MemoryLayout.structLayout(
            JAVA_INT.withName("fd"), JAVA_SHORT.withName("events"), JAVA_SHORT.withName("revents"));

    private static final MethodHandle OPEN = libc("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle WRITE = libc("write",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle POLL = libc("poll",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle CLOSE = libc("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));

    private PsiTriggerProbe() {}

    @SuppressWarnings("restricted")
    private static MethodHandle libc(String name, FunctionDescriptor fd, Linker.Option... extra) {
        Linker.Option[] options = new Linker.Option[extra.length + 1];
        options[0] = Linker.Option.captureCallState("errno");
        System.arraycopy(extra, 0, options, 1, extra.length);
        return LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow(name), fd, options);
    }

    public static void main(String[] args) throws Throwable {
        if (args.length != 5) {
            System.err.println("usage: PsiTriggerProbe PRESSURE_FILE TRIGGER QUIET_MILLIS READY_FILE WAIT_MILLIS");
            System.exit(2);
        }
        String file = args[0];
        String trigger = args[1];
        int quietMillis = Integer.parseInt(args[2]);
        Path ready = Path.of(args[3]);
        int waitMillis = Integer.parseInt(args[4]);

        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int fd = (int) OPEN.invokeExact(state, arena.allocateFrom(file), O_RDWR | O_NONBLOCK, 0);
            if (fd < 0) {
                fail("open " + file, state);
            }
            // the kernel takes the trigger as a C string: the terminating NUL is part of the write
            MemorySegment text = arena.allocateFrom(trigger);
            long written = (long) WRITE.invokeExact(state, fd, text, text.byteSize());
            if (written != text.byteSize()) {
                fail("write '" + trigger + "' to " + file, state);
            }
            System.out.println("armed " + trigger);

            MemorySegment pollfd = arena.allocate(POLLFD);
            int quiet = poll(pollfd, fd, quietMillis, state);
            if (quiet != 0) {
                System.out.println("event while idle: revents=0x" + Integer.toHexString(quiet));
                System.exit(3);
            }
            System.out.println("quiet for " + quietMillis + " ms");
            Files.createFile(ready);

            long start = System.nanoTime();
            int revents = poll(pollfd, fd, waitMillis, state);
            long millis = (System.nanoTime() - start) / 1_000_000;
            int closed = (int) CLOSE.invokeExact(state, fd);
            if (closed != 0) {
                fail("close", state);
            }
            if ((revents & POLLERR) != 0) {
                System.out.println("POLLERR after " + millis + " ms (cgroup removed?)");
                System.exit(2);
            }
            if ((revents & POLLPRI) != 0) {
                System.out.println("fired after " + millis + " ms");
                System.exit(0);
            }
            System.out.println("no event within " + waitMillis + " ms");
            System.exit(1);
        }
    }

    /** poll(2) for POLLPRI on fd; returns revents, 0 on timeout. */
    private static int poll(MemorySegment pollfd, int fd, int timeoutMillis, MemorySegment state) throws Throwable {
        pollfd.set(JAVA_INT, 0, fd);
        pollfd.set(JAVA_SHORT, 4, POLLPRI);
        pollfd.set(JAVA_SHORT, 6, (short) 0);
        int n = (int) POLL.invokeExact(state, pollfd, 1L, timeoutMillis);
        if (n < 0) {
            fail("poll", state);
        }
        return n == 0 ? 0 : pollfd.get(JAVA_SHORT, 6);
    }

    private static void fail(String what, MemorySegment state) {
        System.out.println("error: " + what + " failed, errno " + (int) ERRNO.get(state, 0L));
        System.exit(2);
    }
}
