package io.memwarden.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.memwarden.kernel.SwapDeviceException.Kind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** zram setup/reset/stats against a fake /sys/block: checks, the order of writes and tools, undo. */
class ZramTest {
    static final long MI64 = 64L << 20;

    @TempDir
    Path dir;
    FakeKernel k;
    Zram zram;

    @BeforeEach
    void setUp() throws Exception {
        k = new FakeKernel(dir);
        zram = new Zram(k.host());
    }

    static void fails(Kind kind, String message, ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOfSatisfying(SwapDeviceException.class,
                e -> assertThat(e.kind()).as(e.getMessage()).isEqualTo(kind)).hasMessage(message);
    }

    void assertUntouched() {
        assertThat(k.read(k.zram("comp_algorithm"))).isEqualTo("[lzo-rle] lzo lz4 \n");
        assertThat(k.read(k.zram("disksize"))).isEqualTo("0\n");
        assertThat(k.read(k.zram("reset"))).isEmpty();
        assertThat(k.calls).isEmpty();
    }

    @Test
    void setupWritesAlgorithmThenDisksizeThenMkswapAndSwapon() throws Exception {
        SwapArea a = zram.setup("zram0", MI64, "lz4", 100);
        assertThat(a).isEqualTo(new SwapArea("/dev/zram0", SwapArea.Type.PARTITION, MI64 - 4096, 0, 100));
        assertThat(k.read(k.zram("comp_algorithm"))).isEqualTo("lz4");
        assertThat(k.read(k.zram("disksize"))).isEqualTo(Long.toString(MI64));
        assertThat(k.calls).containsExactly(List.of("mkswap", "/dev/zram0"), List.of("swapon", "-p", "100", "/dev/zram0"));
        assertThat(k.read(k.zram("reset"))).isEmpty();
    }

    @Test
    void anActiveSwapDeviceIsBusy() {
        k.addSwap("/dev/zram0", "partition", 65532, 10, 100);
        fails(Kind.BUSY, "zram0 is busy: active swap (" + k.host().procSwaps() + ": /dev/zram0 priority 100, 10240"
                + " bytes used); reset it first", () -> zram.setup("zram0", MI64, "lzo-rle", 100));
        assertThat(k.calls).isEmpty();
    }

    @Test
    void anInitialisedOrMountedDeviceIsBusy() {
        k.write(k.zram("disksize"), "268435456\n");
        fails(Kind.BUSY, "zram0 is busy: already initialised (disksize 268435456, not swap, not mounted: another user"
                + " may hold it)", () -> zram.setup("zram0", MI64, "lzo-rle", 100));
        k.write(k.root.resolve("proc/mounts"), "/dev/zram0 /mnt/fast\\040scratch ext4 rw 0 0\n");
        fails(Kind.BUSY, "zram0 is busy: mounted at /mnt/fast scratch", () -> zram.setup("zram0", MI64, "lzo-rle", 100));
        fails(Kind.BUSY, "zram0 is busy: mounted at /mnt/fast scratch; refusing to reset it", () -> zram.reset("zram0"));
        assertThat(k.read(k.zram("reset"))).isEmpty();
        assertThat(k.calls).isEmpty();
    }

    @Test
    void anUnknownAlgorithmIsInvalidAndTouchesNothing() {
        fails(Kind.INVALID, "zram0: compression algorithm \"zstd\" is not available (available: lzo-rle, lzo, lz4)",
                () -> zram.setup("zram0", MI64, "zstd", 100));
        assertUntouched();
    }

