package io.memwarden.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The QMP client and the host's balloon bridge against a fake QMP server on a unix socket that answers as QEMU 7.2
 * does (greeting, capabilities, balloon with a BALLOON_CHANGE event before the answer, query-balloon, errors), so
 * the vm tier's balloon check depends on no untested host code. The socket lives in a short temp dir (unix socket
 * paths are limited to 107 bytes).
 */
class QmpBalloonBridgeTest {
    static final long MI = 1L << 20;

    final Path tmp = tempDir();
    final Path socket = tmp.resolve("qmp.sock");
    final List<String> seen = new CopyOnWriteArrayList<>();
    volatile long target = 2048 * MI;
    volatile boolean silent;
    volatile boolean noBalloon;
    ServerSocketChannel server;
    Thread serverThread;

    static Path tempDir() {
        try {
            return Files.createTempDirectory(Path.of("/tmp"), "mwqmp");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** A fake QEMU monitor: one client at a time, one JSON object per line. */
    void startServer() throws IOException {
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        serverThread = Thread.ofPlatform().daemon().start(() -> {
            while (server.isOpen()) {
                try (SocketChannel c = server.accept()) {
                    serve(c);
                } catch (IOException e) {
                    // closed
                }
            }
        });
    }

    void serve(SocketChannel c) throws IOException {
        OutputStream out = Channels.newOutputStream(c);
        BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(c),
                StandardCharsets.UTF_8));
        if (silent) {
            in.readLine(); // never answers
            return;
        }
        send(out, "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7}, \"package\":"
                + " \"Debian 1:7.2+dfsg-7+deb12u18+b3\"}, \"capabilities\": [\"oob\"]}}");
        String l;
        while ((l = in.readLine()) != null) {
            seen.add(l);
            if (l.contains("\"qmp_capabilities\"")) {
                send(out, "{\"return\": {}}");
            } else if (l.contains("\"query-balloon\"")) {
                send(out, noBalloon ? "{\"error\": {\"class\": \"DeviceNotActive\", \"desc\": \"No balloon device has"
                        + " been activated\"}}" : "{\"return\": {\"actual\": " + target + "}}");
            } else if (l.contains("\"balloon\"")) {
                if (noBalloon) {
                    send(out, "{\"error\": {\"class\": \"DeviceNotActive\", \"desc\": \"No balloon device has been"
                            + " activated\"}}");
                    continue;
                }
                target = Long.parseLong(l.replaceAll(".*\"value\":\\s*(\\d+).*", "$1"));
                send(out, "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"BALLOON_CHANGE\","
                        + " \"data\": {\"actual\": " + target + "}}");
                send(out, "{\"return\": {}}");
            } else {
                send(out, "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command x has not been"
                        + " found\"}}");
            }
        }
    }

