package io.memwarden.loops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.memwarden.cgroup.CgroupTree;
import io.memwarden.cgroup.HostFacts;
import io.memwarden.cgroup.KernelAssumptions;
import io.memwarden.control.PressureGuard;
import io.memwarden.kernel.Host;
import io.memwarden.kernel.SwapFiles;
import io.memwarden.model.CgroupVersion;
import io.memwarden.model.Clock;
import io.memwarden.policy.WardenConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The node swap cap on cgroup v1's real kernel (its projection: kubepods memsw = kubepods memory limit + cap), with a
 * swap file and a cgroup tree of the test's own standing in for the node's kubepods: the loops write the cap, a pod
 * process swaps up to it and one that needs more is OOM-killed with kubepods' swap within the cap.
 */
@Tag("kernel")
class NodeSwapCapKernelTest {
    static final long MI = 1L << 20;

    @Test
    void v1KubepodsMemswHoldsTheCapAndAPodCannotSwapBeyondIt() throws Exception {
        HostFacts host = KernelAssumptions.requireMemoryCgroup();
        assumeTrue(host.memoryController() == CgroupVersion.V1, "cgroup v1 projection");
        assumeTrue(host.swapAccounting(), "needs memsw (swap accounting)");
        Path swapDir = Files.createTempDirectory(Path.of("/var/tmp"), "memwarden-test-swapcap-");
        Path swapFile = swapDir.resolve("swapfile");
        SwapFiles swaps = new SwapFiles(Host.system());
        List<Process> started = new ArrayList<>();
        try (CgroupTree tree = KernelAssumptions.newTree(host)) {
            swaps.create(swapFile, 256 * MI, OptionalInt.empty());
            Path kubepods = tree.mkdirs("kubepods");
            Path ctr = tree.mkdirs("kubepods/burstable/podcap/ctr");
            Files.writeString(kubepods.resolve("memory.limit_in_bytes"), Long.toString(64 * MI));

            List<String> log = Collections.synchronizedList(new ArrayList<>());
            ManagedWorkload none = new ManagedWorkload() {
                @Override
                public List<ContainerStatus> snapshot() {
                    return List.of();
                }

                @Override
                public List<ManagedPod> pods() {
                    return List.of();
                }
            };
            WardenConfig.SwapConfig cfg = new WardenConfig.SwapConfig(null, null, null,
                    new WardenConfig.SwapCap(32 * MI, null, "32Mi"), null);
            try (ControlLoops loops = new ControlLoops(host, none, new LoopOptions(false, false, false, false,
                    PressureGuard.Config.defaults(host.memTotal()), Set.of(), null), Clock.SYSTEM, log::add)) {
                loops.nodeSwapCap(tree.root(), cfg);
                loops.tick();
                assertThat(Files.readString(kubepods.resolve("memory.memsw.limit_in_bytes")).strip())
                        .isEqualTo(Long.toString(96 * MI));
                assertThat(loops.history()).singleElement().satisfies(a -> {
                    assertThat(a.loop()).isEqualTo("swap-cap");
                    assertThat(a.action()).contains("memory.memsw.limit_in_bytes=" + 96 * MI);
                    assertThat(a.result()).isEqualTo("ok");
                });
                assertThat(loops.nodeSwapCapState().decision().capBytes()).isEqualTo(32 * MI);
                loops.tick();
                assertThat(loops.history()).as("in place: nothing written again").hasSize(1);
                assertThat(loops.nodeSwapCapState().result()).isEqualTo("in place");
            }

            // 80 MiB in a 64 MiB kubepods: ~16 MiB must go to swap, within the 32 MiB cap
            Process fits = hold(ctr, 80, started);
            assertThat(awaitLine(fits, Duration.ofSeconds(60))).as("80 MiB held").isEqualTo("held");
            long usage = read(kubepods, "memory.usage_in_bytes");
            long memsw = read(kubepods, "memory.memsw.usage_in_bytes");
            assertThat(memsw - usage).as("kubepods swap").isPositive().isLessThanOrEqualTo(32 * MI);
            fits.destroyForcibly().waitFor();

            // 160 MiB cannot fit in 64 MiB + 32 MiB of swap: killed at the memsw limit
            Process beyond = hold(ctr, 160, started);
            String line = awaitLine(beyond, Duration.ofSeconds(60));
            assertThat(line).as("never held 160 MiB").isNotEqualTo("held");
            assertThat(beyond.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            assertThat(beyond.exitValue()).as("SIGKILLed by the OOM killer").isEqualTo(137);
            // memory + swap went past the memory limit (swap was used) and never past limit + cap
            assertThat(read(kubepods, "memory.memsw.max_usage_in_bytes")).isGreaterThan(64 * MI)
                    .isLessThanOrEqualTo(96 * MI);
            assertThat(Files.readString(ctr.resolve("memory.oom_control"))).as("the victim's OOM kill")
                    .containsPattern("oom_kill [1-9]");
        } finally {
            for (Process p : started) {
                p.destroyForcibly();
                p.waitFor();
            }
            try {
                if (Files.exists(swapFile)) {
                    swaps.remove(swapFile);
                }
            } finally {
                Files.deleteIfExists(swapFile);
                Files.deleteIfExists(swapDir);
            }
        }
    }

    /** A shell that enters {@code cgroup}, then a perl that allocates and touches {@code mib} MiB (1 MiB at a time: no copy of the whole) and says "held". */
    static Process hold(Path cgroup, int mib, List<Process> started) throws Exception {
        Process p = new ProcessBuilder("sh", "-c", "echo $$ > " + cgroup.resolve("cgroup.procs")
                + " && exec perl -e '$| = 1; @x = map { \"\\x01\" x 1048576 } 1 .. " + mib + "; print \"held\\n\"; sleep 120'")
                .redirectErrorStream(true).start();
        started.add(p);
        return p;
    }

    /** The process's first output line, or null if it ended or the time passed without one. */
    static String awaitLine(Process p, Duration wait) throws Exception {
        var reader = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream()));
        var line = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return reader.readLine();
            } catch (java.io.IOException e) {
                return null;
            }
        });
        try {
            return line.get(wait.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            return null;
        }
    }

    static long read(Path cgroup, String file) throws Exception {
        return Long.parseLong(Files.readString(cgroup.resolve(file)).strip());
    }
}
