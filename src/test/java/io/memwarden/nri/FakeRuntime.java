package io.memwarden.nri;

import static io.memwarden.nri.wire.WireFormat.*;

import com.google.protobuf.ByteString;
import com.google.protobuf.MessageLite;
import io.memwarden.nri.api.Empty;
import io.memwarden.nri.wire.ProtocolException;
import io.memwarden.nri.wire.RpcException;
import io.memwarden.nri.wire.TtrpcMessage;
import io.memwarden.nri.wire.WireDecoder;
import io.memwarden.nri.wire.WireEncoder;
import io.memwarden.nri.wire.pb.KeyValue;
import io.memwarden.nri.wire.pb.Request;
import io.memwarden.nri.wire.pb.Response;
import io.memwarden.nri.wire.pb.Status;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The runtime side of NRI for tests, written with memwarden's own codec: listens on a real unix socket, accepts the
 * plugin, calls it on connection 1 and answers its calls on connection 2. Also records every mux frame size the
 * plugin sent, and can write raw bytes.
 */
public final class FakeRuntime implements AutoCloseable {
    public final Path socket;
    private final ServerSocketChannel server;

    public FakeRuntime(Path dir) throws IOException {
        socket = dir.resolve("nri.sock");
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
    }

    /** Waits for the plugin to connect. */
    public Session accept() throws IOException {
        return new Session(server.accept());
    }

    @Override
    public void close() throws IOException {
        server.close();
    }

    /** A call from the plugin (connection 2). */
    public record PluginCall(int streamId, Request request) {}

    public static final class Session implements AutoCloseable {
        final ByteChannel ch;
        final BlockingQueue<PluginCall> pluginCalls = new LinkedBlockingQueue<>();
        final List<Integer> frameSizes = java.util.Collections.synchronizedList(new ArrayList<>());
        final CompletableFuture<String> closed = new CompletableFuture<>();
        private final Map<Integer, CompletableFuture<Response>> pending = new ConcurrentHashMap<>();
        private final Object writeLock = new Object();
        private int nextId = 1;
        private boolean autoRegister;

        Session(ByteChannel ch) {
            this.ch = ch;
            Thread.ofPlatform().daemon().start(this::read);
        }

        /** Answer RegisterPlugin immediately from now on (and any pending one). */
        public Session autoRegister() throws IOException {
            List<PluginCall> queued = new ArrayList<>();
            synchronized (this) {
                autoRegister = true;
                for (PluginCall c : List.copyOf(pluginCalls)) {
                    if (c.request().getMethod().equals("RegisterPlugin")) {
                        pluginCalls.remove(c);
                        queued.add(c);
                    }
                }
            }
            for (PluginCall c : queued) {
                reply(c, Empty.getDefaultInstance());
            }
            return this;
        }

        private void read() {
            WireDecoder dec = new WireDecoder();
            ByteBuffer buf = ByteBuffer.allocate(1 << 16);
            ByteBuffer hdr = ByteBuffer.allocate(0);
            try {
                while (true) {
                    buf.clear();
                    int n = ch.read(buf);
                    if (n < 0) {
                        closed.complete("eof");
                        return;
                    }
                    buf.flip();
                    recordFrames(buf.duplicate());
                    for (TtrpcMessage m : dec.feed(buf)) {
                        if (m.conn() == PLUGIN_SERVICE_CONN && m.type() == TYPE_RESPONSE) {
                            CompletableFuture<Response> f = pending.remove(m.streamId());
                            if (f != null) {
                                f.complete(Response.parseFrom(m.payload()));
                            }
                        } else if (m.conn() == RUNTIME_SERVICE_CONN && m.type() == TYPE_REQUEST) {
                            PluginCall c = new PluginCall(m.streamId(), Request.parseFrom(m.payload()));
                            boolean answer;
                            synchronized (this) {
                                answer = autoRegister && c.request().getMethod().equals("RegisterPlugin");
                                if (!answer) {
                                    pluginCalls.add(c);
                                }
                            }
                            if (answer) {
                                reply(c, Empty.getDefaultInstance());
                            }
                        }
                    }
                }
            } catch (ProtocolException e) {
                closed.complete("protocol error: " + e.getMessage());
            } catch (IOException e) {
                // the plugin closing with bytes of ours still unread makes the kernel reset the connection instead
                // of an orderly EOF, and a reply this thread writes after the close fails with EPIPE: all three are
                // "the plugin closed it"
                String m = String.valueOf(e.getMessage());
                closed.complete(m.contains("Connection reset") || m.contains("Broken pipe") ? "reset" : "io: " + m);
            }
        }

