package io.memwarden.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link KernelLogFile}: reasons in words, the binary probe's reach, lines numbered as an editor numbers them. */
class KernelLogFileTest {

    @TempDir
    Path dir;

    @Test
    void anUnreadableFileIsNamedAsSuch() {
        // as root every file is readable: the reason for EACCES is checked where it is written
        assertThat(KernelLogFile.openFailure(new AccessDeniedException("/x")))
                .isEqualTo("permission denied (not readable by this user)");
    }

    @Test
    void aNulByteAfterTheProbeIsOneBadLineNotABinaryFile() throws IOException {
        Path f = dir.resolve("kern.log");
        String text = "6,1,1,-;" + "a".repeat(KernelLogFile.BINARY_PROBE_BYTES) + "\n";
        Files.write(f, (text + "6,2,2,-;b\0c\n6,3,3,-;ok\n").getBytes());
        try (KernelLogFile in = KernelLogFile.open(f)) {
            assertThat(in.next().line()).isInstanceOf(KmsgRecord.class);
            KmsgEntry bad = in.next();
            assertThat(bad.number()).isEqualTo(2);
            assertThat(((BadKmsgRecord) bad.line()).describe()).isEqualTo(
                    "text \"6,2,2,-;b\\x00c\": a NUL byte at byte 10: binary data, not text");
            assertThat(in.next()).satisfies(e -> {
                assertThat(e.number()).isEqualTo(3);
                assertThat(((KmsgRecord) e.line()).message()).isEqualTo("ok");
            });
            assertThat(in.next()).isNull();
        }
    }

    @Test
    void blankAndContinuationLinesAreCountedButNotReturned() throws IOException {
        Path f = dir.resolve("kern.log");
        Files.writeString(f, "\r\n6,1,1,-;a\r\n SUBSYSTEM=memory\n\n6,2,2,-;b");
        try (KernelLogFile in = KernelLogFile.open(f)) {
            assertThat(in.next().number()).isEqualTo(2);
            KmsgEntry b = in.next();
            assertThat(b.number()).isEqualTo(5);
            assertThat(((KmsgRecord) b.line()).message()).isEqualTo("b");
            assertThat(in.next()).isNull();
        }
    }
}
