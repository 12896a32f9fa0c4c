package io.memwarden.runner;

import io.memwarden.kernel.Host;
import io.memwarden.kernel.SwapFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalInt;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Kernel-tier fixture: a 512 MiB swap file of the test's own, under a unique /var/tmp/memwarden-test-* directory,
 * switched on for a test class and removed (with the directory) afterwards, also on failure. Always its own, so a
 * test never depends on swap that someone else may switch off.
 */
public final class TemporarySwap implements BeforeAllCallback, AfterAllCallback {
    private Path dir;
    private Path file;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        dir = Files.createTempDirectory(Path.of("/var/tmp"), "memwarden-test-swap-");
        file = dir.resolve("swapfile");
        new SwapFiles(Host.system()).create(file, 512L << 20, OptionalInt.empty());
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        try {
            if (file != null) {
                new SwapFiles(Host.system()).remove(file);
            }
        } finally {
            if (dir != null) {
                Files.deleteIfExists(file);
                Files.deleteIfExists(dir);
            }
        }
    }
}
