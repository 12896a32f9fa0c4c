package io.memwarden.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpPrincipal;
import io.memwarden.cgroup.HeldFiles;
import io.memwarden.loops.NodeStatus;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** The API's limits (derived from the open-file limit, validated by name) and who is served /status. */
class ApiLimitsTest {

    @Property
    void theConnectionCapLeavesThreeQuartersOfTheDescriptors(@ForAll @IntRange(min = 4, max = 1 << 30) int limit) {
        ApiLimits l = ApiLimits.of(Map.of(), limit);
        assertThat(l.maxConnections()).isBetween(1, ApiLimits.DEFAULT_MAX_CONNECTIONS).isLessThanOrEqualTo(limit / 4);
        // with the held cgroup files' quarter, at least half the limit stays for everything else
        int held = Math.min(HeldFiles.MAX_HELD, limit / 4);
        assertThat((long) l.maxConnections() + held).isLessThanOrEqualTo(limit / 2);
    }

    @Property
    void anExplicitCapAboveAQuarterIsRefusedNamingIt(@ForAll @IntRange(min = 4, max = 1 << 20) int limit,
                                                     @ForAll @IntRange(min = 1, max = 1 << 22) int cap) {
        Map<String, String> given = Map.of(ApiLimits.MAX_CONNECTIONS, Integer.toString(cap));
        if (cap <= limit / 4) {
            assertThat(ApiLimits.of(given, limit).maxConnections()).isEqualTo(cap);
        } else {
            assertThatThrownBy(() -> ApiLimits.of(given, limit)).isInstanceOf(ApiLimits.Invalid.class)
                    .hasMessageContaining(ApiLimits.MAX_CONNECTIONS + "=" + cap)
                    .hasMessageContaining("open-file limit " + limit);
        }
    }

    @Provide
    Arbitrary<String> notAPositiveWholeNumber() {
        return Arbitraries.oneOf(Arbitraries.strings().ofMaxLength(12).filter(s -> !s.strip().matches("[0-9]+")),
                Arbitraries.of("0", "-1", "1.5", "10s", "", " ", "99999999999999999999", "0x10"));
    }

    @Property
    void anUnusableValueIsAnErrorNamingThePropertyAndValue(@ForAll("notAPositiveWholeNumber") String value) {
        for (String name : List.of(ApiLimits.MAX_CONNECTIONS, ApiLimits.MAX_REQ_TIME, ApiLimits.MAX_RSP_TIME,
                ApiLimits.IDLE_INTERVAL, ApiLimits.CLOCK_TICK)) {
            assertThatThrownBy(() -> ApiLimits.of(Map.of(name, value), 1 << 20)).isInstanceOf(ApiLimits.Invalid.class)
                    .hasMessageContaining(name + "=\"" + value + "\"")
                    .hasMessageNotContaining("Exception");
        }
    }

    @Test
    void defaults() {
        ApiLimits l = ApiLimits.of(Map.of(), 1024);
        assertThat(l).isEqualTo(new ApiLimits(256, 10, 30, 30, 1000, 1024));
        assertThat(ApiLimits.of(Map.of(), 1_048_576).maxConnections()).isEqualTo(256);
        assertThat(ApiLimits.of(Map.of(), 512).maxConnections()).isEqualTo(128);
        assertThat(ApiLimits.of(Map.of(ApiLimits.MAX_REQ_TIME, " 5 "), 1024).requestTimeoutSeconds()).isEqualTo(5);
        assertThatThrownBy(() -> ApiLimits.of(Map.of(ApiLimits.MAX_REQ_TIME, "10s"), 1024))
                .hasMessage("the JVM system property sun.net.httpserver.maxReqTime=\"10s\" is not a whole number of"
                        + " seconds from 1 to 86400 (memwarden's default: 10)");
    }

    @Test
    void configureSetsTheJdkServersPropertiesOnce() {
        ApiLimits l = ApiLimits.configure();
        assertThat(ApiLimits.configure()).isSameAs(l);
        assertThat(System.getProperty(ApiLimits.MAX_CONNECTIONS)).isEqualTo(Integer.toString(l.maxConnections()));
        assertThat(System.getProperty(ApiLimits.MAX_REQ_TIME)).isEqualTo(Long.toString(l.requestTimeoutSeconds()));
        assertThat(System.getProperty(ApiLimits.MAX_RSP_TIME)).isEqualTo(Long.toString(l.responseTimeoutSeconds()));
        assertThat(System.getProperty(ApiLimits.IDLE_INTERVAL)).isEqualTo(Long.toString(l.idleTimeoutSeconds()));
    }

