package io.memwarden.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.memwarden.cgroup.HostFacts;
import io.memwarden.cgroup.MemoryUsage;
import io.memwarden.control.KubeletEviction;
import io.memwarden.control.PressureGuard;
import io.memwarden.k8s.KubeCluster;
import io.memwarden.loops.ActionRecord;
import io.memwarden.loops.ContainerStatus;
import io.memwarden.loops.ControlLoops;
import io.memwarden.loops.LoopOptions;
import io.memwarden.loops.ManagedWorkload;
import io.memwarden.model.CgroupVersion;
import io.memwarden.model.Clock;
import io.memwarden.model.ContainerKind;
import io.memwarden.model.ContainerSpec;
import io.memwarden.model.PodSpec;
import io.memwarden.model.Resources;
import io.memwarden.policy.EvictionThreshold;
import io.memwarden.policy.Plan;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pressure guard's evictions against fabric8's mock API server in expectations mode: the eviction subresource of
 * pod a answers 429 (a PodDisruptionBudget), b's 500, c's only after the request timeout. The guard asks a, then b,
 * then c, one a round and none twice, and after directAfter kills the top-ranked pod directly: a real process of ours
 * listed in a's fixture cgroup dies of SIGKILL through its pidfd, and a MemwardenDirectKill Warning event saying why
 * and that a PodDisruptionBudget was overridden reaches the API.
 */
