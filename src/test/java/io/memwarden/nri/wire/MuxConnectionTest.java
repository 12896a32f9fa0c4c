package io.memwarden.nri.wire;

import static io.memwarden.nri.wire.WireFormat.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.memwarden.nri.wire.pb.Request;
import io.memwarden.nri.wire.pb.Response;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class MuxConnectionTest {

    @Test
    void concurrentCallsReachThePeerWithOddStrictlyIncreasingStreamIds() throws Exception {
        FdChannel[] pair = FdChannel.socketPair();
        MuxConnection conn = new MuxConnection(pair[0], (s, m, p) -> new byte[0]).start();
        List<Integer> seen = java.util.Collections.synchronizedList(new ArrayList<>());
        Thread peer = Thread.ofPlatform().daemon().start(() -> {
            WireDecoder d = new WireDecoder();
            ByteBuffer buf = ByteBuffer.allocate(1 << 16);
            try {
                while (true) {
                    buf.clear();
                    if (pair[1].read(buf) < 0) {
                        return;
                    }
                    buf.flip();
                    for (TtrpcMessage m : d.feed(buf)) {
                        seen.add(m.streamId());
                        Request r = Request.parseFrom(m.payload());
                        Response resp = Response.newBuilder().setPayload(r.getPayload()).build();
                        for (ByteBuffer b : WireEncoder.encode(new TtrpcMessage(RUNTIME_SERVICE_CONN, m.streamId(),
                                TYPE_RESPONSE, (byte) 0, resp.toByteArray()))) {
                            while (b.hasRemaining()) {
                                pair[1].write(b);
                            }
                        }
                    }
                }
            } catch (Exception e) {
                // closed
            }
        });
        List<CompletableFuture<byte[]>> calls = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Thread> callers = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            int base = t * 1000;
            callers.add(Thread.ofVirtual().start(() -> {
                for (int i = 0; i < 50; i++) {
                    byte[] p = Integer.toString(base + i).getBytes();
                    calls.add(conn.call(RUNTIME_SERVICE, "Echo", p, Duration.ofSeconds(10)));
                }
            }));
        }
        for (Thread t : callers) {
            t.join();
        }
        for (CompletableFuture<byte[]> f : calls) {
            assertThat(f.get(10, TimeUnit.SECONDS)).isNotEmpty();
        }
        assertThat(seen).hasSize(400);
        for (int i = 0; i < seen.size(); i++) {
            assertThat(seen.get(i)).isEqualTo(2 * i + 1);
        }
        conn.close();
        pair[1].close();
        peer.join(5000);
    }

    @Test
    void pendingCallsFailWhenTheConnectionCloses() throws Exception {
        FdChannel[] pair = FdChannel.socketPair();
        MuxConnection conn = new MuxConnection(pair[0], (s, m, p) -> new byte[0]).start();
        CompletableFuture<byte[]> f = conn.call(RUNTIME_SERVICE, "RegisterPlugin", new byte[0], Duration.ofSeconds(10));
        pair[1].close();
        assertThatThrownBy(() -> f.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .hasMessageContaining("closed");
        assertThat(conn.closed().get(5, TimeUnit.SECONDS)).isNotBlank(); // EOF or ECONNRESET (our request was unread)
        CompletableFuture<byte[]> late = conn.call(RUNTIME_SERVICE, "X", new byte[0], Duration.ofSeconds(1));
        assertThatThrownBy(() -> late.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class);
    }

    @Test
    void callsTimeOut() throws Exception {
        FdChannel[] pair = FdChannel.socketPair();
        MuxConnection conn = new MuxConnection(pair[0], (s, m, p) -> new byte[0]).start();
        CompletableFuture<byte[]> f = conn.call(RUNTIME_SERVICE, "X", new byte[0], Duration.ofMillis(100));
        assertThatThrownBy(() -> f.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(java.util.concurrent.TimeoutException.class);
        conn.close();
        pair[1].close();
    }
}
