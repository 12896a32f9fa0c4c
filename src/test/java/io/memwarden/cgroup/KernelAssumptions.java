package io.memwarden.cgroup;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.util.concurrent.atomic.AtomicInteger;

/** Shared by kernel-tier tests: skip unless root with a writable memory cgroup; unique cgroup names per test. */
public final class KernelAssumptions {
    private KernelAssumptions() {}

    private static final AtomicInteger SEQ = new AtomicInteger();

    public static HostFacts requireMemoryCgroup() throws IOException {
        HostFacts h = HostProbe.probe();
        assumeTrue(h.memoryController() != null, "no cgroup memory controller on this host");
        assumeTrue(Files.isWritable(h.ownMemoryCgroup()), "own memory cgroup " + h.ownMemoryCgroup()
                + " is not writable (kernel tests need root)");
        return h;
    }

    /** A fresh tree below this JVM's own memory cgroup, named memwarden-test-PID-N. */
    public static CgroupTree newTree(HostFacts h) throws IOException {
        return CgroupTree.create(h.ownMemoryCgroup(), "memwarden-test-" + ProcessHandle.current().pid() + "-"
                + SEQ.incrementAndGet());
    }
}
