package io.memwarden.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.memwarden.api.ApiServer;
import io.memwarden.api.ListenAddress;
import io.memwarden.input.UsageReader;
import io.memwarden.input.YamlDocs;
import io.memwarden.model.Usage;
import io.memwarden.policy.Plan;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code memwarden top} and {@code memwarden explain} against a real {@link ApiServer} on 127.0.0.1:0 serving
 * {@link CannedStatus} (the bundled examples' real plan). Golden files under src/test/resources/golden hold whole
 * outputs with the ephemeral server URL replaced by {@code SERVER}; regenerate with
 * {@code -Dmemwarden.golden.update=true} and review the diff.
 */
class TopExplainCommandTest {
    static Plan plan;
    ApiServer server;
    final AtomicInteger requests = new AtomicInteger();

    @BeforeAll
    static void planExamples() throws Exception {
        plan = CannedStatus.plan();
    }

    @BeforeEach
    void start() throws IOException {
        server = ApiServer.start(ListenAddress.parse("127.0.0.1:0").address(),
                () -> CannedStatus.status(plan, 1000L * requests.getAndIncrement()), false);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    PlanCommandTest.Run run(String... args) {
        String[] all = Arrays.copyOf(args, args.length + 2);
        all[args.length] = "--server";
        all[args.length + 1] = server.url();
        return PlanCommandTest.run(all);
    }

    String masked(String s) {
        return s.replace(server.url(), "SERVER");
    }

    static List<String> rows(String out) {
        List<String> lines = out.lines().toList();
        int title = lines.indexOf(lines.stream().filter(l -> l.startsWith("NAMESPACE/POD")).findFirst().orElseThrow());
        return lines.subList(title + 1, lines.size());
    }

    // --- top ---

    @Test
    void topOnceShowsTheNodeAndEveryContainer() throws IOException {
        PlanCommandTest.Run r = run("top", "--once");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).isEmpty();
        PlanCommandTest.golden("top-once.txt", masked(r.out()));
        assertThat(r.out()).contains("capacity 16Gi").contains("memory.available 5Gi (31.3%)")
                .contains("swap 819Mi used of 4Gi").contains("some 42.10% full 7.30% (avg10)")
                .contains("oom kills: system 0, cgroup 1").contains("containers: 8 (6 running) in 5 pods")
                .contains("loop actions: 4");
        List<String> rows = rows(r.out());
        assertThat(rows).hasSize(8);
        // sorted by usage: db 3Gi, render 1536Mi, app 900Mi, ...; the gone init container last
        assertThat(rows.get(0)).startsWith("shop/postgres").contains("db").contains("Guaranteed").contains("NoSwap")
                .contains("4Gi").contains("3Gi").contains("2560Mi");
        assertThat(rows.get(1)).contains("1.6Gi").contains("1536Mi").contains("1229Mi");
        assertThat(rows.get(1)).contains("render");
        assertThat(rows.get(2)).contains(" app ").contains("LimitedSwap").contains("1Gi").contains("900Mi")
                .contains("40Mi/128Mi").contains(" 12 ")
                .contains("guard memory.high=943718400 -> ok, 90s ago");
        assertThat(rows.get(7)).startsWith("batch/report-builder").contains("fetch (init)").contains("exited 0");
        assertThat(rows.stream().filter(l -> l.contains("shell")).findFirst().orElseThrow())
                .contains("BestEffort").contains("exited 137").contains("guard evict: BestEffort pod dev/scratch");
    }

    @Test
    void topSortsBySwapAndByName() {
        List<String> bySwap = rows(run("top", "--once", "--sort", "swap").out());
        assertThat(bySwap.get(0)).contains("compress").contains("500Mi/2Gi");
        assertThat(bySwap.get(1)).contains("render").contains("300Mi/1Gi");
        assertThat(bySwap.get(2)).contains(" app ");
        List<String> byName = rows(run("top", "--once", "--sort", "name").out());
        assertThat(byName.stream().map(l -> l.split("\\s+")[0] + "/" + l.split("\\s+")[1]).toList()).containsExactly(
                "batch/report-builder/compress", "batch/report-builder/fetch", "batch/report-builder/render",
                "dev/scratch/shell", "kube-system/coredns-7db6d8ff4d-x2x9q/coredns", "shop/postgres/db",
                "shop/web/app", "shop/web/log-shipper");
    }

    @Test
    void topNamespaceFilter() {
        PlanCommandTest.Run r = run("top", "--once", "-n", "shop");
        assertThat(r.code()).isZero();
        assertThat(rows(r.out())).hasSize(3).allMatch(l -> l.startsWith("shop/"));
        assertThat(r.out()).contains("containers: 3 (3 running) in 2 pods, of 8 managed").contains("namespace: shop");
    }

    @Test
    void topUsageWritesAUsageFileThatDensityAndPlanRead(@TempDir Path dir) throws Exception {
        PlanCommandTest.Run r = run("top", "--usage", "-n", "shop");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(requests.get()).isEqualTo(1);
        Usage u = UsageReader.parseUsage("top --usage", YamlDocs.MAPPER.readTree(r.out()));
        assertThat(u.pods()).isNotEmpty().allSatisfy((pod, use) -> {
            assertThat(pod).startsWith("shop/");
            assertThat(use.containers()).isNotEmpty().allSatisfy((c, cu) -> assertThat(cu.workingSet()).isPositive());
        });
        Path usage = Files.writeString(dir.resolve("usage.yaml"), r.out());
        PlanCommandTest.Run plan = PlanCommandTest.run("plan", "--node", "examples/node.yaml", "--kubelet-config",
                "examples/kubelet-config.yaml", "--config", "examples/memwarden.yaml", "-f", "examples/pods.yaml",
                "--usage", usage.toString());
        assertThat(plan.code()).as(plan.err()).isZero();
        PlanCommandTest.Run density = PlanCommandTest.run("density", "--nodes", "examples/density-nodes.yaml", "-f",
                "examples/density-workloads.yaml", "--usage", usage.toString(), "-o", "json");
        assertThat(density.code()).as(density.err()).isZero();
        assertThat(density.err()).doesNotContain("Exception");
        assertThat(run("top", "--usage", "-n", "nothing-here").out()).endsWith("pods: []\n");
    }

    @Test
    void withoutATerminalTopPrintsPlainFramesEachFromAFreshStatus() {
        PlanCommandTest.Run r = run("top", "--interval", "200ms", "--count", "3");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(requests.get()).isEqualTo(3);
        assertThat(r.out()).doesNotContain("\u001b");
        List<String> headers = r.out().lines().filter(l -> l.startsWith("memwarden top")).toList();
        assertThat(headers).hasSize(3);
        assertThat(headers.get(0)).contains("14:13:20 UTC");
        assertThat(headers.get(1)).contains("14:13:21 UTC");
        assertThat(headers.get(2)).contains("14:13:22 UTC");
        assertThat(r.out()).contains("-> ok, 92s ago"); // the last frame's ages are relative to its own time
    }

    @Test
    void topAgainstAServerThatIsDownSaysSoInOneLine() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        String url = "http://127.0.0.1:" + port;
        PlanCommandTest.Run r = PlanCommandTest.run("top", "--once", "--server", url);
        assertThat(r.code()).isEqualTo(ExitCodes.FAILURE);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).startsWith("memwarden top: cannot reach memwarden at " + url + ": connection refused")
                .hasLineCount(1);
        PlanCommandTest.Run x = PlanCommandTest.run("explain", "shop/web", "--server", url);
        assertThat(x.code()).isEqualTo(ExitCodes.FAILURE);
        assertThat(x.err()).startsWith("memwarden explain: cannot reach memwarden at " + url).hasLineCount(1);
    }

    @Test
    void aServerThatAnswersSomethingElseIsAFailureNamingTheUrl() throws IOException {
        HttpServer other = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 4);
        other.createContext("/status", ex -> {
            byte[] b = "<html>hello</html>".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, b.length);
            ex.getResponseBody().write(b);
            ex.close();
        });
        other.start();
        try {
            String url = "http://127.0.0.1:" + other.getAddress().getPort();
            PlanCommandTest.Run r = PlanCommandTest.run("top", "--once", "--server", url);
            assertThat(r.code()).isEqualTo(ExitCodes.FAILURE);
            assertThat(r.err()).startsWith("memwarden top: " + url + "/status: not a memwarden status document")
                    .hasLineCount(1);
        } finally {
            other.stop(0);
        }
    }

    @Test
    void aStatusErrorIsShownWithTheHttpCode() throws IOException {
        try (ApiServer failing = ApiServer.start(ListenAddress.parse("127.0.0.1:0").address(), () -> {
            throw new IOException("memory.stat vanished");
        }, false)) {
            PlanCommandTest.Run r = PlanCommandTest.run("top", "--once", "--server", failing.url());
            assertThat(r.code()).isEqualTo(ExitCodes.FAILURE);
            assertThat(r.err()).isEqualTo("memwarden top: " + failing.url() + "/status answered HTTP 503: status"
                    + " unavailable: memory.stat vanished\n");
        }
    }

    @Test
    void badServerAndOptionsAreUsageErrors() {
        PlanCommandTest.Run unix = PlanCommandTest.run("top", "--once", "--server", "unix:/run/memwarden.sock");
        assertThat(unix.code()).isEqualTo(ExitCodes.USAGE);
        assertThat(unix.err()).contains("--server \"unix:/run/memwarden.sock\"").contains("not supported");
        assertThat(PlanCommandTest.run("top", "--once", "--server", "ftp://x:1").code()).isEqualTo(ExitCodes.USAGE);
        assertThat(PlanCommandTest.run("top", "--once", "--server", "http://h:1/status").code())
                .isEqualTo(ExitCodes.USAGE);
        assertThat(run("top", "--once", "--sort", "cpu").code()).isEqualTo(ExitCodes.USAGE);
        PlanCommandTest.Run interval = run("top", "--interval", "fast");
        assertThat(interval.code()).isEqualTo(ExitCodes.USAGE);
        assertThat(interval.err()).startsWith("memwarden top: ").contains("fast");
        assertThat(run("explain", "shop").code()).isEqualTo(ExitCodes.USAGE);
        assertThat(run("explain", "shop/web/app/x").code()).isEqualTo(ExitCodes.USAGE);
        assertThat(run("explain", "shop/web", "-o", "yaml").code()).isEqualTo(ExitCodes.USAGE);
        assertThat(requests.get()).isZero();
    }

    @Test
    void aServerWithoutSchemeOrWithATrailingSlashIsAccepted() {
        String hostPort = server.url().substring("http://".length());
        assertThat(PlanCommandTest.run("top", "--once", "--server", hostPort).code()).isZero();
        assertThat(PlanCommandTest.run("top", "--once", "--server", server.url() + "/").code()).isZero();
    }

    // --- explain ---

    @Test
    void explainAPodShowsEveryContainersPlanReasonsLiveValuesAndDecisions() throws IOException {
        PlanCommandTest.Run r = run("explain", "shop/web");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).isEmpty();
        PlanCommandTest.golden("explain-shop-web.txt", masked(r.out()));
        String out = r.out();
        assertThat(out).contains("pod shop/web  QoS Burstable").contains("container app  running")
                .contains("container log-shipper  running").contains("swap behaviour: LimitedSwap")
                .contains("oom_score_adj:  969");
        // planned next to live: memory.max as planned; memory.high lowered by the guard, so it differs
        assertThat(out).containsPattern("memory\\.max +1073741824 \\(1Gi\\) +live 1073741824 \\(1Gi\\)\n")
                .containsPattern("memory\\.high +1020051456 \\(972.8Mi\\) +live 943718400 \\(900Mi\\)  DIFFERS")
                .contains("memory.oom.group");
        for (String reason : plan.pods().stream().filter(p -> p.name().equals("web")).findFirst().orElseThrow()
                .containers().getFirst().reasons()) {
            assertThat(out).contains("    - " + reason);
        }
        assertThat(out).contains("usage 900Mi  working set 850Mi  swap 40Mi of 128Mi  limit 1Gi  memory.high 900Mi")
                .contains("events: low=0 high=12 max=0 oom=0 oom_kill=0")
                .contains("14:11:50.000  guard  memory.high=943718400  -> ok")
                .contains("trigger: node PSI some avg10 42.0% above 40%")
                .contains("14:12:50.000  throttle-relief  memory.high=134217728  -> ok");
        // each decision is listed under the container it concerned only
        String app = out.substring(out.indexOf("container app"), out.indexOf("container log-shipper"));
        assertThat(app).doesNotContain("throttle-relief");
    }

    @Test
    void explainOneContainer() {
        PlanCommandTest.Run r = run("explain", "shop/web/log-shipper");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("container log-shipper").doesNotContain("container app");
    }

    @Test
    void podWideDecisionsConcernEveryContainerOfThePod() {
        PlanCommandTest.Run r = run("explain", "dev/scratch");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("container shell  exited 137").contains("QoS BestEffort")
                .contains("guard (whole pod)  evict: BestEffort pod dev/scratch ranks first  -> killed 1 process(es)");
    }

    @Test
    void explainAsJson() throws IOException {
        PlanCommandTest.Run r = run("explain", "batch/report-builder", "-o", "json");
        assertThat(r.code()).as(r.err()).isZero();
        PlanCommandTest.golden("explain-report-builder.json", masked(r.out()));
        JsonNode j = JsonMapper.builder().build().readTree(r.out());
        assertThat(j.get("namespace").asString()).isEqualTo("batch");
        assertThat(j.get("server").asString()).isEqualTo(server.url());
        assertThat(j.get("actionsTotal").asInt()).isEqualTo(4);
        JsonNode cs = j.get("containers");
        assertThat(cs).hasSize(3);
        JsonNode fetch = cs.get(0);
        assertThat(fetch.get("name").asString()).isEqualTo("fetch");
        assertThat(fetch.get("init").asBoolean()).isTrue();
        assertThat(fetch.get("state").asString()).isEqualTo("exited 0");
        assertThat(fetch.has("live")).isFalse();
        assertThat(fetch.get("cgroup").get("memory.max").get("planned").asString()).isEqualTo("268435456");
        JsonNode render = cs.get(1);
        assertThat(render.get("swapBehavior").asString()).isEqualTo("UnlimitedSwap");
        assertThat(render.get("cgroup").get("memory.swap.max").get("live").asString()).isEqualTo("1073741824");
        assertThat(render.get("cgroup").get("memory.swap.max").get("matches").asBoolean()).isTrue();
        assertThat(render.get("cgroup").get("memory.low").has("live")).isFalse();
        assertThat(render.get("reasons").size()).isPositive();
        assertThat(render.get("live").get("swapBytes").asLong()).isEqualTo(300 * CannedStatus.MI);
        assertThat(render.get("decisions")).hasSize(1);
        assertThat(render.get("decisions").get(0).get("result").asString()).isEqualTo("reclaimed 98304000 bytes");
        assertThat(cs.get(2).get("decisions")).isEmpty();
    }

    @Test
    void anUnknownPodIsAFailureWithCloseMatches() {
        PlanCommandTest.Run r = run("explain", "shop/webb");
        assertThat(r.code()).isEqualTo(ExitCodes.FAILURE);
        assertThat(r.out()).isEmpty();
        assertThat(masked(r.err())).isEqualTo("memwarden explain: pod shop/webb is not managed by memwarden at SERVER"
                + " (managed: 5 pods); did you mean shop/web?\n");
        PlanCommandTest.Run other = run("explain", "default/web");
        assertThat(other.err()).contains("did you mean shop/web?");
        PlanCommandTest.Run none = run("explain", "zzz/qqqqqqqq");
        assertThat(masked(none.err())).isEqualTo("memwarden explain: pod zzz/qqqqqqqq is not managed by memwarden at"
                + " SERVER (managed: 5 pods)\n");
    }

    @Test
    void anUnknownContainerNamesThePodsContainers() {
        PlanCommandTest.Run r = run("explain", "shop/web/db");
        assertThat(r.code()).isEqualTo(ExitCodes.FAILURE);
        assertThat(r.err()).isEqualTo("memwarden explain: pod shop/web has no container db (containers: app,"
                + " log-shipper)\n");
    }

    @Test
    void helpListsBothCommands() {
        String help = PlanCommandTest.run("--help").out();
        assertThat(help).contains("top").contains("explain");
        assertThat(PlanCommandTest.run("top", "--help").out()).contains("--once").contains("--sort").contains("q quits");
        assertThat(PlanCommandTest.run("explain", "--help").out()).contains("NS/POD[/CONTAINER]");
    }
}
