package io.memwarden.cgroup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.memwarden.model.CgroupVersion;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Files kept open between rounds: every read sees the file's text now; the files of gone cgroups are closed. */
class HeldFilesTest {
    @TempDir
    Path dir;

    @Test
    void aHeldFileIsReadAfreshFromItsStart() throws IOException {
        Path a = Files.createDirectories(dir.resolve("a"));
        Path limit = Files.writeString(a.resolve("memory.limit_in_bytes"), "1048576\n");
        try (HeldFiles held = new HeldFiles()) {
            assertThat(held.read(limit).toString()).isEqualTo("1048576\n");
            Files.writeString(limit, "2097152\n"); // shorter or longer, the whole text is read again
            assertThat(held.read(limit).toString()).isEqualTo("2097152\n");
            Files.writeString(limit, "9223372036854771712\n");
            assertThat(held.read(limit).toString()).isEqualTo("9223372036854771712\n");
            Files.writeString(limit, "1\n");
            assertThat(held.read(limit).toString()).isEqualTo("1\n");
            assertThat(held.size()).isOne();
        }
    }

    @Test
    void aMissingFileIsNotHeldAndTheFilesOfGoneCgroupsAreClosed() throws IOException {
        Path a = Files.createDirectories(dir.resolve("a"));
        Path b = Files.createDirectories(dir.resolve("b"));
        Files.writeString(a.resolve("memory.failcnt"), "3\n");
        Files.writeString(b.resolve("memory.failcnt"), "4\n");
        try (HeldFiles held = new HeldFiles()) {
            assertThatThrownBy(() -> held.read(a.resolve("memory.memsw.failcnt")))
                    .isInstanceOf(NoSuchFileException.class);
            held.read(a.resolve("memory.failcnt"));
            held.read(b.resolve("memory.failcnt"));
            assertThat(held.size()).isEqualTo(2);
            held.retainCgroups(Set.of(b));
            assertThat(held.size()).isOne();
            assertThat(held.read(b.resolve("memory.failcnt")).toString()).isEqualTo("4\n");
            assertThat(held.read(a.resolve("memory.failcnt")).toString()).isEqualTo("3\n"); // opened again
            held.close();
            assertThat(held.size()).isZero();
        }
    }

    @Test
    void theLazyViewReadsThroughHeldFiles() throws IOException {
        Path a = Files.createDirectories(dir.resolve("a"));
        Files.writeString(a.resolve("memory.limit_in_bytes"), "4096\n");
        Files.writeString(a.resolve("memory.failcnt"), "5\n");
        try (HeldFiles held = new HeldFiles()) {
            MemoryUsage u = MemoryUsage.lazy(a, CgroupVersion.V1, held);
            assertThat(u.limitBytes()).isEqualTo(4096);
            assertThat(u.event("failcnt")).isEqualTo(5);
            assertThat(held.size()).isEqualTo(2);
            Files.writeString(a.resolve("memory.failcnt"), "6\n");
            assertThat(MemoryUsage.lazy(a, CgroupVersion.V1, held).event("failcnt")).isEqualTo(6);
        }
    }

    @Test
    void pastItsCapAFileIsReadWithoutBeingHeld() throws IOException {
        Path a = Files.createDirectories(dir.resolve("a"));
        Path one = Files.writeString(a.resolve("memory.failcnt"), "1\n");
        Path two = Files.writeString(a.resolve("memory.usage_in_bytes"), "2\n");
        try (HeldFiles held = new HeldFiles(1)) {
            assertThat(held.read(one).toString()).isEqualTo("1\n");
            assertThat(held.read(two).toString()).isEqualTo("2\n");
            assertThat(held.size()).isOne();
            Files.writeString(two, "22\n");
            assertThat(held.read(two).toString()).isEqualTo("22\n");
        }
        assertThat(HeldFiles.openFileLimit()).isPositive();
        assertThat(new HeldFiles().size()).isZero();
    }
}
