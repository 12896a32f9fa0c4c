package io.memwarden.loops;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * A process for {@link KsmTunerKernelTest}: {@code MIB} MiB of anonymous memory whose page i holds the number i
 * (so two helpers hold the same pages, and one helper's pages differ from each other), opted in to KSM with
 * {@code madvise(MADV_MERGEABLE)} on the range or {@code prctl(PR_SET_MEMORY_MERGE, 1)} for the whole process.
 * Prints "ready" and waits until its stdin closes.
 */
public final class KsmMergeableHelper {
    static final int MADV_MERGEABLE = 12;
    static final int PR_SET_MEMORY_MERGE = 67;

    public static void main(String[] args) throws Throwable {
        String how = args[0];
        long bytes = Long.parseLong(args[1]) << 20;
        Linker linker = Linker.nativeLinker();
        var libc = linker.defaultLookup();
        if (how.equals("prctl")) {
            MethodHandle prctl = linker.downcallHandle(libc.find("prctl").orElseThrow(), FunctionDescriptor.of(
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
            int rc = (int) prctl.invokeExact(PR_SET_MEMORY_MERGE, 1L, 0L, 0L, 0L);
            if (rc != 0) {
                throw new IOException("prctl(PR_SET_MEMORY_MERGE) failed");
            }
        }
        MemorySegment m = Arena.global().allocate(bytes, 4096);
        for (long page = 0; page < bytes / 4096; page++) {
            for (long off = 0; off < 4096; off += 8) {
                m.set(ValueLayout.JAVA_LONG_UNALIGNED, page * 4096 + off, page);
            }
        }
        if (how.equals("madvise")) {
            MethodHandle madvise = linker.downcallHandle(libc.find("madvise").orElseThrow(), FunctionDescriptor.of(
                    ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
            int rc = (int) madvise.invokeExact(m, bytes, MADV_MERGEABLE);
            if (rc != 0) {
                throw new IOException("madvise(MADV_MERGEABLE) failed");
            }
        }
        System.out.println("ready");
        System.out.flush();
        while (System.in.read() >= 0) {
            // wait for the test to close stdin
        }
        System.out.println(m.get(ValueLayout.JAVA_LONG, 0)); // keep the buffer reachable
    }
}
