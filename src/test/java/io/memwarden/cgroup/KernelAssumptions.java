package io.memwarden.cgroup;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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

    /**
     * After a test of the standalone runner: deletes its log directory (may be null) and checks the runner left no
     * {@code memwarden-run-PID-START} cgroup below this JVM's own (host may be null when the test was skipped).
     */
    public static void noRunnerLeftovers(Path logs, HostFacts host) throws IOException {
        if (logs != null) {
            try (var s = Files.list(logs)) {
                for (Path p : s.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(logs);
        }
        if (host != null) {
            try (var s = Files.list(host.ownMemoryCgroup())) {
                assertThat(s.map(p -> p.getFileName().toString()))
                        .noneMatch(n -> n.equals("memwarden-run-" + ProcessHandle.current().pid())
                                || n.startsWith("memwarden-run-" + ProcessHandle.current().pid() + "-"));
            }
        }
    }
}
