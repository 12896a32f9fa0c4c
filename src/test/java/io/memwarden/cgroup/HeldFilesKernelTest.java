package io.memwarden.cgroup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.memwarden.model.CgroupVersion;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Held cgroup files on a real memory cgroup (below this JVM's own): a read from the start sees a value written
 * meanwhile, and once the cgroup is removed and created again the held file is opened afresh.
 */
@Tag("kernel")
class HeldFilesKernelTest {
    @Test
    void aHeldCgroupFileFollowsWritesAndRemoval() throws IOException {
        HostFacts h = KernelAssumptions.requireMemoryCgroup();
        boolean v1 = h.memoryController() == CgroupVersion.V1;
        String limitFile = v1 ? "memory.limit_in_bytes" : "memory.max";
        try (CgroupTree tree = KernelAssumptions.newTree(h); HeldFiles held = new HeldFiles()) {
            Path cg = tree.mkdirs("held");
            Files.writeString(cg.resolve(limitFile), Long.toString(64L << 20), StandardOpenOption.WRITE);
            assertThat(MemoryUsage.lazy(cg, h.memoryController(), held).limitBytes()).isEqualTo(64L << 20);
            Files.writeString(cg.resolve(limitFile), Long.toString(128L << 20), StandardOpenOption.WRITE);
            assertThat(MemoryUsage.lazy(cg, h.memoryController(), held).limitBytes()).isEqualTo(128L << 20);
            assertThat(held.size()).isOne();

            Files.delete(cg); // rmdir while the file is held open: the kernel lets it go
            assertThat(Files.exists(cg)).isFalse();
            assertThatThrownBy(() -> MemoryUsage.lazy(cg, h.memoryController(), held).limitBytes())
                    .isInstanceOf(java.io.UncheckedIOException.class);
            assertThat(held.size()).isZero();

            Path again = tree.mkdirs("held");
            Files.writeString(again.resolve(limitFile), Long.toString(32L << 20), StandardOpenOption.WRITE);
            assertThat(MemoryUsage.lazy(again, h.memoryController(), held).limitBytes()).isEqualTo(32L << 20);
        }
    }
}
