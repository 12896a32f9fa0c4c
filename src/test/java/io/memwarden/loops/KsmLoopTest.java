package io.memwarden.loops;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.control.KsmTuner;
import io.memwarden.control.KubevirtKsm;
import io.memwarden.kernel.Ksm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link KsmLoop}'s ownership over a fake KSM directory (plain files) and a fake meminfo. */
class KsmLoopTest {
    @TempDir
    Path tmp;
    long[] now = {0};

    Ksm node(int run, long pages, long sleep, long totalKb, long availableKb) throws IOException {
        Path ksm = Files.createDirectories(tmp.resolve("sys/kernel/mm/ksm"));
        set("run", run);
        set("pages_to_scan", pages);
        set("sleep_millisecs", sleep);
        for (String f : new String[] {"pages_shared", "pages_sharing", "pages_unshared", "pages_volatile",
            "full_scans"}) {
            Files.writeString(ksm.resolve(f), "0\n");
        }
        Files.writeString(ksm.resolve("advisor_mode"), "[none] scan-time\n");
        meminfo(totalKb, availableKb);
        return new Ksm(Files.createDirectories(tmp.resolve("proc")), tmp.resolve("sys"));
    }

    void meminfo(long totalKb, long availableKb) throws IOException {
        Files.createDirectories(tmp.resolve("proc"));
        Files.writeString(tmp.resolve("proc/meminfo"), "MemTotal: " + totalKb + " kB\nMemFree: " + availableKb
                + " kB\nMemAvailable: " + availableKb + " kB\n");
    }

    void set(String file, long v) throws IOException {
        Files.writeString(tmp.resolve("sys/kernel/mm/ksm/" + file), v + "\n");
    }

    long get(String file) throws IOException {
        return Long.parseLong(Files.readString(tmp.resolve("sys/kernel/mm/ksm/" + file)).strip());
    }

    KsmLoop loop(Ksm ksm, boolean dryRun, boolean takeOver) {
        return new KsmLoop(ksm, new KsmTuner(new KubevirtKsm(), KsmTuner.Config.DEFAULTS, () -> now[0]),
                new KsmLoop.Options(dryRun, takeOver, KsmLoop.Options.DEFAULTS.committed()), () -> now[0]);
    }

    @Test
    void startsUnderPressureThenStopsAndRestoresWhatItChanged() throws Exception {
        Ksm ksm = node(0, 100, 20, 16_777_216, 1_000_000); // 16 GiB, pressure
        KsmLoop loop = loop(ksm, false, false);
        KsmLoop.Pass p = loop.pass();
        // 100 × 16 777 216 / 15 777 216 = 106; pages_to_scan already 100 (unchanged, not written)
        assertThat(p.written()).containsExactly("sleep_millisecs=106", "run=1");
        assertThat(p.observeOnly()).isNull();
        assertThat(loop.originals()).containsEntry("run", 0L).containsEntry("sleep_millisecs", 20L)
                .doesNotContainKey("pages_to_scan");
        assertThat(loop.pass().written()).containsExactly("pages_to_scan=400");
        meminfo(16_777_216, 10_000_000); // pressure ends
        assertThat(loop.pass().written()).containsExactly("sleep_millisecs=247", "pages_to_scan=350");
        loop.close();
        assertThat(get("run")).isZero();
        assertThat(get("pages_to_scan")).isEqualTo(100);
        assertThat(get("sleep_millisecs")).isEqualTo(20);
    }

    @Test
    void ksmRunningBeforeMemwardenIsSomeoneElsesUnlessTakenOver() throws Exception {
        Ksm ksm = node(1, 500, 20, 16_777_216, 1_000_000);
        KsmLoop loop = loop(ksm, false, false);
        KsmLoop.Pass p = loop.pass();
        assertThat(p.written()).isEmpty();
        assertThat(p.decision().pagesToScan()).isEqualTo(800); // still decided, for the status
        assertThat(p.observeOnly()).startsWith("KSM was running (run=1) before memwarden started");
        meminfo(16_777_216, 10_000_000);
        assertThat(loop.pass().written()).isEmpty();
        loop.close();
        assertThat(get("run")).isEqualTo(1);
        assertThat(get("pages_to_scan")).isEqualTo(500);

        KsmLoop taken = loop(ksm, false, true);
        assertThat(taken.pass().written()).containsExactly("sleep_millisecs=247", "pages_to_scan=450");
        taken.close();
        assertThat(get("pages_to_scan")).isEqualTo(500);
        assertThat(get("sleep_millisecs")).isEqualTo(20);
    }

    @Test
    void aValueSomeoneElseChangedEndsTuningAndIsNotRestored() throws Exception {
        Ksm ksm = node(0, 100, 20, 16_777_216, 1_000_000);
        KsmLoop loop = loop(ksm, false, false);
        loop.pass();
        set("pages_to_scan", 5000); // virt-handler, say
        KsmLoop.Pass p = loop.pass();
        assertThat(p.written()).isEmpty();
        assertThat(p.observeOnly()).isEqualTo("pages_to_scan reads 5000 but memwarden wrote 100: someone else"
                + " tunes KSM; memwarden stops writing and will not restore");
        loop.close();
        assertThat(get("run")).isEqualTo(1);
        assertThat(get("pages_to_scan")).isEqualTo(5000);
    }

    @Test
    void dryRunWritesNothing() throws Exception {
        Ksm ksm = node(0, 100, 20, 16_777_216, 1_000_000);
        KsmLoop loop = loop(ksm, true, false);
        KsmLoop.Pass p = loop.pass();
        assertThat(p.decision().run()).isEqualTo(1);
        assertThat(p.written()).isEmpty();
        loop.close();
        assertThat(get("run")).isZero();
        assertThat(get("sleep_millisecs")).isEqualTo(20);
    }

    @Test
    void theAdvisorOwnsPagesToScan() throws Exception {
        Ksm ksm = node(0, 100, 20, 16_777_216, 1_000_000);
        Files.writeString(tmp.resolve("sys/kernel/mm/ksm/advisor_mode"), "none [scan-time]\n");
        KsmLoop loop = loop(ksm, false, false);
        assertThat(loop.pass().observeOnly()).startsWith("the KSM advisor (advisor_mode scan-time)");
        assertThat(get("run")).isZero();
    }
}
