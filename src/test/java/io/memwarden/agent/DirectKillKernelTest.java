package io.memwarden.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.cgroup.HostFacts;
import io.memwarden.cgroup.KernelAssumptions;
import io.memwarden.control.PressureGuard;
import io.memwarden.input.PodManifestReader;
import io.memwarden.input.YamlDocs;
import io.memwarden.loops.ActionRecord;
import io.memwarden.loops.ContainerStatus;
import io.memwarden.loops.ControlLoops;
import io.memwarden.loops.LoopOptions;
import io.memwarden.model.Clock;
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
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The pressure guard's fallback on the real kernel: real processes in cgroups of the test's own (a confined 600 MiB
 * "node" of the standalone runner), a cluster whose Eviction API refuses every eviction (HTTP 429, a
 * PodDisruptionBudget), a node below its hard threshold from the first round. The guard asks the API, is refused,
 * and after directAfter kills the victim's processes itself through pidfds (exit 137), with a MemwardenDirectKill
 * Warning event on the pod; the protected service is never touched.
 */
@Tag("kernel")
class DirectKillKernelTest {

    static final String PODS = """
            apiVersion: v1
            kind: Pod
            metadata: {name: svc, namespace: kt}
            spec:
              containers:
                - name: app
                  command: [sleep, '600']
                  resources: {limits: {cpu: 100m, memory: 64Mi}}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: victim, namespace: kt}
            spec:
              containers:
                - name: hold
                  command: [perl, -e, '$| = 1; $x = "\\x01" x (32 * 1024 * 1024); print "holding\\n"; sleep 600']
            """;

    /** A cluster whose Eviction API always refuses (a PodDisruptionBudget); records the events. */
    static final class Refusing extends AgentTest.Recording {
        final List<String> evictions = new CopyOnWriteArrayList<>();

        @Override
        public EvictionOutcome evict(String namespace, String pod, String message) {
            evictions.add(namespace + "/" + pod);
            return new EvictionOutcome(EvictionOutcome.Kind.REFUSED, "eviction of " + namespace + "/" + pod
                    + " refused (HTTP 429 Too Many Requests): its disruption budget (PodDisruptionBudget) does not"
                    + " allow a disruption now");
        }
    }

    @Test
    void aRefusingApiDoesNotWedgeTheGuard_theVictimIsKilledDirectly() throws Exception {
        HostFacts h = KernelAssumptions.requireMemoryCgroup();
        var manifests = PodManifestReader.parse("pods", YamlDocs.readAll("pods", PODS));
        assertThat(manifests.errors()).isEmpty();
        Plan plan = new Planner(h.toNodeFacts(), KubeletSettings.DEFAULTS, WardenConfig.DEFAULTS)
                .plan(manifests.pods(), null, List.of());
        assertThat(plan.errors()).isEmpty();
        long node = 600L << 20;
        Path logs = Files.createTempDirectory("memwarden-test-logs-");
        List<String> log = new ArrayList<>();
        Refusing cluster = new Refusing();
        try (StandaloneRunner runner = new StandaloneRunner(h, plan, manifests.pods(), logs).confineTo(node)) {
            runner.start();
            // thresholds at the node's size: HARD from the first round (swapFreeMin 2: swap is never room);
            // cooldown 1 min (a refusal must not cost it), direct kill after 2 s
            PressureGuard.Config cfg = new PressureGuard.Config(node, Duration.ZERO, node, 101, 101, 2.0, 0,
                    Duration.ofMinutes(1), 0.05, Duration.ofSeconds(2));
            ControlLoops loops = new ControlLoops(h, runner.workload(), new LoopOptions(true, false, false, false,
                    cfg, Set.of("kt/svc"), runner.root()), Clock.SYSTEM, log::add)
                    .evictWith(new ApiEvictor(cluster, () -> true));
            long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            ContainerStatus victim;
            do {
                loops.tick();
                Thread.sleep(200);
                victim = runner.snapshot().stream().filter(s -> s.pod().equals("kt/victim")).findFirst()
                        .orElseThrow();
            } while (victim.running() && System.nanoTime() < end);
            List<ContainerStatus> last = runner.snapshot();
            ContainerStatus svc = last.stream().filter(s -> s.pod().equals("kt/svc")).findFirst().orElseThrow();
            assertThat(victim.running()).as("the victim is stopped").isFalse();
            assertThat(victim.exitCode()).isEqualTo(137);
            assertThat(svc.running()).as("the protected service is untouched").isTrue();

            List<ActionRecord> evicts = loops.history().stream().filter(r -> r.action().startsWith("evict"))
                    .toList();
            assertThat(evicts).allMatch(r -> r.pod().equals("kt/victim"));
            assertThat(evicts.getFirst().result()).startsWith("not evicted").contains("PodDisruptionBudget");
            assertThat(evicts.getLast().action()).startsWith(ControlLoops.DIRECT_KILL);
            assertThat(evicts.getLast().result()).startsWith(ControlLoops.KILLED_DIRECTLY + "killed ")
                    .doesNotContain("errors:").doesNotStartWith(ControlLoops.KILLED_DIRECTLY + "killed 0");
            // asked once: the refusal is remembered for the cooldown (1 min), the kill came after directAfter
            assertThat(cluster.evictions).containsExactly("kt/victim");
            assertThat(cluster.podEvents).singleElement().satisfies(e -> assertThat(e)
                    .startsWith("kt/victim Warning " + ApiEvictor.REASON_DIRECT_KILL + " The node was low on resource")
                    .contains("overrides any PodDisruptionBudget").contains("HTTP 429"));
        } finally {
            KernelAssumptions.noRunnerLeftovers(logs, h); // the runner's cgroups removed, its log directory deleted
        }
    }
}
