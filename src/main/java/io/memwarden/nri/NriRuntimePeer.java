package io.memwarden.nri;

import static io.memwarden.nri.wire.WireFormat.PLUGIN_SERVICE;
import static io.memwarden.nri.wire.WireFormat.PLUGIN_SERVICE_CONN;
import static io.memwarden.nri.wire.WireFormat.RUNTIME_SERVICE_CONN;
import static io.memwarden.nri.wire.WireFormat.TYPE_REQUEST;
import static io.memwarden.nri.wire.WireFormat.TYPE_RESPONSE;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import io.memwarden.nri.api.Empty;
import io.memwarden.nri.api.RegisterPluginRequest;
import io.memwarden.nri.api.UpdateContainersResponse;
import io.memwarden.nri.wire.ProtocolException;
import io.memwarden.nri.wire.RpcException;
import io.memwarden.nri.wire.StatusCode;
import io.memwarden.nri.wire.TtrpcMessage;
import io.memwarden.nri.wire.WireDecoder;
import io.memwarden.nri.wire.WireEncoder;
import io.memwarden.nri.wire.pb.Request;
import io.memwarden.nri.wire.pb.Response;
import io.memwarden.nri.wire.pb.Status;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * The runtime's end of one NRI socket, minimal and single-threaded: accepts the plugin's RegisterPlugin, then calls
 * plugin methods one at a time ({@link #call}) and answers the plugin's own calls (UpdateContainers: accepted
 * without failures; anything else: UNIMPLEMENTED) while it waits. Every wait is bounded by the timeout given at
 * construction. Used by {@code memwarden aot-train} to drive a real {@link NriPlugin} through its start-up and
 * request paths without a container runtime; it is not a runtime (no container state, no plugin ordering).
 */
public final class NriRuntimePeer implements AutoCloseable {
    private final SocketChannel channel;
    private final Selector selector;
    private final Duration timeout;
    private final WireDecoder decoder = new WireDecoder();
    private final ByteBuffer readBuffer = ByteBuffer.allocate(64 * 1024);
    private final Deque<TtrpcMessage> inbox = new ArrayDeque<>();
    private int nextStreamId = 1;
    private RegisterPluginRequest registration;

    /** @param channel a connected socket to the plugin; switched to non-blocking mode and owned from now on */
    public NriRuntimePeer(SocketChannel channel, Duration timeout) throws IOException {
        this.channel = channel;
        this.timeout = timeout;
        channel.configureBlocking(false);
        selector = Selector.open();
        channel.register(selector, SelectionKey.OP_READ);
    }

    /** Waits for the plugin's RegisterPlugin call, accepts it and returns it. */
    public RegisterPluginRequest awaitRegistration() throws IOException {
        if (registration == null) {
            awaitPluginCall("RegisterPlugin");
        }
        return registration;
    }

    /** Answers the plugin's calls until one of {@code method} has been answered (e.g. UpdateContainers). */
    public void awaitPluginCall(String method) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            TtrpcMessage m = next(deadline, method);
            if (m.conn() == RUNTIME_SERVICE_CONN && m.type() == TYPE_REQUEST && answerPlugin(m).equals(method)) {
                return;
            }
        }
    }

    /**
     * Calls a plugin method and decodes its answer.
     *
     * @throws RpcException when the plugin answers with a non-OK status
     * @throws IOException  when the connection fails or no answer comes within the timeout
     */
    public <T> T call(String method, MessageLite request, Parser<T> responseParser) throws IOException, RpcException {
        int id = nextStreamId;
        nextStreamId += 2;
        Request r = Request.newBuilder().setService(PLUGIN_SERVICE).setMethod(method)
                .setPayload(request.toByteString()).setTimeoutNano(timeout.toNanos()).build();
        send(new TtrpcMessage(PLUGIN_SERVICE_CONN, id, TYPE_REQUEST, (byte) 0, r.toByteArray()));
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            TtrpcMessage m = next(deadline, method);
            if (m.conn() == RUNTIME_SERVICE_CONN && m.type() == TYPE_REQUEST) {
                answerPlugin(m);
            } else if (m.conn() == PLUGIN_SERVICE_CONN && m.type() == TYPE_RESPONSE && m.streamId() == id) {
                Response resp = Response.parseFrom(m.payload());
                if (resp.hasStatus() && resp.getStatus().getCode() != StatusCode.OK) {
                    throw new RpcException(resp.getStatus().getCode(), resp.getStatus().getMessage());
                }
                return responseParser.parseFrom(resp.getPayload());
            }
            // anything else (a late answer, another type) is not ours to act on
        }
    }

    /** Answers one call of the plugin; returns its method name ("" when undecodable). */
    private String answerPlugin(TtrpcMessage m) throws IOException {
        Request req;
        try {
            req = Request.parseFrom(m.payload());
        } catch (InvalidProtocolBufferException e) {
            reply(m.streamId(), null, StatusCode.INVALID_ARGUMENT, "undecodable ttrpc request: " + e.getMessage());
            return "";
        }
        switch (req.getMethod()) {
            case "RegisterPlugin" -> {
                registration = RegisterPluginRequest.parseFrom(req.getPayload());
                reply(m.streamId(), Empty.getDefaultInstance().toByteString(), StatusCode.OK, null);
            }
            case "UpdateContainers" ->
                    reply(m.streamId(), UpdateContainersResponse.getDefaultInstance().toByteString(), StatusCode.OK,
                            null);
            default -> reply(m.streamId(), null, StatusCode.UNIMPLEMENTED, "method " + req.getMethod()
                    + " not implemented by this runtime peer");
        }
        return req.getMethod();
    }

    private void reply(int streamId, ByteString payload, int code, String message) throws IOException {
        Response.Builder r = Response.newBuilder();
        if (code == StatusCode.OK) {
            r.setPayload(payload);
        } else {
            r.setStatus(Status.newBuilder().setCode(code).setMessage(message));
        }
        send(new TtrpcMessage(RUNTIME_SERVICE_CONN, streamId, TYPE_RESPONSE, (byte) 0, r.build().toByteArray()));
    }

    private void send(TtrpcMessage m) throws IOException {
        try {
            for (ByteBuffer b : WireEncoder.encode(m)) {
                long deadline = System.nanoTime() + timeout.toNanos();
                while (b.hasRemaining()) {
                    if (channel.write(b) == 0) {
                        awaitWritable(deadline);
                    }
                }
            }
        } catch (RpcException e) {
            throw new IOException("cannot encode " + m.streamId() + ": " + e.getMessage(), e);
        }
    }

    /** Waits until the socket takes more bytes (the plugin reads), at most until the deadline. */
    private void awaitWritable(long deadlineNanos) throws IOException {
        long leftMillis = (deadlineNanos - System.nanoTime()) / 1_000_000;
        if (leftMillis <= 0) {
            throw new SocketTimeoutException("the plugin did not read within " + timeout);
        }
        SelectionKey key = channel.keyFor(selector);
        key.interestOps(SelectionKey.OP_WRITE);
        try {
            selector.select(leftMillis);
            selector.selectedKeys().clear();
        } finally {
            key.interestOps(SelectionKey.OP_READ);
        }
    }

    /** The next decoded message, reading as needed until the deadline. */
    private TtrpcMessage next(long deadlineNanos, String waitingFor) throws IOException {
        while (inbox.isEmpty()) {
            long leftMillis = (deadlineNanos - System.nanoTime()) / 1_000_000;
            if (leftMillis <= 0) {
                throw new SocketTimeoutException("no " + waitingFor + " from the plugin within " + timeout);
            }
            selector.select(leftMillis);
            selector.selectedKeys().clear();
            readBuffer.clear();
            int n = channel.read(readBuffer);
            if (n < 0) {
                throw new IOException("the plugin closed the connection while waiting for " + waitingFor);
            }
            readBuffer.flip();
            try {
                inbox.addAll(decoder.feed(readBuffer));
            } catch (ProtocolException e) {
                throw new IOException("protocol error from the plugin: " + e.getMessage(), e);
            }
        }
        return inbox.poll();
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