    @Test
    void validationAndMissingDevices() throws Exception {
        fails(Kind.INVALID, "zram device \"../vda\" is not a zram device name (expected zramN, e.g. zram0)",
                () -> zram.setup("../vda", MI64, "lzo-rle", 100));
        fails(Kind.INVALID, "zram device \"vda\" is not a zram device name (expected zramN, e.g. zram0)",
                () -> zram.reset("vda"));
        fails(Kind.INVALID, "zram0: size 0 bytes is smaller than the 40960 bytes (40Ki, 10 pages) mkswap needs",
                () -> zram.setup("zram0", 0, "lzo-rle", 100));
        fails(Kind.INVALID, "zram0: algorithm \"LZ4; rm\" is not a compression algorithm name (e.g. lzo-rle, lz4, zstd)",
                () -> zram.setup("zram0", MI64, "LZ4; rm", 100));
        fails(Kind.INVALID, "zram0: priority 99999 is out of range 0..32767 (swapon -p)",
                () -> zram.setup("zram0", MI64, "lzo-rle", 99999));
        fails(Kind.NOT_FOUND, "zram3: no such device (" + k.host().sysBlock().resolve("zram3") + " does not exist; is"
                + " the zram module loaded with enough devices?)", () -> zram.setup("zram3", MI64, "lzo-rle", 100));
        fails(Kind.NOT_FOUND, "zram3: no such device (" + k.host().sysBlock().resolve("zram3") + " does not exist; is"
                + " the zram module loaded with enough devices?)", () -> zram.stats("zram3"));
        k.uid(65534);
        fails(Kind.NOT_ROOT, "must run as root to set up zram0 (effective uid 65534)",
                () -> zram.setup("zram0", MI64, "lzo-rle", 100));
        fails(Kind.NOT_ROOT, "must run as root to reset zram0 (effective uid 65534)", () -> zram.reset("zram0"));
        assertUntouched();
    }

    @Test
    void aFailedMkswapOrSwaponResetsTheDevice() throws Exception {
        k.fail("mkswap", 1, "mkswap: error: /dev/zram0: cannot open: Device or resource busy\n");
        fails(Kind.COMMAND_FAILED, "zram0: `mkswap /dev/zram0` failed (exit 1): mkswap: error: /dev/zram0: cannot open:"
                + " Device or resource busy", () -> zram.setup("zram0", MI64, "lzo-rle", 100));
        assertThat(k.read(k.zram("reset"))).isEqualTo("1");
        assertThat(k.tools()).containsExactly("mkswap");

        FakeKernel k2 = new FakeKernel(dir.resolve("k2")).failAfterwards("swapon", 1, "swapon: odd\n");
        assertThatThrownBy(() -> new Zram(k2.host()).setup("zram0", MI64, "lzo-rle", 100))
                .hasMessage("zram0: `swapon -p 100 /dev/zram0` failed (exit 1): swapon: odd");
        assertThat(k2.tools()).containsExactly("mkswap", "swapon", "swapoff");
        assertThat(k2.host().swaps()).isEmpty();
        assertThat(k2.read(k2.zram("reset"))).isEqualTo("1");
    }

    @Test
    void resetSwapsOffFirstAndWorksOnAFreeDevice() throws Exception {
        zram.setup("zram0", MI64, "lzo-rle", 100);
        k.calls.clear();
        zram.reset("zram0");
        assertThat(k.calls).containsExactly(List.of("swapoff", "/dev/zram0"));
        assertThat(k.read(k.zram("reset"))).isEqualTo("1");
        k.calls.clear();
        k.write(k.zram("reset"), "");
        zram.reset("zram0");
        assertThat(k.calls).isEmpty();
        assertThat(k.read(k.zram("reset"))).isEqualTo("1");
    }

    @Test
    void readListsDevicesWithStats() throws Exception {
        Files.createDirectories(k.host().sysBlock().resolve("zram10"));
        Files.createDirectories(k.host().sysBlock().resolve("zram2"));
        Files.createDirectories(k.host().sysBlock().resolve("zramx"));
        assertThat(zram.devices()).containsExactly("zram0", "zram2", "zram10");
        k.write(k.zram("mm_stat"), "4096 73 12288 0 12288 0 0 0 0\n");
        k.write(k.zram("disksize"), "67108864\n");
        ZramDevice d = zram.read("zram0");
        assertThat(d.disksize()).isEqualTo(MI64);
        assertThat(d.algorithm()).isEqualTo("lzo-rle");
        assertThat(d.algorithms()).containsExactly("lzo-rle", "lzo", "lz4");
        assertThat(d.stats().origDataSize()).isEqualTo(4096);
        assertThat(zram.stats("zram0")).isEqualTo(d.stats());
    }
}
