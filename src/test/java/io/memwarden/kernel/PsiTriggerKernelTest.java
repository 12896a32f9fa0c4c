package io.memwarden.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.memwarden.cgroup.HostFacts;
import io.memwarden.cgroup.KernelAssumptions;
import io.memwarden.cgroup.PsiMirror;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * PSI triggers on this kernel (kernel tier). Nothing here creates memory pressure. The host's own
 * /proc/pressure/memory is only registered on: whether it stalls is not ours to assume (reclaim after the unit tier,
 * other processes). The wait that must time out is on an empty cgroup2 group of our own, which cannot stall.
 */
@Tag("kernel")
class PsiTriggerKernelTest {

    @Test
    void registersOnTheHostsMemoryPressure() throws IOException {
        KernelTests.assumeRoot();
        assumeTrue(Files.exists(PsiTrigger.SYSTEM_MEMORY), "no PSI on this kernel");
        PsiTrigger.Spec spec = PsiTrigger.Spec.parse("some 150000 2000000");
        try (PsiTrigger t = PsiTrigger.register(PsiTrigger.SYSTEM_MEMORY, spec)) {
            assertThat(t.spec()).isEqualTo(spec);
            t.await(0); // a poll that does not wait: registered and pollable
        }
    }

    @Test
    void timesOutWhenNothingStalls() throws IOException {
        KernelTests.assumeRoot();
        HostFacts h = KernelAssumptions.requireMemoryCgroup();
        try (PsiMirror empty = PsiMirror.create(h)) {
            assumeTrue(empty != null, "no cgroup2 group of our own with memory.pressure on this host");
            PsiTrigger.Spec spec = PsiTrigger.Spec.parse("some 150000 2000000");
            try (PsiTrigger t = PsiTrigger.register(empty.root().resolve("memory.pressure"), spec)) {
                long t0 = System.nanoTime();
                boolean fired = t.await(300);
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertThat(fired).as("a group without tasks never stalls: the wait ends by its timeout").isFalse();
                assertThat(ms).as("poll waited for its timeout").isGreaterThanOrEqualTo(290L);
            }
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
