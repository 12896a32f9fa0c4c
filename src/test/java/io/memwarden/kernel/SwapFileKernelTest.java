package io.memwarden.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.memwarden.kernel.SwapDeviceException.Kind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Real swap files on this machine, in a fresh /var/tmp/memwarden-test-* directory removed after each test. */
@Tag("kernel")
class SwapFileKernelTest {
    static final long MI64 = 64L << 20;

    final Host host = Host.system();
    final SwapFiles files = new SwapFiles(host);
    Path dir;

    @BeforeEach
    void setUp() throws Exception {
        KernelTests.assumeRoot();
        dir = KernelTests.tempDir();
    }

    @AfterEach
    void cleanUp() throws Exception {
        KernelTests.cleanUp(dir);
    }

    @Test
    void createAppearsInProcSwapsWithThePriorityAndRemoveTakesItAway() throws Exception {
        Path swap = dir.resolve("swap file"); // a space: /proc/swaps shows it as \040
        SwapArea a = files.create(swap, MI64, OptionalInt.of(7));
        assertThat(a).isEqualTo(new SwapArea(swap.toString(), SwapArea.Type.FILE, MI64 - 4096, 0, 7));
        assertThat(Files.readString(Path.of("/proc/swaps"))).contains(dir + "/swap\\040file");
        assertThat(ProcSwaps.find(host.swaps(), swap.toString())).contains(a);
        assertThat(Files.size(swap)).isEqualTo(MI64);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(swap))).isEqualTo("rw-------");

        files.remove(swap);
        assertThat(ProcSwaps.find(host.swaps(), swap.toString())).isEmpty();
        assertThat(swap).doesNotExist();
    }

    @Test
    void createOnAnExistingPathFailsWithoutTouchingIt() throws Exception {
        Path swap = dir.resolve("precious");
        Files.writeString(swap, "do not touch");
        assertThatThrownBy(() -> files.create(swap, MI64, OptionalInt.of(7)))
                .isInstanceOfSatisfying(SwapDeviceException.class, e -> assertThat(e.kind()).isEqualTo(Kind.INVALID))
                .hasMessage("swap file " + swap + ": the path already exists; refusing to touch it");
        assertThat(Files.readString(swap)).isEqualTo("do not touch");
        assertThat(ProcSwaps.find(host.swaps(), swap.toString())).isEmpty();
    }

    @Test
    void removeRefusesAFileThatIsNotSwap() throws Exception {
        Path plain = dir.resolve("plain");
        Files.writeString(plain, "data");
        assertThatThrownBy(() -> files.remove(plain))
                .isInstanceOfSatisfying(SwapDeviceException.class, e -> assertThat(e.kind()).isEqualTo(Kind.NOT_FOUND))
                .hasMessageContaining("not an active swap area");
        assertThat(Files.readString(plain)).isEqualTo("data");
    }

    @Test
    void ddFallbackMakesAUsableSwapFile() throws Exception {
        // a filesystem without fallocate, simulated: the real tools do the rest
        Host noFallocate = new Host(host.procSwaps(), host.procSelfStatus(), host.procMounts(), host.sysBlock(),
                host.dev(), host.zswapParameters(), cmd -> cmd.getFirst().equals("fallocate")
                        ? new CommandRunner.Result(cmd, 1, "", "fallocate: fallocate failed: Operation not supported\n")
                        : CommandRunner.SYSTEM.run(cmd));
        Path swap = dir.resolve("dd-swap");
        SwapArea a = new SwapFiles(noFallocate).create(swap, 8L << 20, OptionalInt.of(3));
        assertThat(a.size()).isEqualTo((8L << 20) - 4096);
        assertThat(Files.size(swap)).isEqualTo(8L << 20);
        new SwapFiles(noFallocate).remove(swap);
        assertThat(swap).doesNotExist();
    }

    @Test
    void aFailedSwaponDeletesTheRealFile() throws Exception {
        Host failingSwapon = new Host(host.procSwaps(), host.procSelfStatus(), host.procMounts(), host.sysBlock(),
                host.dev(), host.zswapParameters(), cmd -> cmd.getFirst().equals("swapon")
                        ? new CommandRunner.Result(cmd, 255, "", "swapon: simulated failure\n")
                        : CommandRunner.SYSTEM.run(cmd));
        Path swap = dir.resolve("undone");
        assertThatThrownBy(() -> new SwapFiles(failingSwapon).create(swap, MI64, OptionalInt.empty()))
                .hasMessageEndingWith("failed (exit 255): swapon: simulated failure");
        assertThat(swap).doesNotExist();
        assertThat(ProcSwaps.find(host.swaps(), swap.toString())).isEmpty();
    }

    @Test
    void twoFilesWithDifferentPrioritiesAreBothListed() throws Exception {
        Path a = dir.resolve("a");
        Path b = dir.resolve("b");
        files.create(a, MI64, OptionalInt.of(1));
        files.create(b, MI64, OptionalInt.of(2));
        List<SwapArea> mine = host.swaps().stream().filter(s -> s.path().startsWith(dir + "/")).toList();
        assertThat(mine).extracting(SwapArea::path, SwapArea::priority)
                .containsExactlyInAnyOrder(org.assertj.core.groups.Tuple.tuple(a.toString(), 1),
                        org.assertj.core.groups.Tuple.tuple(b.toString(), 2));
        files.remove(a);
        files.remove(b);
    }
}
