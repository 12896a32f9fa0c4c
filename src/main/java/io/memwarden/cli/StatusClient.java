package io.memwarden.cli;

import io.memwarden.view.StatusDoc;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;

/**
 * Reads {@code GET /status} from a running memwarden ({@code memwarden run --listen}, {@code memwarden agent}) with
 * short timeouts. Every failure is a {@link Failure} whose message is one line naming the server.
 */
final class StatusClient implements AutoCloseable {
    static final String DEFAULT_SERVER = "http://127.0.0.1:9767";
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(5);

    /** The server could not be read: unreachable, an error status, or not a status document. */
    static final class Failure extends Exception {
        Failure(String message) {
            super(message);
        }
    }

    private final String server;
    private final URI status;
    private final HttpClient http;

    private StatusClient(String server, URI status) {
        this.server = server;
        this.status = status;
        this.http = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT)
                .followRedirects(HttpClient.Redirect.NEVER).build();
    }

    /**
     * @param server {@code http://HOST:PORT} (a trailing slash or a missing {@code http://} is fine)
     * @throws IllegalArgumentException naming the value when it is not an http(s) URL with a host
     */
    static StatusClient of(String server) {
        String s = server.strip();
        if (s.startsWith("unix:")) {
            throw new IllegalArgumentException("--server \"" + server + "\": unix sockets are not supported;"
                    + " use http://HOST:PORT (memwarden serves its API over TCP, on 127.0.0.1 by default)");
        }
        if (!s.contains("://")) {
            s = "http://" + s;
        }
        while (s.endsWith("/")) {
            s = s.substring(0, s.length() - 1);
        }
        URI base;
        try {
            base = new URI(s);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("--server \"" + server + "\" is not a URL: " + e.getReason());
        }
        if (!("http".equals(base.getScheme()) || "https".equals(base.getScheme())) || base.getHost() == null
                || (base.getPath() != null && !base.getPath().isEmpty()) || base.getQuery() != null) {
            throw new IllegalArgumentException("--server \"" + server + "\" is not http://HOST:PORT");
        }
        return new StatusClient(s, URI.create(s + "/status"));
    }

    /** The server as the user should see it (no trailing slash). */
    String server() {
        return server;
    }

    StatusDoc fetch() throws Failure, InterruptedException {
        HttpResponse<String> r;
        try {
            r = http.send(HttpRequest.newBuilder(status).timeout(REQUEST_TIMEOUT)
                    .header("Accept", "application/json").GET().build(), HttpResponse.BodyHandlers.ofString());
        } catch (HttpConnectTimeoutException e) {
            throw new Failure("cannot reach memwarden at " + server + ": no connection within "
                    + CONNECT_TIMEOUT.toSeconds() + "s");
        } catch (HttpTimeoutException e) {
            throw new Failure("cannot read " + status + ": no answer within " + REQUEST_TIMEOUT.toSeconds() + "s");
        } catch (ConnectException e) {
            // the JDK client leaves the message empty when the connection is refused
            throw new Failure("cannot reach memwarden at " + server + ": "
                    + (e.getMessage() == null || e.getMessage().isBlank() ? "connection refused" : e.getMessage())
                    + "; is memwarden agent or memwarden run --listen running there?");
        } catch (IOException e) {
            throw new Failure("cannot read " + status + ": " + e);
        }
        if (r.statusCode() != 200) {
            String body = r.body() == null ? "" : r.body().strip().lines().findFirst().orElse("");
            throw new Failure(status + " answered HTTP " + r.statusCode() + (body.isEmpty() ? "" : ": " + body));
        }
        try {
            return StatusDoc.parse(r.body());
        } catch (IllegalArgumentException e) {
            throw new Failure(status + ": " + e.getMessage());
        }
    }

    @Override
    public void close() {
        http.close();
    }
}
