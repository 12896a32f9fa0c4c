package io.memwarden.kernel;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Shared set-up and clean-up of the kernel tier: root is assumed (tests are skipped otherwise), swap files live only
 * in a fresh {@code /var/tmp/memwarden-test-*} directory, and clean-up turns off every swap area under that
 * directory and deletes it, whatever the test did.
 */
public final class KernelTests {
    private KernelTests() {}

    public static final Path VAR_TMP = Path.of("/var/tmp");
    public static final String PREFIX = "memwarden-test-";

    public static void assumeRoot() throws IOException {
        int uid = Host.system().effectiveUid();
        assumeTrue(uid == 0, "kernel tests need root (effective uid is " + uid + "); skipped");
    }

    /** A new, empty, uniquely named directory under /var/tmp. */
    public static Path tempDir() throws IOException {
        return Files.createTempDirectory(VAR_TMP, PREFIX).toRealPath();
    }

    /**
     * Turns off every active swap area inside {@code dir} and deletes {@code dir}. Collects failures and throws the
     * first at the end, after trying everything.
     */
    public static void cleanUp(Path dir) throws IOException {
        if (dir == null || !dir.getFileName().toString().startsWith(PREFIX)) {
            return;
        }
        List<Exception> failures = new ArrayList<>();
        String prefix = dir + "/";
        for (SwapArea a : ProcSwaps.read(ProcSwaps.PATH)) {
            if (a.path().startsWith(prefix)) {
                CommandRunner.Result r = CommandRunner.SYSTEM.run(List.of("swapoff", a.path()));
                if (!r.ok()) {
                    failures.add(new IOException("clean-up: swapoff " + a.path() + ": " + r.stderr().strip()));
                }
            }
        }
        if (Files.exists(dir)) {
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    try {
                        Files.deleteIfExists(p);
                    } catch (IOException e) {
                        failures.add(e);
                    }
                }
            }
        }
        if (!failures.isEmpty()) {
            IOException e = new IOException("kernel test clean-up of " + dir + " failed", failures.getFirst());
            failures.stream().skip(1).forEach(e::addSuppressed);
            throw e;
        }
    }

    /** True when zram0 exists, has disksize 0 and is not swap: the only state in which the tests may use it. */
    public static String zram0Busy() throws IOException {
        Path dir = Path.of("/sys/block/zram0");
        if (!Files.isDirectory(dir)) {
            return "no /sys/block/zram0";
        }
        String size = Files.readString(dir.resolve("disksize")).strip();
        boolean swap = ProcSwaps.find(ProcSwaps.read(ProcSwaps.PATH), "/dev/zram0").isPresent();
        if (!size.equals("0") || swap) {
            return "zram0 is in use (disksize " + size + (swap ? ", active swap" : "") + "); not touching it";
        }
        return null;
    }

    /** Undoes whatever a test did to zram0: swapoff if it is swap, then reset. */
    public static void resetZram0() throws IOException {
        if (ProcSwaps.find(ProcSwaps.read(ProcSwaps.PATH), "/dev/zram0").isPresent()) {
            CommandRunner.Result r = CommandRunner.SYSTEM.run(List.of("swapoff", "/dev/zram0"));
            if (!r.ok()) {
                throw new IOException("clean-up: swapoff /dev/zram0: " + r.stderr().strip());
            }
        }
        Files.writeString(Path.of("/sys/block/zram0/reset"), "1");
    }
}