@EnableKubernetesMockClient
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GuardEvictionMockApiTest {
    static final long MI = 1L << 20;
    KubernetesMockServer server;
    KubernetesClient client;

    @TempDir
    Path dir;
    long now;
    final List<Process> procs = new ArrayList<>();

    @AfterEach
    void tearDown() {
        procs.forEach(Process::destroyForcibly);
        client.close();
    }

    /** A v1 fixture cgroup of plain files (no swap allowance: memsw = limit), its cgroup.procs listing {@code pid}. */
    Path cgroup(String name, long usage, long pid) throws IOException {
        Path cg = Files.createDirectories(dir.resolve(name));
        long limit = 1L << 40;
        Files.writeString(cg.resolve("memory.usage_in_bytes"), usage + "\n");
        Files.writeString(cg.resolve("memory.limit_in_bytes"), limit + "\n");
        Files.writeString(cg.resolve("memory.memsw.usage_in_bytes"), usage + "\n");
        Files.writeString(cg.resolve("memory.memsw.limit_in_bytes"), limit + "\n");
        Files.writeString(cg.resolve("memory.failcnt"), "0\n");
        Files.writeString(cg.resolve("memory.oom_control"), "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
        Files.writeString(cg.resolve("memory.stat"), "total_inactive_file 0\ntotal_rss " + usage + "\n");
        Files.writeString(cg.resolve("cgroup.procs"), pid < 0 ? "" : pid + "\n");
        return cg;
    }

    Process sleeper() throws IOException {
        Process p = new ProcessBuilder("sleep", "600").start();
        procs.add(p);
        return p;
    }

    static PodSpec pod(String name) {
        return new PodSpec("shop", name, "", null, 0, null, null, null, null,
                List.of(new ContainerSpec("c", ContainerKind.REGULAR, Resources.NONE)));
    }

    @Test
    void refusedFailedAndTimedOutEvictionsMoveToTheNextPodThenTheGuardKillsDirectly() throws Exception {
        String base = "/api/v1/namespaces/shop/pods/";
        server.expect().post().withPath(base + "a/eviction").andReturn(429, new StatusBuilder().withStatus("Failure")
                .withCode(429).withReason("TooManyRequests")
                .withMessage("Cannot evict pod as it would violate the pod's disruption budget.").build()).always();
        server.expect().post().withPath(base + "b/eviction").andReturn(500, new StatusBuilder()
                .withStatus("Failure").withCode(500).withMessage("etcdserver: request timed out").build()).always();
        server.expect().post().delay(6, TimeUnit.SECONDS).withPath(base + "c/eviction")
                .andReturn(201, new StatusBuilder().withStatus("Success").withCode(201).build()).always();
        server.expect().post().withPath("/api/v1/namespaces/shop/events").andReturn(201,
                "{\"apiVersion\":\"v1\",\"kind\":\"Event\",\"metadata\":{\"name\":\"e\",\"namespace\":\"shop\"}}")
                .always();

        Process victim = sleeper();
        Process other = sleeper();
        // ranked by usage (BestEffort, no request): a 300Mi, b 200Mi, c 100Mi
        Map<String, Path> cgroups = new LinkedHashMap<>();
        cgroups.put("a", cgroup("a", 300 * MI, victim.pid()));
        cgroups.put("b", cgroup("b", 200 * MI, other.pid()));
        cgroups.put("c", cgroup("c", 100 * MI, -1));
        Path node = cgroup("node", 600 * MI, -1);
        ManagedWorkload w = new ManagedWorkload() {
            @Override
            public List<ContainerStatus> snapshot() {
                List<ContainerStatus> out = new ArrayList<>();
                cgroups.forEach((name, cg) -> {
                    try {
                        out.add(new ContainerStatus("shop/" + name, "c", false, "NoSwap", cg, Map.of(), 0, null,
                                MemoryUsage.read(cg, CgroupVersion.V1), null));
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                return out;
            }

            @Override
            public List<ManagedPod> pods() {
                return cgroups.keySet().stream().map(n -> new ManagedPod(pod(n), new Plan.PodPlan("shop", n,
                        "BestEffort", false, 0, 0, Map.of(), List.of(), List.of()))).toList();
            }
        };
        HostFacts host = new HostFacts(CgroupVersion.V1, false, dir, dir, null, true, false, 64L << 30, 0, List.of(),
                List.of(), null, "test", 4096);
        // thresholds above any node: HARD from the first round; cooldown 10 s, directAfter 5 s
        PressureGuard.Config cfg = new PressureGuard.Config(1L << 52, Duration.ZERO, (1L << 52) - 1, 101, 101, 0.1,
                1000, Duration.ofSeconds(10), 0.05, Duration.ofSeconds(5));
        List<String> log = new ArrayList<>();
        try (KubeCluster cluster = new KubeCluster(client, "node-a", KubeCluster.Options.defaults()
                .withRequestTimeout(Duration.ofSeconds(2)), Clock.SYSTEM)) {
            // warm the connection (TLS, the JIT) so that only c's delay, not a loaded machine's first request, times out
            assertThat(cluster.nodeMetadata()).as("no Node in expectations mode").isNull();
            ControlLoops loops = new ControlLoops(host, w, new LoopOptions(true, false, false, false, cfg, Set.of(),
                    node), () -> now, log::add).perContainerPsiOnV1(false)
                    .evictWith(new ApiEvictor(cluster, () -> true));
            for (now = 0; now <= 5_000; now += 1_000) {
                loops.tick();
            }
            List<ActionRecord> evictions = loops.history().stream()
                    .filter(r -> r.action().startsWith("evict")).toList();
            assertThat(evictions).extracting(ActionRecord::pod)
                    .containsExactly("shop/a", "shop/b", "shop/c", "shop/a");
            assertThat(evictions.get(0).result()).startsWith("not evicted").contains("429")
                    .contains("PodDisruptionBudget");
            assertThat(evictions.get(1).result()).startsWith("not evicted").contains("HTTP 500");
            assertThat(evictions.get(2).result()).startsWith("not evicted").contains("timed out");
            ActionRecord kill = evictions.get(3);
            assertThat(kill.action()).startsWith(ControlLoops.DIRECT_KILL + "The node was low on resource: memory.");
            assertThat(kill.result()).startsWith(ControlLoops.KILLED_DIRECTLY + "killed 1 process(es) with SIGKILL");
            assertThat(kill.trigger()).contains("took no pod off the node").contains("5000 ms");
            assertThat(victim.waitFor(20, TimeUnit.SECONDS)).as("a's process killed").isTrue();
            assertThat(victim.exitValue()).isEqualTo(137);
            assertThat(other.isAlive()).as("b's process untouched").isTrue();
            assertThat(cluster.flush(Duration.ofSeconds(20))).isTrue();
            assertThat(cluster.stats().evictionsRefused()).isEqualTo(1);
            assertThat(cluster.stats().evictionsFailed()).isEqualTo(2);
        }

        List<String> evictionPaths = new ArrayList<>();
        String directKillEvent = null;
        for (RecordedRequest r = server.takeRequest(5, TimeUnit.SECONDS); r != null;
             r = server.takeRequest(1, TimeUnit.SECONDS)) {
            if (r.getPath().endsWith("/eviction")) {
                evictionPaths.add(r.getPath());
            } else if (r.getPath().endsWith("/events")) {
                String body = r.getUtf8Body(); // read once: the recorded body is a buffer
                if (body.contains(ApiEvictor.REASON_DIRECT_KILL)) {
                    directKillEvent = body;
                }
            }
        }
        assertThat(evictionPaths).as("one request a pod: no retry of a refused pod within its cooldown")
                .containsExactly(base + "a/eviction", base + "b/eviction", base + "c/eviction");
        assertThat(directKillEvent).isNotNull().contains("\"type\":\"Warning\"").contains("\"name\":\"a\"")
                .contains("overrides any PodDisruptionBudget").contains("HTTP 429").contains("SIGKILL");
    }

    /**
     * The kubelet's eviction settings through the Eviction API: a soft threshold (grace 2 s) evicts after its grace
     * with deleteOptions.gracePeriodSeconds = min(evictionMaxPodGracePeriod 45, terminationGracePeriodSeconds 60);
     * then a hard threshold evicts at once with 1 s, and each action records the kubelet's threshold that acted.
     */
    @Test
    void evictionsCarryTheKubeletsPodGracePeriod() throws Exception {
        String base = "/api/v1/namespaces/shop/pods/";
        for (String name : List.of("a", "b")) {
            server.expect().post().withPath(base + name + "/eviction")
                    .andReturn(201, new StatusBuilder().withStatus("Success").withCode(201).build()).always();
        }
        server.expect().post().withPath("/api/v1/namespaces/shop/events").andReturn(201,
                "{\"apiVersion\":\"v1\",\"kind\":\"Event\",\"metadata\":{\"name\":\"e\",\"namespace\":\"shop\"}}")
                .always();
        Map<String, Path> cgroups = new LinkedHashMap<>();
        cgroups.put("a", cgroup("a", 300 * MI, -1));
        cgroups.put("b", cgroup("b", 200 * MI, -1));
        Path node = cgroup("node", 600 * MI, -1);
        Files.writeString(node.resolve("memory.limit_in_bytes"), (1L << 30) + "\n"); // a 1Gi node: 424Mi available
        ManagedWorkload w = new ManagedWorkload() {
            @Override
            public List<ContainerStatus> snapshot() {
                List<ContainerStatus> out = new ArrayList<>();
                cgroups.forEach((name, cg) -> {
                    try {
                        out.add(new ContainerStatus("shop/" + name, "c", false, "NoSwap", cg, Map.of(), 0, null,
                                MemoryUsage.read(cg, CgroupVersion.V1), null));
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                return out;
            }

            @Override
            public List<ManagedPod> pods() {
                // terminationGracePeriodSeconds 60
                return cgroups.keySet().stream().map(n -> new ManagedPod(new PodSpec("shop", n, "", null, 0, null,
                        null, null, null, pod(n).containers(), Map.of(), 60L), new Plan.PodPlan("shop", n,
                        "BestEffort", false, 0, 0, Map.of(), List.of(), List.of()))).toList();
            }
        };
        HostFacts host = new HostFacts(CgroupVersion.V1, false, dir, dir, null, true, false, 64L << 30, 0, List.of(),
                List.of(), null, "test", 4096);
        // memwarden's own thresholds at 0: only the kubelet's act
        PressureGuard.Config own = new PressureGuard.Config(0, Duration.ofSeconds(5), 0, 101, 101, 0.1, 1000,
                Duration.ZERO, 0.05, Duration.ofSeconds(5));
        KubeletEviction.Settings kubelet = new KubeletEviction.Settings(List.of(
                EvictionThreshold.parse(EvictionThreshold.MEMORY_AVAILABLE, "300Mi", null),
                EvictionThreshold.parse(EvictionThreshold.MEMORY_AVAILABLE, "500Mi", Duration.ofSeconds(2))),
                Map.of(), 45, Duration.ofMinutes(5));
        try (KubeCluster cluster = new KubeCluster(client, "node-a", KubeCluster.Options.defaults()
                .withRequestTimeout(Duration.ofSeconds(10)), Clock.SYSTEM)) {
            ControlLoops loops = new ControlLoops(host, w, new LoopOptions(true, false, false, false, own, Set.of(),
                    node).withKubelet(kubelet, null), () -> now, log -> { }).perContainerPsiOnV1(false)
                    .evictWith(new ApiEvictor(cluster, () -> false));
            for (now = 0; now <= 2_000; now += 1_000) {
                loops.tick();
            }
            cgroups.remove("a"); // evicted: gone
            Files.writeString(node.resolve("memory.usage_in_bytes"), 800 * MI + "\n"); // 224Mi: below hard 300Mi
            now = 3_000;
            loops.tick();
            List<ActionRecord> evictions = loops.history().stream()
                    .filter(r -> r.action().startsWith("evict")).toList();
            assertThat(evictions).extracting(ActionRecord::pod).containsExactly("shop/a", "shop/b");
            assertThat(evictions.get(0).result()).contains("gracePeriodSeconds 45");
            assertThat(evictions.get(0).actedOn().by()).isEqualTo("kubelet");
            assertThat(evictions.get(0).actedOn().threshold()).isEqualTo("evictionSoft memory.available<500Mi (grace 2s)");
            assertThat(evictions.get(0).actedOn().podGraceSeconds()).isEqualTo(45);
            assertThat(evictions.get(0).atMillis()).as("not before the soft grace period").isEqualTo(2_000);
            assertThat(evictions.get(1).actedOn().threshold()).isEqualTo("evictionHard memory.available<300Mi");
            assertThat(evictions.get(1).actedOn().podGraceSeconds()).isEqualTo(1);
            assertThat(loops.guardState(0).memoryPressure()).isTrue();
            assertThat(loops.guardState(0).level()).isEqualTo("HARD");
        }
        Map<String, String> bodies = new LinkedHashMap<>();
        for (RecordedRequest r = server.takeRequest(5, TimeUnit.SECONDS); r != null;
             r = server.takeRequest(1, TimeUnit.SECONDS)) {
            if (r.getPath().endsWith("/eviction")) {
                bodies.put(r.getPath(), r.getUtf8Body());
            }
        }
        assertThat(bodies.keySet()).containsExactly(base + "a/eviction", base + "b/eviction");
        assertThat(bodies.get(base + "a/eviction")).contains("\"deleteOptions\"")
                .contains("\"gracePeriodSeconds\":45");
        assertThat(bodies.get(base + "b/eviction")).contains("\"gracePeriodSeconds\":1");
    }
}
