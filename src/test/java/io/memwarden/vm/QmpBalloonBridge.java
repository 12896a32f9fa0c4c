package io.memwarden.vm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The host's half of the vm tier's balloon check: the guest has no network, so it asks through the results share.
 * The guest writes {@code <results>/balloon/request.ID} (renamed into place whole) holding {@code query} or
 * {@code set BYTES} (the guest's new memory size; {@code set 0} is refused); the bridge answers in
 * {@code reply.ID}: {@code ok actual=BYTES} (query-balloon's actual after the command) or {@code error MESSAGE}.
 * It talks to QEMU over QMP ({@code run-in-vm.sh --balloon --qmp SOCKET}), connecting when the socket appears and
 * again after a failure. Started by {@link CgroupV2VmTest} on a thread of its own before the VM boots; by hand:
 * {@code java -cp target/test-classes io.memwarden.vm.QmpBalloonBridge SOCKET RESULTS_DIR}.
 */
final class QmpBalloonBridge implements AutoCloseable {
    static final Duration POLL = Duration.ofMillis(100);
    static final Duration QMP_TIMEOUT = Duration.ofSeconds(10);

    private final Path socket;
    private final Path dir;
    private final Consumer<String> log;
    private final Thread thread;
    private volatile boolean closed;
    private QmpClient qmp;
    private int served;

    /** @param results the VM's results dir (the guest's $MW_RESULTS); requests are in its {@code balloon/} */
    private QmpBalloonBridge(Path socket, Path results, Consumer<String> log) {
        this.socket = socket;
        this.dir = results.resolve("balloon");
        this.log = log;
        this.thread = Thread.ofPlatform().daemon().name("qmp-balloon-bridge").unstarted(this::loop);
    }

    static QmpBalloonBridge start(Path socket, Path results, Consumer<String> log) {
        QmpBalloonBridge b = new QmpBalloonBridge(socket, results, log);
        b.thread.start();
        return b;
    }

    /** Requests answered so far. */
    synchronized int served() {
        return served;
    }

    private void loop() {
        while (!closed) {
            try {
                serveOnce();
            } catch (IOException | RuntimeException e) {
                log.accept("qmp bridge: " + e);
            }
            try {
                Thread.sleep(POLL);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Answers every request that has no reply yet. */
    synchronized void serveOnce() throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        List<Path> requests;
        try (Stream<Path> s = Files.list(dir)) {
            requests = s.filter(p -> p.getFileName().toString().startsWith("request.")
                    && !p.getFileName().toString().endsWith(".tmp")).sorted().toList();
        }
        for (Path req : requests) {
            String id = req.getFileName().toString().substring("request.".length());
            Path reply = dir.resolve("reply." + id);
            if (Files.exists(reply)) {
                continue;
            }
            String text = Files.readString(req, StandardCharsets.UTF_8).strip();
            String answer = answer(text);
            log.accept("qmp bridge: " + id + ": " + text + " -> " + answer);
            Path tmp = dir.resolve("reply." + id + ".tmp");
            Files.writeString(tmp, answer + "\n", StandardCharsets.UTF_8);
            try {
                Files.move(tmp, reply, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, reply, StandardCopyOption.REPLACE_EXISTING);
            }
            served++;
        }
    }

    String answer(String request) {
        String[] f = request.split("\\s+");
        try {
            if (f.length == 1 && f[0].equals("query")) {
                return "ok actual=" + qmp().actual();
            }
            if (f.length == 2 && f[0].equals("set")) {
                long bytes;
                try {
                    bytes = Long.parseLong(f[1]);
                } catch (NumberFormatException e) {
                    return "error not a byte count: " + f[1];
                }
                if (bytes <= 0) {
                    return "error the guest's memory must be positive, got " + bytes;
                }
                QmpClient c = qmp();
                c.balloon(bytes);
                return "ok actual=" + c.actual();
            }
            return "error unknown request \"" + request + "\" (query, or set BYTES)";
        } catch (QmpClient.QmpError e) {
            return "error QEMU: " + e.getMessage();
        } catch (IOException e) {
            disconnect();
            return "error QMP at " + socket + ": " + e.getMessage();
        }
    }

    private QmpClient qmp() throws IOException {
        if (qmp == null) {
            if (!Files.exists(socket)) {
                throw new IOException("no QMP socket (run-in-vm.sh --balloon --qmp " + socket + ")");
            }
            qmp = QmpClient.connect(socket, QMP_TIMEOUT);
        }
        return qmp;
    }

    private void disconnect() {
        if (qmp != null) {
            try {
                qmp.close();
            } catch (IOException ignored) {
                // gone anyway
            }
            qmp = null;
        }
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            disconnect();
        }
    }

    /** {@code QmpBalloonBridge SOCKET RESULTS_DIR}: serves until killed. */
    public static void main(String[] args) throws InterruptedException {
        if (args.length != 2) {
            System.err.println("usage: QmpBalloonBridge QMP_SOCKET RESULTS_DIR");
            System.exit(2);
        }
        QmpBalloonBridge b = start(Path.of(args[0]), Path.of(args[1]), System.err::println);
        b.thread.join();
    }
}
