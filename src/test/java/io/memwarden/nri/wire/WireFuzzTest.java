package io.memwarden.nri.wire;

import static io.memwarden.nri.wire.WireFormat.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.model.CgroupVersion;
import io.memwarden.model.NodeFacts;
import io.memwarden.nri.NriPlugin;
import io.memwarden.policy.KubeletSettings;
import io.memwarden.policy.WardenConfig;
import java.nio.ByteBuffer;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * Fuzzing the decoders: whatever bytes arrive, in whatever chunks, the wire decoder either yields messages or
 * throws {@link ProtocolException}; it never holds more than two partial maximal messages; and the plugin's
 * handlers answer any payload with a response or an {@link RpcException}, nothing else.
 */
class WireFuzzTest {
    static final long BOUND = 2L * (MAX_MESSAGE_BYTES + TTRPC_HEADER_BYTES) + MUX_HEADER_BYTES;

    @Property(tries = 10_000)
    void randomBytesNeverEscapeAsAnythingButAProtocolError(@ForAll @Size(max = 2048) byte[] data,
                                                           @ForAll @IntRange(min = 1, max = 64) int chunk) {
        feed(data, chunk);
    }

    @Property(tries = 10_000)
    void validFramesWithMutationsStayBounded(@ForAll("framed") byte[] data, @ForAll @IntRange(min = 0, max = 400) int pos,
                                             @ForAll byte value, @ForAll @IntRange(min = 1, max = 300) int chunk) {
        if (data.length > 0) {
            data[pos % data.length] = value;
        }
        feed(data, chunk);
    }

    private static void feed(byte[] data, int chunk) {
        WireDecoder d = new WireDecoder();
        try {
            for (int i = 0; i < data.length; i += chunk) {
                List<TtrpcMessage> got = d.feed(ByteBuffer.wrap(data, i, Math.min(chunk, data.length - i)));
                for (TtrpcMessage m : got) {
                    assertThat(m.payload().length).isLessThanOrEqualTo(MAX_MESSAGE_BYTES);
                    assertThat(m.conn()).isIn(1, 2);
                }
                assertThat(d.bufferedBytes()).isLessThanOrEqualTo(BOUND);
            }
        } catch (ProtocolException expected) {
            assertThat(expected.getMessage()).isNotBlank();
        }
    }

    /**
     * The benchmark run: {@code -Dmemwarden.fuzz.inputs=1000000} feeds that many generated inputs to each of the
     * three targets above (the properties run 10 000 each in every CI run). Tagged {@code bench}: not part of CI.
     */
    @org.junit.jupiter.api.Test
    @org.junit.jupiter.api.Tag("bench")
    void millionsOfInputs() {
        int n = Integer.getInteger("memwarden.fuzz.inputs", 1_000_000);
        java.util.Random r = new java.util.Random(Long.getLong("memwarden.fuzz.seed", 42));
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            feed(bytes(r, r.nextInt(2049)), 1 + r.nextInt(64));
            byte[] f = frame(r);
            f[r.nextInt(f.length)] = (byte) r.nextInt();
            feed(f, 1 + r.nextInt(300));
            handlersAnswerAnyPayloadWithAResponseOrAStatus(r.nextInt(12), bytes(r, r.nextInt(513)));
        }
        System.out.printf("wire fuzz: %d inputs x 3 targets in %.1f s, no escape, buffer within %d bytes%n", n,
                (System.nanoTime() - t0) / 1e9, BOUND);
    }

    private static byte[] bytes(java.util.Random r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    private static byte[] frame(java.util.Random r) {
        try {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            for (ByteBuffer b : WireEncoder.encode(new TtrpcMessage(1 + r.nextInt(2), 1 + r.nextInt(99), TYPE_REQUEST,
                    (byte) 0, bytes(r, r.nextInt(301))))) {
                byte[] a = new byte[b.remaining()];
                b.get(a);
                out.writeBytes(a);
            }
            return out.toByteArray();
        } catch (RpcException e) {
            throw new AssertionError(e);
        }
    }

    @Provide
    Arbitrary<byte[]> framed() {
        Arbitrary<byte[]> payload = Arbitraries.bytes().array(byte[].class).ofMaxSize(300);
        return Arbitraries.integers().between(1, 2).flatMap(conn -> Arbitraries.integers().between(1, 99).flatMap(id ->
                payload.map(p -> {
                    try {
                        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
                        for (ByteBuffer b : WireEncoder.encode(new TtrpcMessage(conn, id, TYPE_REQUEST, (byte) 0, p))) {
                            byte[] a = new byte[b.remaining()];
                            b.get(a);
                            out.writeBytes(a);
                        }
                        return out.toByteArray();
                    } catch (RpcException e) {
                        throw new AssertionError(e);
                    }
                })));
    }

    static final NriPlugin PLUGIN = new NriPlugin(NriPlugin.Options.DEFAULTS,
            new NodeFacts(8L << 30, 2L << 30, CgroupVersion.V2, true, 4096, null, "6.12.0"), KubeletSettings.DEFAULTS,
            WardenConfig.DEFAULTS, null);

    static final List<String> METHODS = List.of("Configure", "Synchronize", "CreateContainer", "UpdateContainer",
            "StopContainer", "StateChange", "UpdatePodSandbox", "RunPodSandbox", "RemovePodSandbox", "RemoveContainer",
            "StartContainer", "Bogus");

    @Property(tries = 10_000)
    void handlersAnswerAnyPayloadWithAResponseOrAStatus(@ForAll @IntRange(min = 0, max = 11) int method,
                                                        @ForAll @Size(max = 512) byte[] payload) {
        try {
            byte[] out = PLUGIN.handle(PLUGIN_SERVICE, METHODS.get(method), payload);
            assertThat(out).isNotNull();
        } catch (RpcException e) {
            assertThat(e.code()).isIn(StatusCode.UNKNOWN, StatusCode.INVALID_ARGUMENT, StatusCode.UNIMPLEMENTED);
        }
    }
}
