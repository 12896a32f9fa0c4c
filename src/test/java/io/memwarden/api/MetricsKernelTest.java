package io.memwarden.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.cgroup.HostFacts;
import io.memwarden.cgroup.HostProbe;
import io.memwarden.cgroup.KernelAssumptions;
import io.memwarden.model.Clock;
import io.memwarden.control.PressureGuard;
import io.memwarden.input.PodManifestReader;
import io.memwarden.input.YamlDocs;
import io.memwarden.loops.LoopOptions;
import io.memwarden.control.OomDiagnosis;
import io.memwarden.input.KubeletConfigReader;
import io.memwarden.kernel.Host;
import io.memwarden.kernel.SwapFiles;
import io.memwarden.loops.OomAttribution;
import io.memwarden.loops.OomKillWatch;
import io.memwarden.model.OomEvent;
import io.memwarden.loops.RunStatus;
import io.memwarden.policy.KubeletSettings;
import io.memwarden.policy.Plan;
import io.memwarden.policy.Planner;
import io.memwarden.policy.WardenConfig;
import io.memwarden.loops.ControlLoops;
import io.memwarden.runner.StandaloneRunner;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The API over a real workload: the standalone runner starts a container that touches 16 MiB in its own cgroup
 * (below this JVM's memory cgroup), the server serves its status, and /metrics shows the kernel's numbers.
 */
@Tag("kernel")
class MetricsKernelTest {
    HostFacts host;
    Path logs;

    @BeforeEach
    void setUp() throws Exception {
        KernelAssumptions.requireMemoryCgroup();
        host = HostProbe.probe();
        logs = Files.createTempDirectory("memwarden-test-logs-");
    }

    @AfterEach
    void noLeftovers() throws Exception {
        KernelAssumptions.noRunnerLeftovers(logs, host);
    }

    static final String POD = """
            apiVersion: v1
            kind: Pod
            metadata: {name: metrics, namespace: kt}
            spec:
              containers:
                - name: hog
                  command: [perl, -e, '$| = 1; $n = 16 * 1024 * 1024; $x = ""; vec($x, $n - 1, 8) = 0; for ($i = 0; $i < $n; $i += 4096) { vec($x, $i, 8) = 1 } print "holding\\n"; sleep 600']
                  resources: {requests: {memory: 32Mi}, limits: {memory: 64Mi}}
            """;

    @Test
    void scrapesTheUsageOfARealContainer() throws Exception {
        PodManifestReader.Result r = PodManifestReader.parse("test", YamlDocs.readAll("test", POD));
        assertThat(r.errors()).isEmpty();
        Plan plan = new Planner(host.toNodeFacts(), KubeletSettings.DEFAULTS, WardenConfig.DEFAULTS)
                .plan(r.pods(), null, List.of());
        assertThat(plan.errors()).isEmpty();
        try (StandaloneRunner runner = new StandaloneRunner(host, plan, r.pods(), logs);
             HttpClient client = HttpClient.newHttpClient()) {
            runner.start();
            ControlLoops loops = new ControlLoops(host, runner.workload(), new LoopOptions(false, false,
                    false, true, PressureGuard.Config.defaults(host.memTotal()), Set.of(), null), Clock.SYSTEM,
                    line -> { });
            long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!Files.readString(runner.logOf("kt/metrics", "hog")).contains("holding")) {
                assertThat(runner.finished()).as("the hog exited early").isFalse();
                assertThat(System.nanoTime()).as("the hog did not start holding within 30 s").isLessThan(end);
                Thread.sleep(50);
            }
            try (ApiServer api = ApiServer.start(ListenAddress.parse("127.0.0.1:0").address(),
                    new RunStatus(host, runner.workload(), loops, null, null)::status, true)) {
                String metrics = client.send(HttpRequest.newBuilder(URI.create(api.url() + "/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                String labels = "{container=\"hog\",namespace=\"kt\",pod=\"metrics\",qos=\"Burstable\"}";
                double usage = sample(metrics, "memwarden_container_memory_usage_bytes" + labels);
                assertThat(usage).as("usage of a container holding 16 MiB").isGreaterThanOrEqualTo(16 * Statuses.MI);
                assertThat(sample(metrics, "memwarden_container_memory_working_set_bytes" + labels)).isPositive();
                assertThat(sample(metrics, "memwarden_container_memory_limit_bytes" + labels))
                        .isEqualTo(64 * Statuses.MI);
                assertThat(sample(metrics, "memwarden_node_memory_available_bytes")).isPositive();
                assertThat(metrics).contains("jvm_memory_used_bytes");

                HttpResponse<String> st = client.send(HttpRequest.newBuilder(URI.create(api.url() + "/status")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(st.statusCode()).isEqualTo(200);
                JsonNode c = StatusJson.JSON.readTree(st.body()).get("containers").get(0);
                assertThat(c.get("container").asString()).isEqualTo("hog");
                assertThat(c.get("running").asBoolean()).isTrue();
                assertThat(c.get("memory").get("cgroupVersion").asInt()).isEqualTo(host.memoryController().number());
                assertThat(c.get("plan").get("reasons").size()).isPositive();
            }
        }
    }

    /**
     * A real OOM kill in a memwarden-created cgroup, attributed: the kill of a NoSwap container over its limit on a
     * node with swap (a swap file of this test's own) is counted in the container's series of
     * {@code memwarden_oom_kills_total} with the victim process's name, and diagnosed from the kernel's own figures
     * as "OOM while swap was free".
     */
    @Test
    void countsTheOomKillOfAContainerOverItsLimitByPodContainerAndVictimAndDiagnosesIt() throws Exception {
        String pod = POD.replace("name: metrics", "name: oom").replace("16 * 1024 * 1024", "96 * 1024 * 1024");
        PodManifestReader.Result r = PodManifestReader.parse("test", YamlDocs.readAll("test", pod));
        org.junit.jupiter.api.Assumptions.assumeTrue(host.swapAccounting() || host.memoryController()
                == io.memwarden.model.CgroupVersion.V2, "needs swap accounting");
        Path swapDir = Files.createTempDirectory(Path.of("/var/tmp"), "memwarden-test-oomswap-");
        Path swapFile = swapDir.resolve("swapfile");
        SwapFiles swaps = new SwapFiles(Host.system());
        boolean created = false;
        try {
            swaps.create(swapFile, 64L << 20, OptionalInt.empty());
            created = true;
            HostFacts swapHost = HostProbe.probe();
            KubeletSettings kubelet = KubeletConfigReader.parse("k", YamlDocs.readAll("k",
                    "kind: KubeletConfiguration\nfailSwapOn: false\n").getFirst()); // NoSwap, the default
            Plan plan = new Planner(swapHost.toNodeFacts(), kubelet, WardenConfig.DEFAULTS).plan(r.pods(), null,
                    List.of());
            assertThat(plan.errors()).isEmpty();
            List<OomAttribution.Kill> kills = new CopyOnWriteArrayList<>();
            try (StandaloneRunner runner = new StandaloneRunner(swapHost, plan, r.pods(), logs)) {
                OomKillWatch oom;
                try {
                    oom = OomKillWatch.start(kills::add, w -> { },
                            OomAttribution.over(runner.workload(), swapHost.memoryMount()));
                } catch (java.io.IOException e) {
                    org.junit.jupiter.api.Assumptions.abort("cannot read the kernel log: " + e.getMessage());
                    return;
                }
                try (oom; HttpClient client = HttpClient.newHttpClient();
                     ApiServer api = ApiServer.start(ListenAddress.parse("127.0.0.1:0").address(),
                             new RunStatus(swapHost, runner.workload(), null, null, oom)::status, false)) {
                    runner.start();
                    // NoSwap: 96 MiB in a 64 MiB limit is OOM-killed, swap free or not
                    assertThat(runner.awaitFinished(Duration.ofSeconds(60))).as("the hog was not killed within 60 s")
                            .isTrue();
                    String labels = "{container=\"hog\",event=\"oom_kill\",namespace=\"kt\",pod=\"oom\","
                            + "qos=\"Burstable\"}";
                    assertThat(sample(scrape(client, api), "memwarden_container_memory_events_total" + labels))
                            .isEqualTo(1);
                    String series = "memwarden_oom_kills_total{container=\"hog\",kind=\"cgroup\",namespace=\"kt\","
                            + "pod=\"oom\",victim=\"perl\"}";
                    long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                    String metrics = scrape(client, api);
                    while (!metrics.contains(series + " ")) {
                        assertThat(System.nanoTime()).as("no attributed OOM kill within 10 s:\n" + metrics)
                                .isLessThan(end);
                        Thread.sleep(100);
                        metrics = scrape(client, api);
                    }
                    assertThat(sample(metrics, series)).isEqualTo(1);
                    OomAttribution.Kill k = kills.stream().filter(x -> x.victim() != null).findFirst().orElseThrow();
                    assertThat(k.victim()).isEqualTo(new OomAttribution.Victim("kt/oom", "hog"));
                    // the kernel's figures at the kill: the 64 MiB limit (the container's, or its pod's: the same
                    // value, and which one the charge fails at first is the kernel's choice), nearly all anonymous;
                    // the swap limit is the container's 0, or the pod's none (v1: the pod has no memsw limit), in
                    // which case the container's own 0 decides
                    assertThat(k.event().memory().limitBytes()).isEqualTo(64L << 20);
                    assertThat(k.event().memory().anonBytes()).isGreaterThan(48L << 20);
                    assertThat(k.event().memory().swapLimitBytes()).isIn(0L, OomEvent.Memory.UNLIMITED);
                    assertThat(k.diagnosis().kind()).isEqualTo(OomDiagnosis.Kind.SWAP_NOT_ALLOWED);
                    assertThat(k.diagnosis().sentence()).matches("OOM-killed at (its memory limit|the memory limit of"
                            + " its pod) 64Mi \\(anon [0-9.]+Mi\\) while [0-9.]+(Ki|Mi|Gi) of node swap was free:"
                            + " its swap class NoSwap allows none");
                    assertThat(k.eventMessage()).startsWith("container hog, pid ");
                }
            }
        } finally {
            try {
                if (created) {
                    swaps.remove(swapFile);
                }
            } finally {
                Files.deleteIfExists(swapFile);
                Files.deleteIfExists(swapDir);
            }
        }
    }

    static String scrape(HttpClient client, ApiServer api) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create(api.url() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    static double sample(String text, String series) {
        return text.lines().filter(l -> l.startsWith(series + " ")).map(l -> Double.parseDouble(l.substring(series.length() + 1)))
                .findFirst().orElseThrow(() -> new AssertionError("no sample " + series + " in:\n" + text));
    }
}
