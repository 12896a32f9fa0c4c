package io.memwarden.vm;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A minimal QEMU Machine Protocol client over a unix socket ({@code qemu -qmp unix:PATH,server=on,wait=off}), for the
 * vm tier's balloon check: the greeting, {@code qmp_capabilities}, {@code balloon} (the guest's new memory size in
 * bytes) and {@code query-balloon}. QMP sends one JSON object per line; asynchronous events (BALLOON_CHANGE, ...)
 * may come between a command and its answer and are skipped. Every read has a deadline, so a silent peer is an
 * {@link IOException}, never a hang. No JSON library: it runs from the test classes alone (also as the
 * {@link QmpBalloonBridge}'s {@code main}).
 */
final class QmpClient implements AutoCloseable {
    private static final Pattern ACTUAL = Pattern.compile("\"actual\"\\s*:\\s*(\\d+)");
    private static final Pattern DESC = Pattern.compile("\"desc\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");
    private static final int MAX_LINE = 1 << 20;

    /** QEMU answered with an error object; the message is its {@code desc}. */
    static final class QmpError extends IOException {
        QmpError(String message) {
            super(message);
        }
    }

    private final SocketChannel channel;
    private final Selector selector;
    private final Duration timeout;
    private final ByteBuffer in = ByteBuffer.allocate(8192);
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();

    private QmpClient(SocketChannel channel, Duration timeout) throws IOException {
        this.channel = channel;
        this.timeout = timeout;
        channel.configureBlocking(false);
        this.selector = Selector.open();
        channel.register(selector, SelectionKey.OP_READ);
        in.flip();
    }

    /** Connects, reads the greeting and leaves capabilities negotiation mode. */
    static QmpClient connect(Path socket, Duration timeout) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.connect(UnixDomainSocketAddress.of(socket));
            QmpClient c = new QmpClient(ch, timeout);
            String greeting = c.readLine();
            if (!greeting.contains("\"QMP\"")) {
                throw new IOException("not a QMP greeting: " + abbreviate(greeting));
            }
            c.execute("{\"execute\": \"qmp_capabilities\"}");
            return c;
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** Sets the balloon's target: the guest keeps {@code guestBytes} (QEMU's {@code balloon value}). */
    void balloon(long guestBytes) throws IOException {
        execute("{\"execute\": \"balloon\", \"arguments\": {\"value\": " + guestBytes + "}}");
    }

    /** The guest's memory as the balloon driver last reported it ({@code query-balloon}'s {@code actual}). */
    long actual() throws IOException {
        String r = execute("{\"execute\": \"query-balloon\"}");
        Matcher m = ACTUAL.matcher(r);
        if (!m.find()) {
            throw new IOException("query-balloon: no \"actual\" in " + abbreviate(r));
        }
        return Long.parseLong(m.group(1));
    }

    /** Sends one command; returns its {@code return} line, or throws {@link QmpError} with QEMU's description. */
    String execute(String command) throws IOException {
        ByteBuffer out = ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.UTF_8));
        long deadline = System.nanoTime() + timeout.toNanos();
        while (out.hasRemaining()) {
            if (channel.write(out) == 0) {
                if (System.nanoTime() > deadline) {
                    throw new IOException("QMP: could not send within " + timeout.toMillis() + " ms");
                }
                sleep();
            }
        }
        while (true) {
            String l = readLine();
            if (l.contains("\"event\"")) {
                continue; // asynchronous: BALLOON_CHANGE and friends
            }
            if (l.contains("\"error\"")) {
                Matcher m = DESC.matcher(l);
                throw new QmpError(m.find() ? m.group(1) : abbreviate(l));
            }
            if (l.contains("\"return\"")) {
                return l;
            }
            // anything else (a greeting repeated by a confused peer): skip
        }
    }

    private String readLine() throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            while (in.hasRemaining()) {
                byte b = in.get();
                if (b == '\n') {
                    String s = line.toString(StandardCharsets.UTF_8).strip();
                    line.reset();
                    if (!s.isEmpty()) {
                        return s;
                    }
                } else if (line.size() < MAX_LINE) {
                    line.write(b);
                } else {
                    throw new IOException("QMP: a line longer than " + MAX_LINE + " bytes");
                }
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new IOException("QMP: no answer within " + timeout.toMillis() + " ms");
            }
            in.clear();
            selector.select(Math.max(1, left / 1_000_000));
            selector.selectedKeys().clear();
            int n = channel.read(in);
            in.flip();
            if (n < 0) {
                throw new IOException("QMP: the connection was closed by QEMU");
            }
        }
    }

    private static void sleep() throws IOException {
        try {
            Thread.sleep(5);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }

    @Override
    public void close() throws IOException {
        try {
            selector.close();
        } finally {
            channel.close();
        }
    }
}
