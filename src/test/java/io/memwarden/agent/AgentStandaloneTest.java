package io.memwarden.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.api.ListenAddress;
import io.memwarden.cgroup.HostFacts;
import io.memwarden.cli.Main;
import io.memwarden.model.Clock;
import io.memwarden.model.CgroupVersion;
import io.memwarden.model.NodeFacts;
import io.memwarden.model.PodSpec;
import io.memwarden.policy.KubeletSettings;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node agent in standalone mode on a fake cgroup v2 tree (files in a temp dir): no NRI; the applier writes the
 * plan into the container cgroups it finds, the status API and the loops see them, a kubelet rewrite and a reloaded
 * config are applied, a failed write becomes a warning event, and after stopping nothing is written.
 */
class AgentStandaloneTest {
    static final long GI = 1L << 30;
    static final long MI = 1L << 20;
    static final String UID = "8a1d3c5e-0000-4000-8000-00000000000a";
    static final String UID2 = "8a1d3c5e-0000-4000-8000-00000000000b";
    static final String APP = "a".repeat(64);
    static final String PAUSE = "c".repeat(64);
    static final String OTHER = "d".repeat(64);

    @TempDir
    Path dir;
    Agent agent;
    final AgentTest.Recording cluster = new AgentTest.Recording();
    final HttpClient http = HttpClient.newHttpClient();

    @AfterEach
    void tearDown() {
        if (agent != null) {
            agent.close();
        }
    }

    static Path cgroup(Path root, String rel) throws Exception {
        Path cg = root.resolve(rel);
        Files.createDirectories(cg);
        for (String[] f : new String[][] {{"memory.max", "max"}, {"memory.high", "max"}, {"memory.swap.max", "max"},
                {"memory.min", "0"}, {"memory.low", "0"}, {"memory.oom.group", "0"},
                {"memory.current", Long.toString(100 * MI)}, {"memory.swap.current", "0"},
                {"memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n"},
                {"memory.stat", "anon " + 90 * MI + "\ninactive_file 0\n"}, {"cgroup.procs", ""}}) {
            Files.writeString(cg.resolve(f[0]), f[1]);
        }
        return cg;
    }

    static String read(Path cg, String f) throws Exception {
        return Files.readString(cg.resolve(f)).strip();
    }

    String get(String path) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(agent.api().url() + path))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(path).isEqualTo(200);
        return r.body();
    }

    @Test
    void writesThePlanKeepsItThroughRewritesAndReloadsAndStopsWritingOnClose() throws Exception {
        Path root = dir.resolve("cgroup");
        Path app = cgroup(root, "kubepods/burstable/pod" + UID + "/" + APP);
        Path pause = cgroup(root, "kubepods/burstable/pod" + UID + "/" + PAUSE);
        cgroup(root, "kubepods/burstable/pod" + UID);
        Path broken = cgroup(root, "kubepods/besteffort/pod" + UID2 + "/" + OTHER);
        Files.delete(broken.resolve("memory.swap.max"));
        Path cfgFile = dir.resolve("memwarden.yaml");
        Files.writeString(cfgFile, """
                loops: {period: 100ms, guard: {enabled: false}, offload: {enabled: false}}
                """);
        Map<String, PodsByUid.Known> pods = Map.of(
                UID, new PodsByUid.Known(pod("web", UID, "256Mi", "1Gi"), Map.of(APP, "app"), true, "test API"),
                UID2, new PodsByUid.Known(pod("batch", UID2, null, null), Map.of(OTHER, "app"), true, "test API"));
        PodsByUid source = new PodsByUid() {
            @Override
            public Optional<Known> find(String uid) {
                return Optional.ofNullable(pods.get(uid));
            }

            @Override
            public String describe() {
                return "test API";
            }
        };
        HostFacts host = new HostFacts(CgroupVersion.V2, false, Path.of("/nonexistent"), root, root, true, true,
                16 * GI, 0, List.of(), List.of(), null, "6.12.0", 4096);
        NodeFacts node = new NodeFacts(16 * GI, 0, CgroupVersion.V2, true, 4096, null, "6.12.0");
        agent = new Agent(new Agent.Setup(host, node, KubeletSettings.DEFAULTS, AgentConfigReader.read(cfgFile),
                cfgFile, null, null, null, cluster, ListenAddress.parse("127.0.0.1:0"), false, Clock.SYSTEM,
                new Agent.Standalone(source, root)), true);
        Map<String, String> pauseBefore = Map.of("memory.max", read(pause, "memory.max"), "memory.swap.max",
                read(pause, "memory.swap.max"));
        agent.start();
        assertThat(agent.plugin()).isNull();

        // the writer writes memory.max before memory.swap.max: wait for the whole plan, not its first file
        AgentTest.await("the plan in the container's cgroup", () -> value(app, "memory.max").equals(Long.toString(GI))
                && value(app, "memory.swap.max").equals("0"));
        assertThat(Map.of("memory.max", read(pause, "memory.max"), "memory.swap.max", read(pause, "memory.swap.max")))
                .isEqualTo(pauseBefore);
        AgentTest.await("the failure event", () -> cluster.podEvents.stream()
                .anyMatch(e -> e.startsWith("shop/batch Warning MemwardenApplyFailed container app: ")));
        assertThat(cluster.podEvents).noneMatch(e -> e.startsWith("shop/web ")); // successes are not announced

        String status = get("/status");
        assertThat(status).contains("\"pod\" : \"web\"").contains("\"loop\" : \"apply\"")
                .contains("found by the standalone scan");
        assertThat(get("/metrics")).containsPattern("memwarden_loop_actions_total\\{[^}]*loop=\"apply\"");
        StringWriter explain = new StringWriter();
        assertThat(Main.run(new PrintWriter(explain, true), new PrintWriter(System.err, true),
                "explain", "shop/web/app", "--server", agent.api().url())).isZero();
        assertThat(explain.toString()).contains("apply").contains("memory.swap.max=0");

        // the kubelet writes its own value back (a resize, a restart): the next round restores the plan
        Files.writeString(app.resolve("memory.swap.max"), "max");
        AgentTest.await("the plan restored", () -> value(app, "memory.swap.max").equals("0"));

        // a reloaded config re-plans: UnlimitedSwap for everyone
        Files.writeString(cfgFile, """
                swap: {behavior: UnlimitedSwap}
                loops: {period: 100ms, guard: {enabled: false}, offload: {enabled: false}}
                """);
        AgentTest.await("the new plan", () -> value(app, "memory.swap.max").equals("max"));

        agent.close();
        assertThat(read(app, "memory.max")).isEqualTo(Long.toString(GI)); // kept on exit
        Files.writeString(app.resolve("memory.max"), "max");
        Thread.sleep(400);
        assertThat(read(app, "memory.max")).isEqualTo("max"); // stopped: nothing writes any more
    }

    static PodSpec pod(String name, String uid, String req, String lim) {
        return StandaloneApplierTest.pod(name, uid, StandaloneApplierTest.container("app", req, lim));
    }

    static String value(Path cg, String f) {
        try {
            return read(cg, f);
        } catch (Exception e) {
            return "";
        }
    }
}
