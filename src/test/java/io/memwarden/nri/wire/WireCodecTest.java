package io.memwarden.nri.wire;

import static io.memwarden.nri.wire.WireFormat.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.memwarden.nri.api.Container;
import io.memwarden.nri.api.CreateContainerRequest;
import io.memwarden.nri.api.LinuxContainer;
import io.memwarden.nri.api.LinuxMemory;
import io.memwarden.nri.api.LinuxResources;
import io.memwarden.nri.api.OptionalInt64;
import io.memwarden.nri.api.PodSandbox;
import io.memwarden.nri.wire.pb.KeyValue;
import io.memwarden.nri.wire.pb.Request;
import io.memwarden.nri.wire.pb.Response;
import io.memwarden.nri.wire.pb.Status;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class WireCodecTest {

    static byte[] bytes(List<ByteBuffer> frames) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (ByteBuffer b : frames) {
            byte[] a = new byte[b.remaining()];
            b.duplicate().get(a);
            out.writeBytes(a);
        }
        return out.toByteArray();
    }

    static List<TtrpcMessage> decodeInChunks(byte[] wire, long seed) throws ProtocolException {
        WireDecoder d = new WireDecoder();
        Random r = new Random(seed);
        List<TtrpcMessage> out = new ArrayList<>();
        int i = 0;
        while (i < wire.length) {
            int n = Math.min(wire.length - i, 1 + r.nextInt(5000));
            out.addAll(d.feed(ByteBuffer.wrap(wire, i, n)));
            i += n;
        }
        return out;
    }

    @Test
    void aSmallRequestHasTheDocumentedLayout() throws Exception {
        byte[] wire = bytes(WireEncoder.encode(new TtrpcMessage(2, 1, TYPE_REQUEST, (byte) 0, new byte[] {7, 8})));
        assertThat(HexFormat.of().formatHex(wire)).isEqualTo(
                "00000002" + "0000000c" // mux: conn 2, 12 bytes
                + "00000002" + "00000001" + "01" + "00" // ttrpc: length 2, stream 1, request, no flags
                + "0708");
    }

    @Test
    void largeMessagesRoundTripThroughFramesOfAtMost4096Bytes() throws Exception {
        byte[] payload = new byte[100_000];
        new Random(1).nextBytes(payload);
        List<ByteBuffer> frames = WireEncoder.encode(new TtrpcMessage(1, 5, TYPE_RESPONSE, (byte) 0, payload));
        for (int i = 1; i < frames.size(); i += 2) {
            assertThat(frames.get(i).remaining()).isLessThanOrEqualTo(MAX_SENT_MUX_PAYLOAD_BYTES);
            assertThat(frames.get(i - 1).getInt(4)).isEqualTo(frames.get(i).remaining());
        }
        byte[] small = {1, 2, 3};
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        wire.writeBytes(bytes(frames));
        wire.writeBytes(bytes(WireEncoder.encode(new TtrpcMessage(2, 7, TYPE_REQUEST, (byte) 0, small))));
        for (long seed = 0; seed < 20; seed++) {
            List<TtrpcMessage> got = decodeInChunks(wire.toByteArray(), seed);
            assertThat(got).hasSize(2);
            assertThat(got.get(0).conn()).isEqualTo(1);
            assertThat(got.get(0).streamId()).isEqualTo(5);
            assertThat(got.get(0).type()).isEqualTo(TYPE_RESPONSE);
            assertThat(got.get(0).payload()).isEqualTo(payload);
            assertThat(got.get(1).conn()).isEqualTo(2);
            assertThat(got.get(1).payload()).isEqualTo(small);
        }
    }

    @Test
    void interleavedConnectionsAreReassembledSeparately() throws Exception {
        // a Go peer may cut a message anywhere; here each connection's message arrives in two frames, interleaved
        byte[] a = new byte[6000];
        byte[] b = new byte[5000];
        java.util.Arrays.fill(a, (byte) 'a');
        java.util.Arrays.fill(b, (byte) 'b');
        List<ByteBuffer> fa = WireEncoder.encode(new TtrpcMessage(1, 1, TYPE_REQUEST, (byte) 0, a));
        List<ByteBuffer> fb = WireEncoder.encode(new TtrpcMessage(2, 3, TYPE_RESPONSE, (byte) 0, b));
        byte[] wire = bytes(List.of(fa.get(0), fa.get(1), fb.get(0), fb.get(1), fa.get(2), fa.get(3), fb.get(2),
                fb.get(3)));
        List<TtrpcMessage> got = new WireDecoder().feed(ByteBuffer.wrap(wire));
        assertThat(got).extracting(TtrpcMessage::conn).containsExactly(1, 2);
        assertThat(got.get(0).payload()).isEqualTo(a);
        assertThat(got.get(1).payload()).isEqualTo(b);
    }

    @Test
    void emptyPayloadsAndEmptyFramesAreFine() throws Exception {
        byte[] wire = bytes(WireEncoder.encode(new TtrpcMessage(1, 1, TYPE_REQUEST, (byte) 0, new byte[0])));
        byte[] withEmptyFrame = new byte[wire.length + 8];
        ByteBuffer.wrap(withEmptyFrame).putInt(2).putInt(0).put(wire);
        List<TtrpcMessage> got = new WireDecoder().feed(ByteBuffer.wrap(withEmptyFrame));
        assertThat(got).hasSize(1);
        assertThat(got.getFirst().payload()).isEmpty();
    }

    @Test
    void oversizeLengthsAreRejectedBeforeAllocation() {
        WireDecoder d = new WireDecoder();
        ByteBuffer mux = ByteBuffer.allocate(8).putInt(1).putInt(-1).flip();
        assertThatThrownBy(() -> d.feed(mux)).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("length 4294967295 exceeds the maximum of 4194314");
        WireDecoder d2 = new WireDecoder();
        ByteBuffer ttrpc = ByteBuffer.allocate(18).putInt(2).putInt(10).putInt(0x7fffffff).putInt(1).put((byte) 2)
                .put((byte) 0).flip();
        assertThatThrownBy(() -> d2.feed(ttrpc)).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("exceeds maximum message size of 4194304");
        assertThat(d2.bufferedBytes()).isLessThan(100);
    }

    @Test
    void aMaximalMessageIsAccepted() throws Exception {
        byte[] payload = new byte[MAX_MESSAGE_BYTES];
        List<TtrpcMessage> got = new WireDecoder().feed(ByteBuffer.wrap(bytes(WireEncoder.encode(
                new TtrpcMessage(1, 1, TYPE_REQUEST, (byte) 0, payload)))));
        assertThat(got.getFirst().payload()).hasSize(MAX_MESSAGE_BYTES);
        assertThatThrownBy(() -> WireEncoder.encode(new TtrpcMessage(1, 1, TYPE_REQUEST, (byte) 0,
                new byte[MAX_MESSAGE_BYTES + 1]))).isInstanceOf(RpcException.class)
                .hasMessageContaining("exceed maximum message size");
    }

    @Test
    void ttrpcEnvelopeAndNriMessagesUseTheWireFieldNumbers() throws Exception {
        Request r = Request.newBuilder().setService("s").setMethod("m").setPayload(ByteString.copyFrom(new byte[] {1}))
                .setTimeoutNano(5).addMetadata(KeyValue.newBuilder().setKey("k").setValue("v"))
                .build();
        // field 1 "s", 2 "m", 3 bytes {1}, 4 varint 5, 5 {1 "k", 2 "v"}
        assertThat(HexFormat.of().formatHex(r.toByteArray())).isEqualTo("0a0173" + "12016d" + "1a0101" + "2005"
                + "2a060a016b120176");
        Response ok = Response.newBuilder().setStatus(Status.newBuilder().setCode(12).setMessage("x")).build();
        assertThat(HexFormat.of().formatHex(ok.toByteArray())).isEqualTo("0a05" + "080c" + "120178");
        // LinuxMemory.limit is field 1 of LinuxResources.memory (1), LinuxContainer.resources (3), Container.linux (11)
        Container c = Container.newBuilder().setLinux(LinuxContainer.newBuilder().setResources(
                LinuxResources.newBuilder().setMemory(LinuxMemory.newBuilder().setLimit(OptionalInt64.newBuilder()
                        .setValue(1))))).build();
        assertThat(HexFormat.of().formatHex(c.toByteArray())).isEqualTo("5a08" + "1a06" + "0a04" + "0a02" + "0801");
        LinuxResources u = LinuxResources.newBuilder().putUnified("a", "b").build();
        assertThat(HexFormat.of().formatHex(u.toByteArray())).isEqualTo("3206" + "0a0161" + "120162");
    }

    @Test
    void unknownFieldsAreToleratedAndKept() throws Exception {
        PodSandbox pod = PodSandbox.newBuilder().setId("p").setName("n").build();
        // append field 99 (string) and field 10 repeated ips, as a newer runtime might send
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(pod.toByteArray());
        b.writeBytes(HexFormat.of().parseHex("9a0603616263")); // field 99, wire type 2, "abc"
        CreateContainerRequest req = CreateContainerRequest.newBuilder()
                .setPod(PodSandbox.parseFrom(b.toByteArray())).build();
        CreateContainerRequest back = CreateContainerRequest.parseFrom(req.toByteArray());
        assertThat(back.getPod().getId()).isEqualTo("p");
        assertThat(back.getPod().getUnknownFields().hasField(99)).isTrue();
    }
}
