package io.memwarden.loops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.memwarden.cgroup.HostFacts;
import io.memwarden.cgroup.KernelAssumptions;
import io.memwarden.model.Clock;
import io.memwarden.control.PressureGuard;
import io.memwarden.input.PodManifestReader;
import io.memwarden.input.YamlDocs;
import io.memwarden.model.CgroupVersion;
import io.memwarden.policy.KubeletSettings;
import io.memwarden.policy.Plan;
import io.memwarden.policy.Planner;
import io.memwarden.policy.WardenConfig;
import io.memwarden.runner.StandaloneRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The pressure guard on the real kernel, confined in a 600 MiB "node" cgroup: a BestEffort hog ramps its allocation
 * next to a protected Guaranteed service. The guard must kill the hog before the kernel OOM killer acts, and never
 * touch the service.
 */
@Tag("kernel")
class PressureGuardKernelTest {

    static final String PODS = """
            apiVersion: v1
            kind: Pod
            metadata: {name: svc, namespace: kt}
            spec:
              containers:
                - name: app
                  command: [perl, -e, '$| = 1; $n = 100 * 1024 * 1024; $x = ""; vec($x, $n - 1, 8) = 0; for ($i = 0; $i < $n; $i += 4096) { vec($x, $i, 8) = 1 } print "holding\\n"; sleep 600']
                  resources: {limits: {cpu: 100m, memory: 150Mi}}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: hog, namespace: kt}
            spec:
              containers:
                - name: grow
                  command: [perl, -e, '$| = 1; @a = (); for $k (1 .. 256) { $x = "\\x01" x (8 * 1024 * 1024); push @a, \\$x; undef *x; select(undef, undef, undef, 0.05) } sleep 600']
            """;

    @Test
    void guardKillsTheHogBeforeTheKernelOomKillerAndNeverTheProtectedService() throws Exception {
        HostFacts h = KernelAssumptions.requireMemoryCgroup();
        // the scenario is a node without swap: the confined node's swap is the host's, and with another process's
        // swap file on, the hog (BestEffort, no memsw limit) swaps into it, the guard sees room in swap (SOFT, not
        // HARD) and the kernel kills the hog when that swap fills first (seen beside a bench's swap file)
        assumeTrue(ControlLoopsRoundReadsTest.hostSwapTotal() == 0,
                "the host has swap on: this test's node has none (the vm tier's memwarden_pressure_guard runs on a guest with swap)");
        var manifests = PodManifestReader.parse("pods", YamlDocs.readAll("pods", PODS));
        assertThat(manifests.errors()).isEmpty();
        Plan plan = new Planner(h.toNodeFacts(), KubeletSettings.DEFAULTS, WardenConfig.DEFAULTS)
                .plan(manifests.pods(), null, List.of());
        assertThat(plan.errors()).isEmpty();
        long node = 600L << 20;
        Path logs = Files.createTempDirectory("memwarden-test-logs-");
        List<String> log = new ArrayList<>();
        try (StandaloneRunner runner = new StandaloneRunner(h, plan, manifests.pods(), logs).confineTo(node)) {
            runner.start();
            PressureGuard.Config cfg = new PressureGuard.Config(node / 4, Duration.ofSeconds(1), node / 10, 101, 101,
                    0.1, 1_000_000, Duration.ofSeconds(5), 0.05);
            ControlLoops loops = new ControlLoops(h, runner.workload(), new LoopOptions(true, false,
                    false, false, cfg, Set.of("kt/svc"), runner.root()), Clock.SYSTEM, log::add);
            long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            ContainerStatus hog;
            do {
                loops.tick();
                Thread.sleep(100);
                hog = runner.snapshot().stream().filter(s -> s.pod().equals("kt/hog")).findFirst().orElseThrow();
            } while (hog.running() && System.nanoTime() < end);
            List<ContainerStatus> last = runner.snapshot();
            ContainerStatus svc = last.stream().filter(s -> s.pod().equals("kt/svc")).findFirst().orElseThrow();
            assertThat(hog.running()).as("the hog is stopped").isFalse();
            assertThat(hog.exitCode()).isEqualTo(137);
            assertThat(loops.history()).filteredOn(r -> r.action().startsWith("evict"))
                    .singleElement().satisfies(r -> {
                        assertThat(r.pod()).isEqualTo("kt/hog");
                        assertThat(r.result()).startsWith("killed");
                    });
            assertThat(svc.running()).as("the protected service is untouched").isTrue();
            // no kernel OOM kill anywhere in the confined tree
            long oomKills = 0;
            for (ContainerStatus s : last) {
                oomKills += s.usage().events().getOrDefault("oom_kill", 0L);
            }
            String rootOom = Files.readString(runner.root().resolve(h.memoryController() == CgroupVersion.V1
                    ? "memory.oom_control" : "memory.events"));
            assertThat(oomKills).isZero();
            assertThat(rootOom).contains("oom_kill 0");
        } finally {
            try (var s = Files.list(logs)) {
                for (Path p : s.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(logs);
        }
    }
}
