package io.memwarden.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.memwarden.kernel.SwapDeviceException.Kind;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Real zram0 on this machine, used only when it is free (disksize 0, not swap) and always reset afterwards. A
 * device that was busy before the test is never touched.
 */
@Tag("kernel")
class ZramKernelTest {
    static final long MI64 = 64L << 20;
    static final Path SYS = Path.of("/sys/block/zram0");

    final Host host = Host.system();
    final Zram zram = new Zram(host);
    /** Set once this test has set zram0 up: only then does clean-up reset it. */
    boolean mine;

    @BeforeEach
    void setUp() throws Exception {
        KernelTests.assumeRoot();
        String busy = KernelTests.zram0Busy();
        assumeTrue(busy == null, () -> busy + "; zram kernel tests skipped");
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (mine) {
            KernelTests.resetZram0();
        }
    }

    String sys(String file) throws Exception {
        return Files.readString(SYS.resolve(file)).strip();
    }

    @Test
    void setupIsSwapWithPriority100ThenResetFreesIt() throws Exception {
        SwapArea a = zram.setup("zram0", MI64, "lzo-rle", Zram.DEFAULT_PRIORITY);
        mine = true;
        assertThat(a).isEqualTo(new SwapArea("/dev/zram0", SwapArea.Type.PARTITION, MI64 - 4096, 0, 100));
        assertThat(ProcSwaps.find(host.swaps(), "/dev/zram0")).contains(a);
        assertThat(sys("disksize")).isEqualTo(Long.toString(MI64));
        ZramDevice d = zram.read("zram0");
        assertThat(d.algorithm()).isEqualTo("lzo-rle");
        assertThat(d.disksize()).isEqualTo(MI64);
        ZramStats s = zram.stats("zram0");
        assertThat(s.memLimit()).isZero();
        assertThat(s.origDataSize()).isGreaterThanOrEqualTo(0);

        zram.reset("zram0");
        mine = false;
        assertThat(sys("disksize")).isEqualTo("0");
        assertThat(ProcSwaps.find(host.swaps(), "/dev/zram0")).isEmpty();
    }

    @Test
    void setupOnABusyDeviceIsBusyAndLeavesItAlone() throws Exception {
        zram.setup("zram0", MI64, "lzo-rle", 100);
        mine = true;
        assertThatThrownBy(() -> zram.setup("zram0", 2 * MI64, "lz4", 50))
                .isInstanceOfSatisfying(SwapDeviceException.class, e -> assertThat(e.kind()).isEqualTo(Kind.BUSY))
                .hasMessageStartingWith("zram0 is busy: active swap (/proc/swaps: /dev/zram0 priority 100,");
        assertThat(ProcSwaps.find(host.swaps(), "/dev/zram0").orElseThrow().priority()).isEqualTo(100);
        assertThat(sys("disksize")).isEqualTo(Long.toString(MI64));
        assertThat(sys("comp_algorithm")).contains("[lzo-rle]");
    }

    @Test
    void anUnknownAlgorithmIsInvalidAndLeavesTheDeviceUntouched() throws Exception {
        String before = sys("comp_algorithm");
        assertThatThrownBy(() -> zram.setup("zram0", MI64, "nosuch-alg", 100))
                .isInstanceOfSatisfying(SwapDeviceException.class, e -> assertThat(e.kind()).isEqualTo(Kind.INVALID))
                .hasMessageStartingWith("zram0: compression algorithm \"nosuch-alg\" is not available (available: ")
                .hasMessageContaining("lzo-rle");
        assertThat(sys("comp_algorithm")).isEqualTo(before);
        assertThat(sys("disksize")).isEqualTo("0");
        assertThat(ProcSwaps.find(host.swaps(), "/dev/zram0")).isEmpty();
    }

    @Test
    void anotherAlgorithmIsSelected() throws Exception {
        List<String> available = zram.read("zram0").algorithms();
        assumeTrue(available.contains("lz4"), "lz4 not offered by this kernel: " + available);
        zram.setup("zram0", MI64, "lz4", 100);
        mine = true;
        assertThat(zram.read("zram0").algorithm()).isEqualTo("lz4");
    }

    @Test
    void statsShowTheCompressionOfStoredData() throws Exception {
        zram.setup("zram0", MI64, "lzo-rle", 100);
        mine = true;
        // take it off swap and store 8 MiB of text-like records straight on the block device
        CommandRunner.Result off = CommandRunner.SYSTEM.run(List.of("swapoff", "/dev/zram0"));
        assertThat(off.ok()).as(off.stderr()).isTrue();
        StringBuilder sb = new StringBuilder();
        for (int i = 0; sb.length() < (8 << 20); i++) {
            sb.append("{\"id\":").append(i).append(",\"name\":\"user").append(i % 977)
                    .append("\",\"email\":\"user").append(i % 977).append("@example.com\",\"score\":")
                    .append((i * 7919) % 10007 / 100.0).append("}\n");
        }
        byte[] data = sb.substring(0, 8 << 20).getBytes(StandardCharsets.US_ASCII);
        try (FileChannel ch = FileChannel.open(Path.of("/dev/zram0"), StandardOpenOption.WRITE)) {
            ByteBuffer buf = ByteBuffer.wrap(data);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(true);
        }
        ZramStats s = zram.stats("zram0");
        assertThat(s.origDataSize()).isGreaterThanOrEqualTo(8L << 20);
        assertThat(s.comprDataSize()).isPositive().isLessThan(s.origDataSize());
        assertThat(s.compressionRatio().getAsDouble()).isGreaterThan(1.5);
        assertThat(s.memoryRatio().getAsDouble()).isGreaterThan(1.0).isLessThanOrEqualTo(s.compressionRatio().getAsDouble());
        zram.reset("zram0");
        mine = false;
        assertThat(sys("disksize")).isEqualTo("0");
        assertThat(zram.stats("zram0").origDataSize()).isZero();
    }
}