    static void send(OutputStream out, String line) throws IOException {
        out.write((line + "\r\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    @AfterEach
    void stop() throws IOException {
        if (server != null) {
            server.close();
        }
        Files.deleteIfExists(socket);
        try (var s = Files.walk(tmp)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Test
    void clientNegotiatesSetsAndQueriesSkippingEvents() throws IOException {
        startServer();
        try (QmpClient c = QmpClient.connect(socket, Duration.ofSeconds(5))) {
            assertThat(c.actual()).isEqualTo(2048 * MI);
            c.balloon(1024 * MI);
            assertThat(c.actual()).isEqualTo(1024 * MI);
        }
        assertThat(seen.getFirst()).isEqualTo("{\"execute\": \"qmp_capabilities\"}");
        assertThat(seen).contains("{\"execute\": \"balloon\", \"arguments\": {\"value\": " + 1024 * MI + "}}");
    }

    @Test
    void qemuErrorsCarryTheirDescription() throws IOException {
        noBalloon = true;
        startServer();
        try (QmpClient c = QmpClient.connect(socket, Duration.ofSeconds(5))) {
            assertThatThrownBy(() -> c.balloon(MI)).isInstanceOf(QmpClient.QmpError.class)
                    .hasMessage("No balloon device has been activated");
            assertThatThrownBy(() -> c.execute("{\"execute\": \"x\"}")).isInstanceOf(QmpClient.QmpError.class)
                    .hasMessage("The command x has not been found");
        }
    }

    @Test
    void aSilentPeerIsATimeoutNotAHang() throws IOException {
        silent = true;
        startServer();
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> QmpClient.connect(socket, Duration.ofMillis(300))).isInstanceOf(IOException.class)
                .hasMessageContaining("no answer within 300 ms");
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
    }

    @Test
    void bridgeAnswersTheGuestsRequestFilesAndSaysWhyItCannot() throws Exception {
        Path results = Files.createDirectories(tmp.resolve("results"));
        try (QmpBalloonBridge bridge = QmpBalloonBridge.start(socket, results, seen::add)) {
            Path dir = Files.createDirectories(results.resolve("balloon"));
            // before QEMU is there: a clear error, no hang
            request(dir, "1", "query");
            assertThat(reply(dir, "1")).startsWith("error QMP at " + socket + ": no QMP socket");
            startServer();
            request(dir, "2", "set " + 1024 * MI);
            assertThat(reply(dir, "2")).isEqualTo("ok actual=" + 1024 * MI);
            request(dir, "3", "query");
            assertThat(reply(dir, "3")).isEqualTo("ok actual=" + 1024 * MI);
            request(dir, "4", "set 0");
            assertThat(reply(dir, "4")).startsWith("error the guest's memory must be positive");
            request(dir, "5", "inflate lots");
            assertThat(reply(dir, "5")).startsWith("error unknown request");
            assertThat(bridge.served()).isEqualTo(5);
            assertThat(target).isEqualTo(1024 * MI);
        }
    }

    @Test
    void bridgeReportsAMissingBalloonDevice() throws Exception {
        noBalloon = true;
        startServer();
        Path results = Files.createDirectories(tmp.resolve("results"));
        try (QmpBalloonBridge bridge = QmpBalloonBridge.start(socket, results, seen::add)) {
            Path dir = Files.createDirectories(results.resolve("balloon"));
            request(dir, "a", "set " + MI);
            assertThat(reply(dir, "a")).isEqualTo("error QEMU: No balloon device has been activated");
        }
    }

    @Test
    void theGuestChecksShellHelpersTalkToTheBridge() throws Exception {
        startServer();
        Path results = Files.createDirectories(tmp.resolve("results"));
        // the guest side, as cgroup-v2-checks.sh defines it: its helpers and the balloon functions, nothing else
        String script = Files.readString(VmRun.projectDir().resolve("test/vm/guest/cgroup-v2-checks.sh"));
        String helpers = script.substring(script.indexOf("wait_until() {"), script.indexOf("# exited PID"))
                + script.substring(script.indexOf("# ---- the balloon"), script.indexOf("# balloon_deflate PHYS"));
        Path lib = tmp.resolve("helpers.sh");
        Files.writeString(lib, "MiB=$((1 << 20))\n" + helpers);
        try (QmpBalloonBridge bridge = QmpBalloonBridge.start(socket, results, seen::add)) {
            ProcessBuilder pb = new ProcessBuilder("bash", "-c", ". " + lib + "; balloon_request query;"
                    + " balloon_request 'set " + 1536 * MI + "'; balloon_request query; balloon_bytes;"
                    + " MW_RESULTS= balloon_request query; echo \"status $?\"")
                    .redirectErrorStream(true);
            pb.environment().put("MW_RESULTS", results.toString());
            Process p = pb.start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor()).isZero();
            assertThat(out.lines().toList()).hasSize(6).satisfies(l -> {
                assertThat(l.get(0)).isEqualTo("ok actual=" + 2048 * MI);
                assertThat(l.get(1)).isEqualTo("ok actual=" + 1536 * MI);
                assertThat(l.get(2)).isEqualTo("ok actual=" + 1536 * MI);
                assertThat(l.get(3)).matches("\\d+"); // this machine's balloon, in bytes
                assertThat(l.get(4)).startsWith("error no MW_RESULTS");
                assertThat(l.get(5)).isEqualTo("status 1");
            });
            assertThat(bridge.served()).isEqualTo(3);
        }
    }

    /** As the guest writes a request: whole, by rename. */
    static void request(Path dir, String id, String text) throws IOException {
        Path t = dir.resolve("request." + id + ".tmp");
        Files.writeString(t, text + "\n");
        Files.move(t, dir.resolve("request." + id));
    }

    static String reply(Path dir, String id) throws Exception {
        Path r = dir.resolve("reply." + id);
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!Files.exists(r)) {
            assertThat(System.nanoTime()).as("no reply.%s within 10 s", id).isLessThan(deadline);
            Thread.sleep(20);
        }
        return Files.readString(r).strip();
    }
}
