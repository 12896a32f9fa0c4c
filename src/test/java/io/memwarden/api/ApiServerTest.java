package io.memwarden.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.memwarden.loops.NodeStatus;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

class ApiServerTest {
    ApiServer server;
    HttpClient client = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws Exception {
        NodeStatus s = Statuses.status(List.of(Statuses.action("guard", "reclaim 1048576 bytes", "reclaimed 4096 bytes")));
        server = ApiServer.start(ListenAddress.parse("127.0.0.1:0").address(), () -> s, true);
    }

    @AfterEach
    void stop() {
        server.close();
        client.close();
    }

    HttpResponse<String> send(String method, String path, String accept) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.url() + path))
                .method(method, HttpRequest.BodyPublishers.noBody());
        if (accept != null) {
            b.header("Accept", accept);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void bindsToLoopbackOnAnEphemeralPort() {
        assertThat(server.address().getAddress().isLoopbackAddress()).isTrue();
        assertThat(server.address().getPort()).isPositive();
        assertThat(server.url()).startsWith("http://127.0.0.1:");
    }

    @Test
    void metricsInTheTextFormatOrOpenMetrics() throws Exception {
        HttpResponse<String> r = send("GET", "/metrics", null);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
        assertThat(r.body()).contains("memwarden_container_memory_usage_bytes{container=\"app\"")
                .contains("jvm_memory_used_bytes");

        HttpResponse<String> om = send("GET", "/metrics", "application/openmetrics-text; version=1.0.0");
        assertThat(om.statusCode()).isEqualTo(200);
        assertThat(om.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/openmetrics-text");
        assertThat(om.body()).endsWith("# EOF\n");
    }

    @Test
    void statusIsJsonWithEachContainersPlan() throws Exception {
        HttpResponse<String> r = send("GET", "/status", null);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        JsonNode j = StatusJson.JSON.readTree(r.body());
        assertThat(j.get("node").get("availableBytes").asLong()).isEqualTo(1024 * Statuses.MI);
        assertThat(j.get("node").get("psi").get("someAvg10").asDouble()).isEqualTo(12.5);
        JsonNode app = j.get("containers").get(0);
        assertThat(app.get("namespace").asString()).isEqualTo("shop");
        assertThat(app.get("qosClass").asString()).isEqualTo("Burstable");
        assertThat(app.get("memory").get("usageBytes").asLong()).isEqualTo(100 * Statuses.MI);
        assertThat(app.get("memory").get("events").get("oom_kill").asLong()).isEqualTo(1);
        assertThat(app.get("plan").get("reasons").get(0).asString()).contains("kubelet");
        assertThat(j.get("containers").get(2).has("memory")).isFalse();
        assertThat(j.get("actionsTotal").asInt()).isEqualTo(1);
        assertThat(j.get("recentActions").get(0).get("loop").asString()).isEqualTo("guard");
        assertThat(j.get("oomKills").get("system").asLong()).isEqualTo(1);
        assertThat(j.get("oomKills").get("cgroup").asLong()).isEqualTo(2);
    }

    @Test
    void healthz() throws Exception {
        HttpResponse<String> r = send("GET", "/healthz", null);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("ok\n");
    }

    @Test
    void readOnly() throws Exception {
        for (String method : List.of("POST", "PUT", "DELETE", "PATCH")) {
            for (String path : List.of("/metrics", "/status", "/healthz")) {
                HttpResponse<String> r = send(method, path, null);
                assertThat(r.statusCode()).as(method + " " + path).isEqualTo(405);
                assertThat(r.headers().firstValue("Allow")).hasValue("GET");
            }
        }
    }

    @Test
    void unknownPathsAre404() throws Exception {
        for (String path : List.of("/", "/metrics/", "/statusx", "/debug/pprof", "/metrics/../status")) {
            assertThat(send("GET", path, null).statusCode()).as(path).isEqualTo(404);
        }
        assertThat(send("POST", "/nope", null).statusCode()).isEqualTo(404);
    }

    @Test
    void aFailingSourceIs503OnStatusAndStillServesMetrics() throws Exception {
        try (ApiServer s = ApiServer.start(new InetSocketAddress("127.0.0.1", 0), () -> {
            throw new java.io.IOException("cgroup gone");
        }, false)) {
            HttpResponse<String> st = client.send(HttpRequest.newBuilder(URI.create(s.url() + "/status")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(st.statusCode()).isEqualTo(503);
            assertThat(st.body()).contains("cgroup gone");
            HttpResponse<String> m = client.send(HttpRequest.newBuilder(URI.create(s.url() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(m.statusCode()).isEqualTo(200);
            assertThat(m.body()).contains("memwarden_status_errors_total 1.0");
        }
    }

    @Test
    void listenAddresses() {
        assertThat(ListenAddress.parse("9767").address()).isEqualTo(new InetSocketAddress("127.0.0.1", 9767));
        assertThat(ListenAddress.parse(":9767").address()).isEqualTo(new InetSocketAddress("127.0.0.1", 9767));
        assertThat(ListenAddress.parse("127.0.0.1:9767").loopback()).isTrue();
        assertThat(ListenAddress.parse("[::1]:9767").loopback()).isTrue();
        assertThat(ListenAddress.parse("0.0.0.0:9767").loopback()).isFalse();
        assertThatThrownBy(() -> ListenAddress.parse("127.0.0.1:http")).hasMessageContaining("not a number");
        assertThatThrownBy(() -> ListenAddress.parse("127.0.0.1:70000")).hasMessageContaining("out of range");
        assertThatThrownBy(() -> ListenAddress.parse("::1:9767")).hasMessageContaining("[ADDR]:PORT");
    }
}
