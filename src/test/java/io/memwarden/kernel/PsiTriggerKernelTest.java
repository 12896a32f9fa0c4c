package io.memwarden.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A PSI trigger on this host's /proc/pressure/memory (kernel tier). Nothing here creates memory pressure: the
 * trigger is only registered and waited on while the host is quiet.
 */
@Tag("kernel")
class PsiTriggerKernelTest {

    @Test
    void registersAndTimesOutWhenNothingStalls() throws IOException {
        KernelTests.assumeRoot();
        assumeTrue(Files.exists(PsiTrigger.SYSTEM_MEMORY), "no PSI on this kernel");
        PsiTrigger.Spec spec = PsiTrigger.Spec.parse("some 150000 2000000");
        try (PsiTrigger t = PsiTrigger.register(PsiTrigger.SYSTEM_MEMORY, spec)) {
            long t0 = System.nanoTime();
            boolean fired = t.await(300);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertThat(fired).as("no memory stall on a quiet host: the wait ends by its timeout").isFalse();
            assertThat(ms).as("poll waited for its timeout").isGreaterThanOrEqualTo(290L);
            assertThat(t.spec()).isEqualTo(spec);
        }
    }

    @Test
    void aMissingFileIsNamedInTheError() {
        Path missing = Path.of("/proc/pressure/memwarden-no-such-file");
        assertThatThrownBy(() -> PsiTrigger.register(missing, PsiTrigger.Spec.parse("some 150000 2000000")))
                .isInstanceOf(IOException.class).hasMessageContaining(missing.toString())
                .hasMessageContaining("some 150000 2000000").hasMessageContaining("ENOENT");
    }

    @Test
    void awaitAfterCloseIsAnError() throws IOException {
        KernelTests.assumeRoot();
        assumeTrue(Files.exists(PsiTrigger.SYSTEM_MEMORY), "no PSI on this kernel");
        PsiTrigger t = PsiTrigger.register(PsiTrigger.SYSTEM_MEMORY, PsiTrigger.Spec.parse("full 100000 4000000"));
        t.close();
        t.close();
        assertThatThrownBy(() -> t.await(10)).hasMessageContaining("closed");
    }
}
