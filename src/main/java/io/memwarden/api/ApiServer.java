package io.memwarden.api;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * memwarden's read-only HTTP API on the JDK's HttpServer, one virtual thread per request:
 * {@code GET /metrics} (Prometheus text 0.0.4, or OpenMetrics by Accept header), {@code GET /status} (JSON),
 * {@code GET /healthz}. Any other method on these paths is 405, any other path 404. It binds where it is told
 * ({@link ListenAddress} defaults to loopback).
 * <p>
 * {@code /status} lists every pod's plan: it is served only to a client on loopback (both ends of the connection
 * loopback addresses, e.g. {@code kubectl port-forward} or a process in the pod) unless the server was started with
 * {@code statusFromNetwork}; others get 403. Timeouts and the connection cap are the JDK server's, set by
 * {@link ApiLimits} (docs/metrics.md, Limits).
 */
public final class ApiServer implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ApiServer.class);
    private static final Set<String> PATHS = Set.of("/metrics", "/status", "/healthz");

    private final HttpServer server;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final StatusSource source;
    private final MetricsExposition metrics;
    private final boolean statusFromNetwork;
    private final ApiLimits limits;

    private ApiServer(InetSocketAddress address, StatusSource source, MetricsExposition metrics,
                      boolean statusFromNetwork) throws IOException {
        this.source = source;
        this.metrics = metrics;
        this.statusFromNetwork = statusFromNetwork;
        this.limits = ApiLimits.configure(); // before the JDK's server reads its properties
        this.server = HttpServer.create(address, limits.backlog());
        server.setExecutor(executor);
        server.createContext("/", this::handle);
    }

    /** Binds and starts serving, {@code /status} to loopback clients only; {@link #close()} stops. */
    public static ApiServer start(InetSocketAddress address, StatusSource source, boolean jvmMetrics)
            throws IOException {
        return start(address, source, jvmMetrics, false);
    }

    /**
     * Binds and starts serving; {@link #close()} stops.
     *
     * @param statusFromNetwork also serve {@code /status} to clients that are not on loopback
     * @throws ApiLimits.Invalid when a limit's system property is unusable (the message names it)
     */
    public static ApiServer start(InetSocketAddress address, StatusSource source, boolean jvmMetrics,
                                  boolean statusFromNetwork) throws IOException {
        ApiServer s = new ApiServer(address, source, new MetricsExposition(source, jvmMetrics), statusFromNetwork);
        s.server.start();
        return s;
    }

    /** The limits this process's API runs with. */
    public ApiLimits limits() {
        return limits;
    }

    /** The registry behind {@code /metrics}: register further collectors here (e.g. request latency histograms). */
    public io.prometheus.metrics.model.registry.PrometheusRegistry registry() {
        return metrics.registry();
    }

    /** The bound address (with the chosen port when started on port 0). */
    public InetSocketAddress address() {
        return server.getAddress();
    }

    /** {@code http://HOST:PORT} of the bound address. */
    public String url() {
        InetSocketAddress a = address();
        String host = a.getAddress().getHostAddress();
        return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getPath();
            if (!PATHS.contains(path)) {
                text(ex, 404, "not found: " + path + " (try /metrics, /status, /healthz)\n");
                return;
            }
            if (!ex.getRequestMethod().equals("GET")) {
                ex.getResponseHeaders().set("Allow", "GET");
                text(ex, 405, "method not allowed: " + ex.getRequestMethod() + " (read-only API: GET)\n");
                return;
            }
            switch (path) {
                case "/metrics" -> {
                    MetricsExposition.Scrape s = metrics.scrape(ex.getRequestHeaders().getFirst("Accept"));
                    send(ex, 200, s.contentType(), s.body());
                }
                case "/status" -> {
                    if (!statusFromNetwork && !fromLoopback(ex)) {
                        text(ex, 403, "forbidden: /status lists every pod's plan and is served only on loopback"
                                + " (kubectl port-forward, or curl in the pod); /metrics and /healthz are served"
                                + " here. To serve /status on the network: agent.statusFromNetwork: true or"
                                + " --status-from-network\n");
                        return;
                    }
                    byte[] body;
                    try {
                        body = StatusJson.render(source.status());
                    } catch (IOException e) {
                        text(ex, 503, "status unavailable: " + e.getMessage() + "\n");
                        return;
                    } catch (RuntimeException e) {
                        LOG.warn("/status: the node status could not be read", e);
                        text(ex, 503, "status unavailable (the server's log has the details)\n");
                        return;
                    }
                    send(ex, 200, "application/json", body);
                }
                default -> text(ex, 200, "ok\n");
            }
        } catch (RuntimeException e) {
            LOG.warn("{} {}: failed", ex.getRequestMethod(), ex.getRequestURI().getPath(), e);
            if (ex.getResponseCode() == -1) {
                text(ex, 500, "internal error (the server's log has the details)\n");
            }
        } catch (IOException e) {
            // the client went away: nothing more to tell it
        }
    }

    private static boolean fromLoopback(HttpExchange ex) {
        return loopback(ex.getLocalAddress(), ex.getRemoteAddress());
    }

    /**
     * Both ends of a connection are loopback addresses: the client is on this host (in this pod's network namespace).
     * A connection to a non-loopback address of the host, even from the host itself, is not.
     */
    static boolean loopback(InetSocketAddress local, InetSocketAddress remote) {
        return local != null && remote != null && local.getAddress() != null && remote.getAddress() != null
                && local.getAddress().isLoopbackAddress() && remote.getAddress().isLoopbackAddress();
    }

    private static void text(HttpExchange ex, int code, String body) throws IOException {
        send(ex, code, "text/plain; charset=utf-8", body.getBytes(StandardCharsets.UTF_8));
    }

    private static void send(HttpExchange ex, int code, String type, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", type);
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        ex.sendResponseHeaders(code, body.length == 0 ? -1 : body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.close();
    }
}
