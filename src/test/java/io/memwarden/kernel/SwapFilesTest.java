package io.memwarden.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.memwarden.kernel.SwapDeviceException.Kind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.OptionalInt;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Swap file create/remove against a fake kernel: the steps, their order, validation, and undo on failure. */
class SwapFilesTest {
    static final long MI64 = 64L << 20;

    @TempDir
    Path dir;
    FakeKernel k;
    SwapFiles files;
    Path swap;

    @BeforeEach
    void setUp() throws Exception {
        k = new FakeKernel(dir.resolve("root"));
        files = new SwapFiles(k.host());
        swap = dir.toRealPath().resolve("swap file");
    }

    static void fails(Kind kind, String message, ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOfSatisfying(SwapDeviceException.class,
                e -> assertThat(e.kind()).as(e.getMessage()).isEqualTo(kind)).hasMessage(message);
    }

    @Test
    void createAllocatesProtectsFormatsAndTurnsOn() throws Exception {
        SwapArea a = files.create(swap, MI64, OptionalInt.of(5));
        assertThat(a).isEqualTo(new SwapArea(swap.toString(), SwapArea.Type.FILE, MI64 - 4096, 0, 5));
        assertThat(k.calls).containsExactly(
                List.of("fallocate", "-l", Long.toString(MI64), swap.toString()),
                List.of("mkswap", swap.toString()),
                List.of("swapon", "-p", "5", swap.toString()));
        assertThat(Files.size(swap)).isEqualTo(MI64);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(swap))).isEqualTo("rw-------");
    }

    @Test
    void createWithoutPriorityLeavesItToTheKernel() throws Exception {
        assertThat(files.create(swap, MI64, OptionalInt.empty()).priority()).isEqualTo(-2);
        assertThat(k.calls.getLast()).isEqualTo(List.of("swapon", swap.toString()));
    }

    @Test
    void anExistingPathIsNeverTouched() throws Exception {
        Files.writeString(swap, "precious");
        fails(Kind.INVALID, "swap file " + swap + ": the path already exists; refusing to touch it",
                () -> files.create(swap, MI64, OptionalInt.of(5)));
        assertThat(Files.readString(swap)).isEqualTo("precious");
        assertThat(k.calls).isEmpty();
        Path link = dir.resolve("dangling");
        Files.createSymbolicLink(link, dir.resolve("nowhere"));
        fails(Kind.INVALID, "swap file " + link + ": the path already exists; refusing to touch it",
                () -> files.create(link, MI64, OptionalInt.empty()));
        assertThat(dir.resolve("nowhere")).doesNotExist();
    }

    @Test
    void validationComesBeforeAnyChange() throws Exception {
        fails(Kind.INVALID, "swap file " + swap + ": size 4096 bytes is smaller than the 40960 bytes (40Ki, 10 pages)"
                + " mkswap needs", () -> files.create(swap, 4096, OptionalInt.empty()));
        fails(Kind.INVALID, "swap file " + swap + ": priority 32768 is out of range 0..32767 (swapon -p)",
                () -> files.create(swap, MI64, OptionalInt.of(32768)));
        fails(Kind.INVALID, "swap file " + swap + ": priority -1 is out of range 0..32767 (swapon -p)",
                () -> files.create(swap, MI64, OptionalInt.of(-1)));
        Path orphan = dir.resolve("no/such/dir/swap");
        fails(Kind.NOT_FOUND, "swap file " + orphan + ": directory " + orphan.getParent() + " does not exist",
                () -> files.create(orphan, MI64, OptionalInt.empty()));
        k.uid(1000);
        fails(Kind.NOT_ROOT, "must run as root to create swap file " + swap + " (effective uid 1000)",
                () -> files.create(swap, MI64, OptionalInt.empty()));
        assertThat(swap).doesNotExist();
        assertThat(k.calls).isEmpty();
    }

    @Test
    void fallocateNotSupportedFallsBackToDd() throws Exception {
        k.fail("fallocate", 1, "fallocate: fallocate failed: Operation not supported\n");
        files.create(swap, MI64, OptionalInt.of(1));
        assertThat(k.tools()).containsExactly("fallocate", "dd", "mkswap", "swapon");
        assertThat(k.calls.get(1)).containsExactly("dd", "if=/dev/zero", "of=" + swap, "bs=1M", "count=" + MI64,
                "iflag=count_bytes", "status=none");
        assertThat(Files.size(swap)).isEqualTo(MI64);
    }

    @Test
    void otherFallocateFailuresAreNotRetriedAndTheFileIsDeleted() {
        k.fail("fallocate", 1, "fallocate: fallocate failed: No space left on device\n");
        fails(Kind.COMMAND_FAILED, "swap file " + swap + ": `fallocate -l " + MI64 + " " + swap + "` failed (exit 1):"
                + " fallocate: fallocate failed: No space left on device",
                () -> files.create(swap, MI64, OptionalInt.empty()));
        assertThat(k.tools()).containsExactly("fallocate");
        assertThat(swap).doesNotExist();
    }

    @Test
    void mkswapOrSwaponFailureDeletesTheFile() throws Exception {
        k.fail("mkswap", 1, "mkswap: error: swap area needs to be at least 40 KiB\n");
        fails(Kind.COMMAND_FAILED, "swap file " + swap + ": `mkswap " + swap + "` failed (exit 1): mkswap: error:"
                + " swap area needs to be at least 40 KiB", () -> files.create(swap, MI64, OptionalInt.empty()));
        assertThat(swap).doesNotExist();

        FakeKernel k2 = new FakeKernel(dir.resolve("root2")).fail("swapon", 255,
                "swapon: " + swap + ": swapon failed: Invalid argument\n");
        assertThatThrownBy(() -> new SwapFiles(k2.host()).create(swap, MI64, OptionalInt.of(3)))
                .hasMessageEndingWith("failed (exit 255): swapon: " + swap + ": swapon failed: Invalid argument");
        assertThat(k2.tools()).containsExactly("fallocate", "mkswap", "swapon");
        assertThat(swap).doesNotExist();
    }

    @Test
    void anAreaLeftOnByAFailedSwaponIsSwappedOffBeforeTheFileIsDeleted() throws Exception {
        FakeKernel k2 = new FakeKernel(dir.resolve("root2")).failAfterwards("swapon", 1, "swapon: odd\n");
        assertThatThrownBy(() -> new SwapFiles(k2.host()).create(swap, MI64, OptionalInt.of(3)))
                .hasMessageEndingWith("failed (exit 1): swapon: odd");
        assertThat(k2.tools()).containsExactly("fallocate", "mkswap", "swapon", "swapoff");
        assertThat(k2.host().swaps()).isEmpty();
        assertThat(swap).doesNotExist();
    }

    @Test
    void aFailedUndoIsReportedAndAnActiveFileIsKept() throws Exception {
        FakeKernel k2 = new FakeKernel(dir.resolve("root2")).failAfterwards("swapon", 1, "swapon: odd\n").fail("swapoff", 255, "swapoff: busy\n");
        assertThatThrownBy(() -> new SwapFiles(k2.host()).create(swap, MI64, OptionalInt.of(3)))
                .satisfies(e -> assertThat(e.getSuppressed()).singleElement().extracting(Throwable::getMessage)
                        .isEqualTo("swap file " + swap + " (undo): `swapoff " + swap + "` failed (exit 255): swapoff: busy"));
        assertThat(swap).exists(); // still swap: deleting it would leave an unremovable area
        k2.write(k2.root.resolve("proc/swaps"), FakeKernel.HEADER);
    }

    @Test
    void removeSwapsOffAndDeletes() throws Exception {
        files.create(swap, MI64, OptionalInt.of(5));
        k.calls.clear();
        files.remove(swap);
        assertThat(k.calls).containsExactly(List.of("swapoff", swap.toString()));
        assertThat(swap).doesNotExist();
        assertThat(k.host().swaps()).isEmpty();
    }

    @Test
    void removeRefusesWhatIsNotAnActiveSwapFile() throws Exception {
        Files.writeString(swap, "not swap");
        fails(Kind.NOT_FOUND, "swap file " + swap + ": not an active swap area (not in " + k.host().procSwaps()
                + "); refusing to delete it", () -> files.remove(swap));
        assertThat(Files.readString(swap)).isEqualTo("not swap");
        Path missing = dir.resolve("missing");
        fails(Kind.NOT_FOUND, "swap file " + missing + ": no such file", () -> files.remove(missing));
        Path dev = dir.toRealPath().resolve("fake-partition");
        Files.createDirectory(dev);
        k.addSwap(dev.toString(), "partition", 1000, 0, -2);
        fails(Kind.INVALID, "swap file " + dev + ": is a swap partition, not a swap file; refusing to remove it",
                () -> files.remove(dev));
        k.uid(1000);
        fails(Kind.NOT_ROOT, "must run as root to remove swap file " + swap + " (effective uid 1000)",
                () -> files.remove(swap));
        assertThat(k.calls).isEmpty();
    }

    @Test
    void removeKeepsTheFileWhenSwapoffFails() throws Exception {
        files.create(swap, MI64, OptionalInt.of(5));
        k.fail("swapoff", 255, "swapoff: " + swap + ": swapoff failed: Cannot allocate memory\n");
        fails(Kind.COMMAND_FAILED, "swap file " + swap + ": `swapoff " + swap + "` failed (exit 255): swapoff: " + swap
                + ": swapoff failed: Cannot allocate memory", () -> files.remove(swap));
        assertThat(swap).exists();
    }

    @Test
    void removeFollowsTheNameTheKernelShows() throws Exception {
        files.create(swap, MI64, OptionalInt.of(5));
        Path viaDots = dir.resolve("sub/../swap file");
        Files.createDirectory(dir.resolve("sub"));
        files.remove(viaDots);
        assertThat(swap).doesNotExist();
    }
}
