package io.memwarden.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The HTTP API's limits hold against hostile clients, each server in a JVM of its own (the JDK server reads its
 * limits once per process) under an open-file limit the test sets: partial and silent connections are closed after
 * the request timeout, more connections than the cap never raise the process's descriptors beyond the cap, a burst
 * of 200 requests all complete. Bounded waits only; nothing here asserts how long anything took.
 */
class ApiServerLimitsTest {

    /** The wait that bounds every step: far beyond the servers' timeouts; reaching it fails the test. */
    static final int BOUND_MILLIS = 30_000;

    /** Short timeouts (2 s), open-file limit 1024 (cap 256). */
    static Child quick;
    /** memwarden's default timeouts (10 s), open-file limit 1024 (cap 256). */
    static Child defaults;

    record Child(Process process, String host, int port, int maxConnections, int openFileLimit) {
        long fds() throws IOException {
            try (Stream<Path> s = Files.list(Path.of("/proc/" + process.pid() + "/fd"))) {
                return s.count();
            }
        }
    }

    static Child start(int openFileLimit, String... properties) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("sh", "-c", "ulimit -n " + openFileLimit + " && exec \"$0\" \"$@\"",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx64m", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path")));
        cmd.addAll(List.of(properties));
        cmd.addAll(List.of(ApiServerProcess.class.getName(), "127.0.0.1:0"));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String line = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine();
        assertThat(line).as("the server process's first line").startsWith("URL ");
        String[] w = line.split(" ");
        URI url = URI.create(w[1]);
        return new Child(p, url.getHost(), url.getPort(), Integer.parseInt(w[3]), openFileLimit);
    }

    @BeforeAll
    static void startServers() throws IOException {
        quick = start(1024, "-Dsun.net.httpserver.maxReqTime=2", "-Dsun.net.httpserver.idleInterval=2",
                "-Dsun.net.httpserver.clockTick=100", "-Dsun.net.httpserver.timerMillis=100");
        defaults = start(1024);
    }

    @AfterAll
    static void stopServers() throws Exception {
        for (Child c : new Child[] {quick, defaults}) {
            if (c != null) {
                c.process().getOutputStream().close();
                if (!c.process().waitFor(BOUND_MILLIS, TimeUnit.MILLISECONDS)) {
                    c.process().destroyForcibly();
                }
            }
        }
    }

    /** One request on a connection of its own; the status line and body, or throws. */
    static String get(Child c, String path) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(c.host(), c.port()), BOUND_MILLIS);
            s.setSoTimeout(BOUND_MILLIS);
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** Whether the server closed the connection (EOF or reset) within the bound; false if it is still open. */
    static boolean closedByServer(Socket s) throws IOException {
        s.setSoTimeout(BOUND_MILLIS);
        InputStream in = s.getInputStream();
        try {
            while (true) {
                int b = in.read();
                if (b < 0) {
                    return true;
                }
            }
        } catch (SocketTimeoutException e) {
            return false;
        } catch (SocketException e) {
            return true; // reset: closed with our unread bytes in its buffer
        }
    }

    static List<Socket> open(Child c, int n, String send) throws IOException {
        List<Socket> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Socket s = new Socket();
            out.add(s);
            s.connect(new InetSocketAddress(c.host(), c.port()), BOUND_MILLIS);
            if (!send.isEmpty()) {
                OutputStream o = s.getOutputStream();
                o.write(send.getBytes(StandardCharsets.US_ASCII));
                o.flush();
            }
        }
        return out;
    }

    static void closeAll(List<Socket> sockets) {
        for (Socket s : sockets) {
            try {
                s.close();
            } catch (IOException ignored) {
                // already closed by the server
            }
        }
    }

    @Test
    void partialAndSilentConnectionsAreClosedAndHealthzStillAnswers() throws IOException {
        List<Socket> flood = new ArrayList<>();
        try {
            flood.addAll(open(quick, 60, ""));                                          // nothing at all
            flood.addAll(open(quick, 60, "GET /healthz"));                              // a request line with no end
            flood.addAll(open(quick, 60, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")); // headers with no end
            assertThat(get(quick, "/healthz")).startsWith("HTTP/1.1 200").endsWith("ok\n");
            for (Socket s : flood) {
                assertThat(closedByServer(s)).as("a partial or silent connection is closed by the server").isTrue();
            }
            assertThat(get(quick, "/healthz")).startsWith("HTTP/1.1 200");
        } finally {
            closeAll(flood);
        }
    }

    @Test
    void moreConnectionsThanTheCapDoNotTakeMoreDescriptors() throws IOException {
        assertThat(defaults.maxConnections()).isEqualTo(1024 / 4);
        long before = defaults.fds();
        List<Socket> flood = new ArrayList<>();
        try {
            flood.addAll(open(defaults, 3 * defaults.maxConnections(), ""));
            // the server JVM accepts the flood at its own pace (slowly on a loaded machine): count its descriptors
            // once the count has stopped growing (three equal reads 100 ms apart, at most 15 s), not at once
            long during = settledFds(defaults);
            assertThat(during - before).as("descriptors the flood took (cap %d)", defaults.maxConnections())
                    .isLessThanOrEqualTo(defaults.maxConnections() + 1)
                    .isGreaterThan(defaults.maxConnections() / 2); // the flood did fill the server
            assertThat(defaults.openFileLimit() - during).as("descriptors left to the control loops")
                    .isGreaterThanOrEqualTo(defaults.openFileLimit() / 2);
        } finally {
            closeAll(flood);
        }
        // the server sees each close and frees its slot: /healthz and /status (which opens /proc/meminfo) answer
        String health = null;
        for (int i = 0; i < 100 && (health == null || !health.startsWith("HTTP/1.1 200")); i++) {
            try {
                health = get(defaults, "/healthz");
            } catch (IOException e) {
                health = e.toString(); // refused while the server still counted the flood: try again
            }
        }
        assertThat(health).startsWith("HTTP/1.1 200");
        assertThat(get(defaults, "/status")).startsWith("HTTP/1.1 200");
    }

    @Test
    void aBurstOf200ConcurrentRequestsAllComplete() throws Exception {
        try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<String>> answers = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                String path = i % 2 == 0 ? "/healthz" : "/metrics";
                answers.add(ex.submit(() -> get(defaults, path)));
            }
            for (Future<String> f : answers) {
                assertThat(f.get(2 * BOUND_MILLIS, TimeUnit.MILLISECONDS)).startsWith("HTTP/1.1 200");
            }
        }
    }

    /** The server's descriptor count once it has stopped changing: three equal reads 100 ms apart, at most 15 s. */
    private static long settledFds(Child server) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        long last = server.fds();
        int same = 0;
        while (same < 3 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            long now = server.fds();
            same = now == last ? same + 1 : 0;
            last = now;
        }
        return last;
    }
}
