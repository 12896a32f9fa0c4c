package io.memwarden.api;

import io.memwarden.loops.NodeStatus;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Measures (docs/metrics.md, Limits): a server process with open-file limit 4096 and 2000 idle client connections;
 * its descriptor count, and /healthz latency before and during the flood. The server's classes come from
 * {@code -Dmemwarden.bench.serverClasses=DIR} (e.g. an older build) or this build. Prints, asserts nothing.
 */
@Tag("bench")
class ApiServerFloodBench {

    /** The server process: the API on 127.0.0.1, an ephemeral port; prints its URL, serves until stdin closes. */
    public static final class Server {
        public static void main(String[] args) throws Exception {
            NodeStatus s = Statuses.status(List.of());
            try (ApiServer api = ApiServer.start(new InetSocketAddress("127.0.0.1", 0), () -> s, false)) {
                System.out.println(api.url());
                System.out.flush();
                while (System.in.read() >= 0) {
                    // serve
                }
            }
        }
    }

    static long fds(long pid) throws Exception {
        try (Stream<Path> s = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            return s.count();
        }
    }

    static double[] healthz(URI u, int n) throws Exception {
        double[] ms = new double[n];
        for (int i = 0; i < n; i++) {
            long t = System.nanoTime();
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(u.getHost(), u.getPort()), 120_000);
                s.setSoTimeout(120_000);
                s.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                String r = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                ms[i] = r.startsWith("HTTP/1.1 200") ? (System.nanoTime() - t) / 1e6 : -1;
            } catch (java.io.IOException e) {
                ms[i] = -1; // refused or reset
            }
        }
        return ms;
    }

    static String summary(double[] ms) {
        long failed = Arrays.stream(ms).filter(m -> m < 0).count();
        double[] ok = Arrays.stream(ms).filter(m -> m >= 0).sorted().toArray();
        return ok.length == 0 ? "all " + ms.length + " failed" : String.format(
                "p50 %.1f ms, max %.1f ms, %d of %d failed", ok[ok.length / 2], ok[ok.length - 1], failed, ms.length);
    }

    @Test
    void twoThousandIdleConnections() throws Exception {
        String classes = System.getProperty("memwarden.bench.serverClasses");
        String cp = (classes == null ? "" : classes + ":") + System.getProperty("java.class.path");
        List<String> cmd = List.of("sh", "-c", "ulimit -n 4096 && exec \"$0\" \"$@\"",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx128m", "-cp", cp,
                Server.class.getName());
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        URI u = URI.create(new BufferedReader(new InputStreamReader(p.getInputStream())).readLine());
        healthz(u, 50); // warm-up
        long idleFds = fds(p.pid());
        String quiet = summary(healthz(u, 50));
        List<Socket> flood = new ArrayList<>();
        try {
            for (int i = 0; i < 2000; i++) {
                Socket s = new Socket();
                flood.add(s);
                s.connect(new InetSocketAddress(u.getHost(), u.getPort()), 120_000);
            }
            Thread.sleep(500);
            long floodFds = fds(p.pid());
            String during = summary(healthz(u, 50));
            Thread.sleep(12_000); // past the request timeout (10 s), the flood's sockets still open on our side
            long laterFds = fds(p.pid());
            String later = summary(healthz(u, 50));
            System.out.printf("API flood (%s): fds idle %d, with 2000 idle connections %d, 12 s later %d; /healthz"
                    + " quiet: %s; during the flood: %s; 12 s later: %s%n", classes == null ? "this build" : classes,
                    idleFds, floodFds, laterFds, quiet, during, later);
        } finally {
            for (Socket s : flood) {
                s.close();
            }
            p.getOutputStream().close();
            p.waitFor();
        }
    }
}
