package io.memwarden.runner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.memwarden.cgroup.HostFacts;
import io.memwarden.cgroup.HostProbe;
import io.memwarden.cgroup.KernelAssumptions;
import io.memwarden.cgroup.MemoryUsage;
import io.memwarden.input.KubeletConfigReader;
import io.memwarden.input.PodManifestReader;
import io.memwarden.input.WardenConfigReader;
import io.memwarden.input.YamlDocs;
import io.memwarden.loops.ContainerStatus;
import io.memwarden.model.CgroupVersion;
import io.memwarden.model.PodSpec;
import io.memwarden.policy.KubeletSettings;
import io.memwarden.policy.Plan;
import io.memwarden.policy.Planner;
import io.memwarden.policy.WardenConfig;
import java.io.StringWriter;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Swap behaviours on the real kernel (cgroup v1 + memsw + a swap file on the build machines): planned by the
 * policy core, applied by the writer, run by the standalone runner, measured from the kernel's own counters.
 */
@Tag("kernel")
@ExtendWith(TemporarySwap.class)
class SwapBehaviourKernelTest {
    static final KubeletSettings SWAP_NODE = kubelet();
    HostFacts host;
    Path logs;

    static KubeletSettings kubelet() {
        try {
            return KubeletConfigReader.parse("k", YamlDocs.readAll("k", "kind: KubeletConfiguration\nfailSwapOn: false\n").getFirst());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @BeforeEach
    void setUp() throws Exception {
        KernelAssumptions.requireMemoryCgroup();
        host = HostProbe.probe();
        assumeTrue(host.swapAccounting(), "needs swap accounting");
        assumeTrue(host.swapTotal() > 0, "needs swap on");
        logs = Files.createTempDirectory("memwarden-test-logs-");
    }

    @AfterEach
    void noLeftovers() throws Exception {
        KernelAssumptions.noRunnerLeftovers(logs, host);
    }

    /** A pod with one container of the given memory limit whose command touches {@code touchMiB} and sleeps. */
    static String pod(String name, String annotations, String limit, int touchMiB) {
        return """
                apiVersion: v1
                kind: Pod
                metadata:
                  name: %s
                  namespace: kt
                  annotations: {%s}
                spec:
                  containers:
                    - name: hog
                      command: [perl, -e, '$| = 1; $n = %d * 1024 * 1024; $x = ""; vec($x, $n - 1, 8) = 0; for ($i = 0; $i < $n; $i += 4096) { vec($x, $i, 8) = 1 } print "holding\\n"; sleep 600']
                      resources: {requests: {memory: 16Mi}, limits: {memory: %s}}
                """.formatted(name, annotations, touchMiB, limit);
    }

    record Outcome(ContainerStatus last, long maxSwapSeen, boolean held) {}

    /** Runs the pod until the hog holds its memory or dies; samples VmSwap all along. */
    Outcome run(String manifest, WardenConfig cfg) throws Exception {
        PodManifestReader.Result r = PodManifestReader.parse("test", YamlDocs.readAll("test", manifest));
        assertThat(r.errors()).isEmpty();
        Plan plan = new Planner(host.toNodeFacts(), SWAP_NODE, cfg).plan(r.pods(), null, List.of());
        assertThat(plan.errors()).isEmpty();
        PodSpec pod = r.pods().getFirst();
        try (StandaloneRunner runner = new StandaloneRunner(host, plan, r.pods(), logs)) {
            runner.start();
            long maxSwap = 0;
            boolean held = false;
            long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            ContainerStatus s;
            while (true) {
                s = runner.snapshot().getFirst();
                if (s.process() != null) {
                    maxSwap = Math.max(maxSwap, s.process().swapBytes());
                }
                if (s.usage() != null) {
                    maxSwap = Math.max(maxSwap, s.usage().swapBytes());
                }
                held = Files.readString(runner.logOf(pod.key(), "hog")).contains("holding");
                if (held || !s.running() || System.nanoTime() > end) {
                    break;
                }
                Thread.sleep(10);
            }
            if (held) {
                Thread.sleep(200);
                s = runner.snapshot().getFirst();
                maxSwap = Math.max(maxSwap, s.process().swapBytes());
            }
            return new Outcome(s, maxSwap, held);
        }
    }

    static WardenConfig config(String yaml) throws Exception {
        return WardenConfigReader.parse("cfg", YamlDocs.readAll("cfg", yaml).getFirst());
    }

    @Test
    void noSwapContainerNeverSwapsAndIsOomKilledAtItsLimit() throws Exception {
        Outcome o = run(pod("noswap", "", "64Mi", 128), WardenConfig.DEFAULTS);
        assertThat(o.held()).as("the hog must not get its 128 MiB").isFalse();
        assertThat(o.maxSwapSeen()).isZero();
        assertThat(o.last().exitCode()).isEqualTo(137);
        assertThat(o.last().usage().events().get("oom_kill")).isPositive();
        assertThat(o.last().oomKilled()).isTrue();
        if (host.memoryController() == CgroupVersion.V1) {
            assertThat(o.last().usage().peaks().get("memory.memsw.max_usage_in_bytes")).isLessThanOrEqualTo(64L << 20);
        }
    }

    @Test
    void swapClassContainerSwapsButNeverBeyondItsAllowance() throws Exception {
        WardenConfig cfg = config("""
                swap: {behavior: UnlimitedSwap}
                annotations: {allowed: [swap-max], allowedSwapBehaviors: [UnlimitedSwap]}
                """);
        // 80 MiB in a 64 MiB limit with a 32 MiB swap allowance: fits, swapping about 16 MiB
        Outcome fits = run(pod("fits", "swap-max.memwarden.io: 32Mi", "64Mi", 80), cfg);
        assertThat(fits.held()).isTrue();
        assertThat(fits.last().running()).isTrue();
        assertThat(fits.maxSwapSeen()).isPositive();
        // holding steady at its RAM ceiling, the container's swap is within the allowance
        assertThat(fits.last().usage().swapBytes()).isPositive().isLessThanOrEqualTo(32L << 20);
        assertThat(fits.last().usage().swapLimitBytes()).isEqualTo(32L << 20);
        // 128 MiB cannot fit in 64 + 32: OOM-killed
        Outcome over = run(pod("over", "swap-max.memwarden.io: 32Mi", "64Mi", 128), cfg);
        assertThat(over.held()).isFalse();
        assertThat(over.last().exitCode()).isEqualTo(137);
        if (host.memoryController() == CgroupVersion.V1) {
            // v1 enforces the allowance as memory + swap <= ceiling + allowance, at every moment (the kernel's peak)
            assertThat(fits.last().usage().peaks().get("memory.memsw.max_usage_in_bytes")).isLessThanOrEqualTo(96L << 20);
            assertThat(over.last().usage().peaks().get("memory.memsw.max_usage_in_bytes")).isLessThanOrEqualTo(96L << 20);
        } else {
            assertThat(over.maxSwapSeen()).isLessThanOrEqualTo(32L << 20);
        }
    }

    @Test
    void withinLimitSwapKeepsMemoryPlusSwapWithinTheLimit() throws Exception {
        assumeTrue(host.memoryController() == CgroupVersion.V1, "memory+swap accounting is cgroup v1's memsw");
        WardenConfig cfg = config("swap: {behavior: WithinLimitSwap}\n");
        Outcome o = run(pod("within", "", "64Mi", 128), cfg);
        assertThat(o.held()).isFalse();
        assertThat(o.last().exitCode()).isEqualTo(137);
        MemoryUsage u = o.last().usage();
        assertThat(u.peaks().get("memory.memsw.max_usage_in_bytes")).isLessThanOrEqualTo(64L << 20);
        assertThat(u.limitBytes()).isEqualTo(64L << 20);
    }

    @Test
    void theDemosVerdictHolds() throws Exception {
        Path demo = Path.of("examples/demo");
        PodSpec pod = PodManifestReader.read(demo.resolve("pod.yaml")).pods().getFirst();
        Planner planner = new Planner(host.toNodeFacts(), KubeletConfigReader.read(demo.resolve("kubelet-config.yaml")),
                WardenConfigReader.read(demo.resolve("memwarden.yaml")));
        Plan plan = planner.plan(List.of(pod), null, List.of());
        StringWriter progress = new StringWriter();
        SwapDemo.Result r = SwapDemo.run(host, plan, pod, Duration.ofSeconds(60), new PrintWriter(progress), x -> { });
        assertThat(r.holds()).as(String.join("\n", r.verdicts())).isTrue();
    }
}