    // --- who is served /status

    @Provide
    Arbitrary<InetAddress> addresses() {
        Arbitrary<InetAddress> v4 = Arbitraries.bytes().array(byte[].class).ofSize(4).map(ApiLimitsTest::address);
        Arbitrary<InetAddress> v6 = Arbitraries.bytes().array(byte[].class).ofSize(16).map(ApiLimitsTest::address);
        return Arbitraries.oneOf(v4, v6, Arbitraries.of(address(new byte[] {127, 0, 0, 1}),
                address(new byte[] {127, 1, 2, 3}), InetAddress.getLoopbackAddress(), address(new byte[16])));
    }

    static InetAddress address(byte[] b) {
        try {
            return InetAddress.getByAddress(b);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    @Property
    void loopbackMeansBothEndsAreLoopback(@ForAll("addresses") InetAddress local, @ForAll("addresses") InetAddress remote) {
        boolean served = ApiServer.loopback(new InetSocketAddress(local, 9767), new InetSocketAddress(remote, 40000));
        assertThat(served).isEqualTo(local.isLoopbackAddress() && remote.isLoopbackAddress());
    }

    @Test
    void statusIsRefusedToANetworkClientUnlessOptedInWhileMetricsAndHealthzAreServed() throws Exception {
        InetAddress podIp = address(new byte[] {10, (byte) 244, 1, 7});
        InetAddress peer = address(new byte[] {10, (byte) 244, 2, 9});
        InetAddress lo = InetAddress.getLoopbackAddress();
        NodeStatus s = Statuses.status(List.of());
        for (boolean optIn : new boolean[] {false, true}) {
            try (ApiServer server = ApiServer.start(new InetSocketAddress(lo, 0), () -> s, false, optIn)) {
                FakeExchange status = new FakeExchange("/status", podIp, peer);
                server.handle(status);
                if (optIn) {
                    assertThat(status.code).isEqualTo(200);
                    assertThat(status.body()).contains("\"containers\"");
                } else {
                    assertThat(status.code).isEqualTo(403);
                    assertThat(status.body()).contains("served only on loopback").contains("statusFromNetwork")
                            .doesNotContain("\"containers\"");
                }
                for (String path : List.of("/metrics", "/healthz")) {
                    FakeExchange ok = new FakeExchange(path, podIp, peer);
                    server.handle(ok);
                    assertThat(ok.code).as(path).isEqualTo(200);
                }
                FakeExchange local = new FakeExchange("/status", lo, lo);
                server.handle(local);
                assertThat(local.code).isEqualTo(200);
                // the host's own pod IP is not loopback: a client in another network namespace could use it
                FakeExchange viaPodIp = new FakeExchange("/status", podIp, podIp);
                server.handle(viaPodIp);
                assertThat(viaPodIp.code).isEqualTo(optIn ? 200 : 403);
            }
        }
    }

    /** An exchange as the JDK server hands one to the handler, with given local and remote addresses. */
    static final class FakeExchange extends HttpExchange {
        final URI uri;
        final InetSocketAddress local;
        final InetSocketAddress remote;
        final Headers requestHeaders = new Headers();
        final Headers responseHeaders = new Headers();
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        int code = -1;

        FakeExchange(String path, InetAddress local, InetAddress remote) {
            this.uri = URI.create(path);
            this.local = new InetSocketAddress(local, 9767);
            this.remote = new InetSocketAddress(remote, 50123);
        }

        String body() {
            return out.toString(StandardCharsets.UTF_8);
        }

        @Override public Headers getRequestHeaders() { return requestHeaders; }
        @Override public Headers getResponseHeaders() { return responseHeaders; }
        @Override public URI getRequestURI() { return uri; }
        @Override public String getRequestMethod() { return "GET"; }
        @Override public HttpContext getHttpContext() { return null; }
        @Override public void close() { }
        @Override public InputStream getRequestBody() { return new ByteArrayInputStream(new byte[0]); }
        @Override public OutputStream getResponseBody() { return out; }
        @Override public void sendResponseHeaders(int rCode, long responseLength) { code = rCode; }
        @Override public InetSocketAddress getRemoteAddress() { return remote; }
        @Override public int getResponseCode() { return code; }
        @Override public InetSocketAddress getLocalAddress() { return local; }
        @Override public String getProtocol() { return "HTTP/1.1"; }
        @Override public Object getAttribute(String name) { return null; }
        @Override public void setAttribute(String name, Object value) { }
        @Override public void setStreams(InputStream i, OutputStream o) { }
        @Override public HttpPrincipal getPrincipal() { return null; }
    }
}
