package io.memwarden.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ZswapTest {

    @Test
    void readsTheParameters(@TempDir Path dir) throws Exception {
        FakeKernel k = new FakeKernel(dir);
        Zswap.Status s = Zswap.read(k.host().zswapParameters()).orElseThrow();
        assertThat(s.enabled()).isFalse();
        assertThat(s.compressor()).isEqualTo("lzo");
        assertThat(s.maxPoolPercent()).isEqualTo(20);
        assertThat(s.parameters()).containsEntry("accept_threshold_percent", "90").hasSize(4);
        Files.writeString(k.host().zswapParameters().resolve("enabled"), "Y\n");
        assertThat(Zswap.read(k.host().zswapParameters()).orElseThrow().enabled()).isTrue();
    }

    @Test
    void absentWhenNotBuilt(@TempDir Path dir) throws Exception {
        assertThat(Zswap.read(dir.resolve("nope"))).isEmpty();
    }
}
