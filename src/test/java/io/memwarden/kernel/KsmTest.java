package io.memwarden.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.memwarden.control.Ksmtuned;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Ksm} over the fixture node (src/test/resources/ksm/node-a: the build machine's KSM files mid-merge). */
class KsmTest {
    static final Path NODE = Path.of("src/test/resources/ksm/node-a");
    final Ksm ksm = new Ksm(NODE.resolve("proc"), NODE.resolve("sys"));

    @Test
    void readsCountersSettingsAndProfit() throws Exception {
        KsmCounters c = ksm.read();
        assertThat(c.run()).isEqualTo(1);
        assertThat(c.pagesToScan()).isEqualTo(400);
        assertThat(c.sleepMillisecs()).isEqualTo(20);
        assertThat(c.pagesShared()).isEqualTo(1);
        assertThat(c.pagesSharing()).isEqualTo(8191);
        assertThat(c.fullScans()).isEqualTo(3);
        assertThat(c.zeroPages()).isZero();
        assertThat(c.advisorMode()).isEqualTo("none");
        assertThat(c.rmapItems()).isEqualTo(8212);
        // the kernel's general_profit and the formula agree: 8191 × 4096 − 8212 × 64
        assertThat(c.generalProfit()).isEqualTo(8191L * 4096 - 8212L * 64);
        assertThat(c.profitBytes()).isEqualTo(c.savedBytes() - c.metadataBytes());
        assertThat(c.raw()).containsEntry("max_page_sharing", "256").containsEntry("advisor_mode", "[none] scan-time");
    }

    @Test
    void withoutGeneralProfitTheFormulaIsUsed(@TempDir Path tmp) throws Exception {
        Ksm copy = copy(tmp);
        Files.delete(copy.dir().resolve("general_profit"));
        Files.delete(copy.dir().resolve("ksm_zero_pages"));
        KsmCounters c = copy.read();
        assertThat(c.generalProfit()).isEqualTo(Long.MIN_VALUE);
        assertThat(c.zeroPages()).isEqualTo(-1);
        assertThat(c.profitBytes()).isEqualTo(8191L * 4096 - 8212L * 64);
    }

    @Test
    void processKsmStat() throws Exception {
        ProcessKsm p = ksm.process(4242);
        assertThat(p).isEqualTo(new ProcessKsm(4242, 8200, 0, 8191, 8191L * 4096 - 8200L * 64, false, true));
    }

    @Test
    void ksmdCpuFromItsStat() throws Exception {
        assertThat(ksm.ksmdPid()).isEqualTo(39);
        assertThat(ksm.cpuSeconds(39)).isEqualTo(3.8); // utime 250 + stime 130 ticks at USER_HZ 100
        assertThat(Ksm.cpuTicks("7 (a) b) c) R 1 2 3 4 5 6 7 8 9 10 20 22 0")).isEqualTo(42);
        assertThatThrownBy(() -> Ksm.cpuTicks("7 (x) R 1")).isInstanceOf(IOException.class);
    }

    @Test
    void meminfoAndCommittedRss() throws Exception {
        assertThat(ksm.meminfo()).containsEntry("MemTotal", 24_683_772L).containsEntry("MemAvailable", 21_538_492L)
                .containsEntry("Cached", 2_511_060L);
        assertThat(ksm.rssKb(Ksmtuned.QEMU)).isEqualTo(2_097_152);
    }

    @Test
    void writeReadsBackAndRefusesUntunedFiles(@TempDir Path tmp) throws Exception {
        Ksm copy = copy(tmp);
        copy.write("pages_to_scan", 700);
        assertThat(copy.read().pagesToScan()).isEqualTo(700);
        assertThatThrownBy(() -> copy.write("merge_across_nodes", 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void noKsmIsAnErrorNamingTheDirectory(@TempDir Path tmp) {
        Ksm none = new Ksm(tmp, tmp);
        assertThat(none.available()).isFalse();
        assertThatThrownBy(none::read).isInstanceOf(IOException.class).hasMessageContaining("no KSM on this kernel")
                .hasMessageContaining("kernel/mm/ksm");
    }

    /** A writable copy of the fixture node. */
    static Ksm copy(Path tmp) throws IOException {
        try (Stream<Path> s = Files.walk(NODE)) {
            for (Path p : s.toList()) {
                Path to = tmp.resolve(NODE.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(p, to);
                }
            }
        }
        return new Ksm(tmp.resolve("proc"), tmp.resolve("sys"));
    }
}
