package io.memwarden.nri.wire;

import static io.memwarden.nri.wire.WireFormat.*;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns the socket's byte stream into ttrpc messages: reads NRI mux frames, appends each frame's payload to its
 * connection's byte stream, and cuts ttrpc messages out of each stream. Pure (no I/O): the reader feeds it whatever
 * {@code read} returned, so frames and messages may be split anywhere.
 * <p>
 * Every length is checked before anything is allocated for it: a mux frame over 4 MiB + 10, a ttrpc message over
 * 4 MiB, an unknown connection id or message type is a {@link ProtocolException} naming the problem, after which the
 * decoder must be discarded. Memory held is at most one partial message per connection (≤ 2 × 4 MiB) plus headers.
 */
public final class WireDecoder {
    private final ByteBuffer muxHeader = ByteBuffer.allocate(MUX_HEADER_BYTES);
    private int frameConn;
    private long frameRemaining;
    private boolean inFrame;
    private final Stream[] streams = {new Stream(PLUGIN_SERVICE_CONN), new Stream(RUNTIME_SERVICE_CONN)};
    private long frames;

    /** Consumes all of {@code in}; returns the messages completed by it, in order. */
    public List<TtrpcMessage> feed(ByteBuffer in) throws ProtocolException {
        List<TtrpcMessage> out = new ArrayList<>();
        while (in.hasRemaining()) {
            if (!inFrame) {
                copy(in, muxHeader);
                if (muxHeader.hasRemaining()) {
                    break;
                }
                muxHeader.flip();
                frameConn = muxHeader.getInt();
                frameRemaining = Integer.toUnsignedLong(muxHeader.getInt());
                muxHeader.clear();
                frames++;
                if (frameConn != PLUGIN_SERVICE_CONN && frameConn != RUNTIME_SERVICE_CONN) {
                    throw new ProtocolException("mux frame " + frames + " for unknown connection id "
                            + Integer.toUnsignedString(frameConn) + " (only 1 = plugin service, 2 = runtime service)");
                }
                if (frameRemaining > MAX_MUX_PAYLOAD_BYTES) {
                    throw new ProtocolException("mux frame " + frames + " on connection " + frameConn + ": length "
                            + frameRemaining + " exceeds the maximum of " + MAX_MUX_PAYLOAD_BYTES);
                }
                inFrame = frameRemaining > 0;
                continue;
            }
            int n = (int) Math.min(frameRemaining, in.remaining());
            ByteBuffer slice = in.slice(in.position(), n);
            in.position(in.position() + n);
            frameRemaining -= n;
            if (frameRemaining == 0) {
                inFrame = false;
            }
            streams[frameConn - 1].feed(slice, out);
        }
        return out;
    }

    /** Bytes currently held for incomplete headers and messages (for tests of bounded allocation). */
    public long bufferedBytes() {
        long b = MUX_HEADER_BYTES;
        for (Stream s : streams) {
            b += TTRPC_HEADER_BYTES + (s.body == null ? 0 : s.body.capacity());
        }
        return b;
    }

    /** One mux connection's byte stream, cut into ttrpc messages. */
    private static final class Stream {
        private final int conn;
        private final ByteBuffer header = ByteBuffer.allocate(TTRPC_HEADER_BYTES);
        private ByteBuffer body;
        private int streamId;
        private byte type;
        private byte flags;

        Stream(int conn) {
            this.conn = conn;
        }

        void feed(ByteBuffer in, List<TtrpcMessage> out) throws ProtocolException {
            while (in.hasRemaining()) {
                if (body == null) {
                    copy(in, header);
                    if (header.hasRemaining()) {
                        return;
                    }
                    header.flip();
                    long length = Integer.toUnsignedLong(header.getInt());
                    streamId = header.getInt();
                    type = header.get();
                    flags = header.get();
                    header.clear();
                    if (length > MAX_MESSAGE_BYTES) {
                        throw new ProtocolException("ttrpc message on connection " + conn + " stream "
                                + Integer.toUnsignedString(streamId) + ": length " + length
                                + " exceeds maximum message size of " + MAX_MESSAGE_BYTES);
                    }
                    if (type != TYPE_REQUEST && type != TYPE_RESPONSE && type != TYPE_DATA) {
                        throw new ProtocolException("ttrpc message on connection " + conn + " stream "
                                + Integer.toUnsignedString(streamId) + ": unknown message type " + (type & 0xff));
                    }
                    body = ByteBuffer.allocate((int) length);
                }
                copy(in, body);
                if (!body.hasRemaining()) {
                    out.add(new TtrpcMessage(conn, streamId, type, flags, body.array()));
                    body = null;
                }
            }
        }
    }

    private static void copy(ByteBuffer from, ByteBuffer to) {
        int n = Math.min(from.remaining(), to.remaining());
        to.put(to.position(), from, from.position(), n);
        to.position(to.position() + n);
        from.position(from.position() + n);
    }
}
