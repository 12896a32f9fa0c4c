package io.memwarden.api;

import io.memwarden.loops.NodeStatus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A test-only process serving the API on {@code args[0]} ({@code HOST:PORT}), so a test can give it its own JVM
 * system properties (the JDK server reads its limits once per process) and open-file limit, and count its file
 * descriptors. Each status read opens /proc/meminfo, as the control loops do every round. Prints
 * {@code URL <url> MAX_CONNECTIONS <n>} and serves until its standard input closes.
 */
public final class ApiServerProcess {
    private ApiServerProcess() {}

    public static void main(String[] args) throws IOException {
        NodeStatus fixed = Statuses.status(List.of());
        StatusSource source = () -> {
            Files.readAllBytes(Path.of("/proc/meminfo")); // fails with EMFILE if the clients took every descriptor
            return fixed;
        };
        try (ApiServer s = ApiServer.start(ListenAddress.parse(args[0]).address(), source, false)) {
            System.out.println("URL " + s.url() + " MAX_CONNECTIONS " + s.limits().maxConnections());
            System.out.flush();
            while (System.in.read() >= 0) {
                // serve until the test closes our stdin (or dies)
            }
        }
    }
}