        // mux frame boundaries, tracked over the raw stream
        private long frameLeft = 0;
        private final ByteBuffer frameHdr = ByteBuffer.allocate(MUX_HEADER_BYTES);

        private void recordFrames(ByteBuffer b) {
            while (b.hasRemaining()) {
                if (frameLeft == 0) {
                    while (b.hasRemaining() && frameHdr.hasRemaining()) {
                        frameHdr.put(b.get());
                    }
                    if (!frameHdr.hasRemaining()) {
                        frameHdr.flip();
                        frameHdr.getInt();
                        frameLeft = Integer.toUnsignedLong(frameHdr.getInt());
                        frameSizes.add((int) frameLeft);
                        frameHdr.clear();
                    }
                } else {
                    int n = (int) Math.min(frameLeft, b.remaining());
                    b.position(b.position() + n);
                    frameLeft -= n;
                }
            }
        }

        /** Calls a plugin method; returns the raw ttrpc response. */
        public Response call(String method, MessageLite req) throws Exception {
            return callRaw(PLUGIN_SERVICE, method, req.toByteArray()).get(5, TimeUnit.SECONDS);
        }

        public CompletableFuture<Response> callRaw(String service, String method, byte[] payload) throws Exception {
            int id;
            synchronized (writeLock) {
                id = nextId;
                nextId += 2;
            }
            CompletableFuture<Response> f = new CompletableFuture<>();
            pending.put(id, f);
            Request r = Request.newBuilder().setService(service).setMethod(method)
                    .setPayload(ByteString.copyFrom(payload)).setTimeoutNano(2_000_000_000L)
                    .addMetadata(KeyValue.newBuilder().setKey("k").setValue("v")).build();
            send(new TtrpcMessage(PLUGIN_SERVICE_CONN, id, TYPE_REQUEST, (byte) 0, r.toByteArray()));
            return f;
        }

        /** Calls and decodes a successful response. */
        public <T> T callOk(String method, MessageLite req, com.google.protobuf.Parser<T> parser) throws Exception {
            Response r = call(method, req);
            if (r.hasStatus() && r.getStatus().getCode() != 0) {
                throw new RpcException(r.getStatus().getCode(), r.getStatus().getMessage());
            }
            return parser.parseFrom(r.getPayload());
        }

        public void reply(PluginCall c, MessageLite payload) throws IOException {
            Response r = Response.newBuilder().setPayload(payload.toByteString()).build(); // no status = OK
            send(new TtrpcMessage(RUNTIME_SERVICE_CONN, c.streamId(), TYPE_RESPONSE, (byte) 0, r.toByteArray()));
        }

        void replyError(PluginCall c, int code, String message) throws IOException {
            Response r = Response.newBuilder().setStatus(Status.newBuilder().setCode(code).setMessage(message)).build();
            send(new TtrpcMessage(RUNTIME_SERVICE_CONN, c.streamId(), TYPE_RESPONSE, (byte) 0, r.toByteArray()));
        }

        public PluginCall awaitCall(String method) throws InterruptedException {
            PluginCall c = pluginCalls.poll(5, TimeUnit.SECONDS);
            if (c == null) {
                throw new AssertionError("no " + method + " call from the plugin within 5 s");
            }
            if (!c.request().getMethod().equals(method)) {
                throw new AssertionError("expected " + method + ", got " + c.request().getMethod());
            }
            return c;
        }

        /**
         * Sends one message: its frames under one lock, so a reply the reader thread sends (RegisterPlugin) never
         * interleaves with a call the test thread sends at the same moment (that interleaving was a flaky test:
         * the plugin saw a corrupt frame, "unknown message type 0", and closed the connection).
         */
        void send(TtrpcMessage m) throws IOException {
            List<ByteBuffer> frames;
            try {
                frames = WireEncoder.encode(m);
            } catch (RpcException e) {
                throw new IOException(e);
            }
            synchronized (writeLock) {
                for (ByteBuffer b : frames) {
                    writeRaw(b);
                }
            }
        }

        void writeRaw(ByteBuffer b) throws IOException {
            synchronized (writeLock) {
                while (b.hasRemaining()) {
                    ch.write(b);
                }
            }
        }

        /**
         * How the connection ended: "eof" or "reset" (the plugin closed it: EOF, ECONNRESET or EPIPE), or "io: …" /
         * "protocol error: …".
         */
        public String awaitClosed() throws Exception {
            return closed.get(5, TimeUnit.SECONDS);
        }

        @Override
        public void close() throws IOException {
            ch.close();
        }
    }
}
