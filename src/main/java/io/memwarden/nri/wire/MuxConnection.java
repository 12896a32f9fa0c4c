package io.memwarden.nri.wire;

import static io.memwarden.nri.wire.WireFormat.*;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.memwarden.nri.wire.pb.Request;
import io.memwarden.nri.wire.pb.Response;
import io.memwarden.nri.wire.pb.Status;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One NRI socket: the mux with its two ttrpc connections. On connection 1 we are the ttrpc server (requests go to
 * the {@link RequestHandler} on a virtual thread each, never on the reader); on connection 2 we are the client
 * ({@link #call}: odd, strictly increasing stream ids, futures keyed by stream id).
 * <p>
 * One reader thread decodes everything; writers share one lock so frames of different messages never interleave.
 * A protocol error closes the whole socket with a log line naming the problem; every pending call then fails.
 */
public final class MuxConnection implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MuxConnection.class);

    /** Serves a runtime → plugin call. Runs on its own virtual thread; may block briefly (well under 2 s). */
    @FunctionalInterface
    public interface RequestHandler {
        /**
         * @return the encoded response message
         * @throws RpcException to answer with that status (e.g. {@link StatusCode#UNIMPLEMENTED})
         */
        byte[] handle(String service, String method, byte[] payload) throws RpcException;
    }

    private final ByteChannel channel;
    private final RequestHandler handler;
    private final Object writeLock = new Object();
    private final Map<Integer, CompletableFuture<byte[]>> pending = new ConcurrentHashMap<>();
    private final ExecutorService handlers = Executors.newVirtualThreadPerTaskExecutor();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final CompletableFuture<String> closedReason = new CompletableFuture<>();
    private int nextStreamId = 1;
    private long lastServerStreamId;
    private Thread reader;

    public MuxConnection(ByteChannel channel, RequestHandler handler) {
        this.channel = channel;
        this.handler = handler;
    }

    /** Starts the reader thread. */
    public MuxConnection start() {
        // a platform thread: an inherited-fd channel blocks in read(2), which would pin a virtual thread's carrier
        reader = Thread.ofPlatform().daemon().name("nri-mux-reader").start(this::readLoop);
        return this;
    }

    /** Completes with the reason once the connection is closed (by either side or a protocol error). */
    public CompletableFuture<String> closed() {
        return closedReason;
    }

    public boolean isOpen() {
        return !closed.get();
    }

    /**
     * Calls a runtime method on connection 2. The future completes with the response payload, or exceptionally
     * with an {@link RpcException} (non-OK status), an {@link IOException} (connection closed) or a timeout.
     */
    public CompletableFuture<byte[]> call(String service, String method, byte[] payload, Duration timeout) {
        CompletableFuture<byte[]> f = new CompletableFuture<>();
        Request req = Request.newBuilder().setService(service).setMethod(method).setPayload(ByteString.copyFrom(payload))
                .setTimeoutNano(timeout.toNanos()).build();
        byte[] encoded = req.toByteArray();
        // the id is taken and the request written under one lock: ids reach the peer strictly increasing
        synchronized (writeLock) {
            int id = nextStreamId;
            nextStreamId += 2;
            if (nextStreamId < 0) {
                nextStreamId = 1; // 2^30 calls; ttrpc ids are uint32, we stay in the positive range
            }
            pending.put(id, f);
            f.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS).whenComplete((r, e) -> pending.remove(id));
            try {
                send(new TtrpcMessage(RUNTIME_SERVICE_CONN, id, TYPE_REQUEST, (byte) 0, encoded));
            } catch (IOException | RpcException e) {
                f.completeExceptionally(e);
            }
        }
        return f;
    }

    /** Sends one message; frames of concurrent senders never interleave. */
    void send(TtrpcMessage m) throws IOException, RpcException {
        List<ByteBuffer> frames = WireEncoder.encode(m);
        synchronized (writeLock) {
            if (closed.get()) {
                throw new IOException("NRI connection closed: " + closedReason.getNow("closed"));
            }
            for (ByteBuffer b : frames) {
                while (b.hasRemaining()) {
                    channel.write(b);
                }
            }
        }
    }

    private void readLoop() {
        WireDecoder decoder = new WireDecoder();
        ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        try {
            while (!closed.get()) {
                buf.clear();
                int n = channel.read(buf);
                if (n < 0) {
                    close("the runtime closed the connection");
                    return;
                }
                buf.flip();
                for (TtrpcMessage m : decoder.feed(buf)) {
                    dispatch(m);
                }
            }
        } catch (ProtocolException e) {
            LOG.warn("NRI protocol error, closing the connection: {}", e.getMessage());
            close("protocol error: " + e.getMessage());
        } catch (IOException e) {
            close(closed.get() ? "closed" : "read failed: " + e.getMessage());
        } catch (RuntimeException e) {
            LOG.warn("NRI reader failed, closing the connection", e);
            close("reader failed: " + e);
        }
    }

    private void dispatch(TtrpcMessage m) throws ProtocolException {
        if (m.conn() == RUNTIME_SERVICE_CONN) {
            if (m.type() != TYPE_RESPONSE) {
                LOG.debug("ignoring ttrpc message type {} on the runtime connection", m.type());
                return;
            }
            CompletableFuture<byte[]> f = pending.remove(m.streamId());
            if (f == null) {
                LOG.debug("response for unknown or expired stream {}", m.streamId());
                return;
            }
            try {
                Response r = Response.parseFrom(m.payload());
                if (r.hasStatus() && r.getStatus().getCode() != StatusCode.OK) {
                    f.completeExceptionally(new RpcException(r.getStatus().getCode(), r.getStatus().getMessage()));
                } else {
                    f.complete(r.getPayload().toByteArray());
                }
            } catch (InvalidProtocolBufferException e) {
                f.completeExceptionally(new RpcException(StatusCode.INTERNAL, "undecodable ttrpc response: "
                        + e.getMessage()));
            }
            return;
        }
        if (m.type() != TYPE_REQUEST) {
            LOG.debug("ignoring ttrpc message type {} on the plugin connection", m.type());
            return;
        }
        long id = Integer.toUnsignedLong(m.streamId());
        if (id % 2 == 0 || id <= lastServerStreamId) {
            reply(m.streamId(), null, new RpcException(StatusCode.INVALID_ARGUMENT, "stream id " + id
                    + " must be odd and greater than " + lastServerStreamId));
            return;
        }
        lastServerStreamId = id;
        Request req;
        try {
            req = Request.parseFrom(m.payload());
        } catch (InvalidProtocolBufferException e) {
            reply(m.streamId(), null, new RpcException(StatusCode.INVALID_ARGUMENT, "undecodable ttrpc request: "
                    + e.getMessage()));
            return;
        }
        handlers.execute(() -> serve(m.streamId(), req));
    }

    private void serve(int streamId, Request req) {
        try {
            byte[] out = handler.handle(req.getService(), req.getMethod(), req.getPayload().toByteArray());
            reply(streamId, out, null);
        } catch (RpcException e) {
            reply(streamId, null, e);
        } catch (RuntimeException e) {
            LOG.warn("NRI handler for {}/{} failed", req.getService(), req.getMethod(), e);
            reply(streamId, null, new RpcException(StatusCode.INTERNAL, String.valueOf(e)));
        }
    }

    private void reply(int streamId, byte[] payload, RpcException error) {
        Response.Builder r = Response.newBuilder();
        if (error == null) {
            r.setStatus(Status.newBuilder().setCode(StatusCode.OK)).setPayload(ByteString.copyFrom(payload));
        } else {
            r.setStatus(Status.newBuilder().setCode(error.code()).setMessage(error.getMessage()));
        }
        try {
            send(new TtrpcMessage(PLUGIN_SERVICE_CONN, streamId, TYPE_RESPONSE, (byte) 0, r.build().toByteArray()));
        } catch (RpcException e) {
            reply(streamId, null, e);
        } catch (IOException e) {
            LOG.debug("cannot answer stream {}: {}", streamId, e.getMessage());
        }
    }

    /** Closes the socket (idempotent); pending calls fail with the reason. */
    public void close(String reason) {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("close: {}", e.getMessage());
        }
        IOException gone = new IOException("NRI connection closed: " + reason);
        pending.values().forEach(f -> f.completeExceptionally(gone));
        pending.clear();
        handlers.shutdown();
        closedReason.complete(reason);
    }

    @Override
    public void close() {
        close("closed by memwarden");
    }
}
