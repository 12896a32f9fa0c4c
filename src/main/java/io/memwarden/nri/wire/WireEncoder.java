package io.memwarden.nri.wire;

import static io.memwarden.nri.wire.WireFormat.*;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Frames one ttrpc message for the socket: the 10-byte ttrpc header plus data, cut into mux frames of at most
 * 4096 payload bytes each (a Go peer reads through a 4096-byte buffer, nri-protocol.md §1.2).
 */
public final class WireEncoder {
    private WireEncoder() {}

    /**
     * @throws RpcException (ResourceExhausted) when the payload is over 4 MiB, as ttrpc refuses it locally
     */
    public static List<ByteBuffer> encode(TtrpcMessage m) throws RpcException {
        byte[] p = m.payload();
        if (p.length > MAX_MESSAGE_BYTES) {
            throw new RpcException(StatusCode.RESOURCE_EXHAUSTED, "message length " + p.length
                    + " exceed maximum message size of " + MAX_MESSAGE_BYTES);
        }
        ByteBuffer stream = ByteBuffer.allocate(TTRPC_HEADER_BYTES + p.length);
        stream.putInt(p.length).putInt(m.streamId()).put(m.type()).put(m.flags()).put(p).flip();
        List<ByteBuffer> out = new ArrayList<>();
        while (stream.hasRemaining()) {
            int n = Math.min(MAX_SENT_MUX_PAYLOAD_BYTES, stream.remaining());
            ByteBuffer header = ByteBuffer.allocate(MUX_HEADER_BYTES);
            header.putInt(m.conn()).putInt(n).flip();
            out.add(header);
            out.add(stream.slice(stream.position(), n));
            stream.position(stream.position() + n);
        }
        return out;
    }
}
