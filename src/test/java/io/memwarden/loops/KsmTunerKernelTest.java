package io.memwarden.loops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.memwarden.cgroup.CgroupTree;
import io.memwarden.cgroup.HostFacts;
import io.memwarden.cgroup.KernelAssumptions;
import io.memwarden.control.KsmDecision;
import io.memwarden.control.KsmTuner;
import io.memwarden.control.KubevirtKsm;
import io.memwarden.kernel.Ksm;
import io.memwarden.kernel.KsmCounters;
import io.memwarden.kernel.ProcessKsm;
import io.memwarden.model.Clock;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The KSM tuner on this machine's kernel. Two helper processes of the test (one opted in by madvise, one by prctl)
 * hold the same 32 MiB in a memory cgroup of the test's own. The pressure is confined to the tuner's view: its
 * procfs is a directory of the test's with a meminfo whose MemAvailable is 10 % of the real MemTotal (then the real
 * meminfo), and a link to ksmd's /proc entry; sysfs is the real one. KSM settings are machine-wide: the test runs
 * only when KSM is unused (run=0, nothing merged), records every tuned value first and restores them in
 * {@link #restore} whatever happens (with run=2 first, which removes the ended helpers' merges and rmap items).
 */
@Tag("kernel")
class KsmTunerKernelTest {
    static final int MIB = 32;
    static final long PAGES = MIB * 256L;
    static final Path KSM_DIR = Path.of("/sys/kernel/mm/ksm");

    final Ksm real = Ksm.system();
    final Map<String, String> recorded = new LinkedHashMap<>();
    final List<Process> helpers = new ArrayList<>();
    CgroupTree tree;
    Path procfs;

    @BeforeEach
    void setUp() throws Exception {
        HostFacts h = KernelAssumptions.requireMemoryCgroup();
        assumeTrue(real.available(), "no KSM on this kernel");
        KsmCounters c = real.read();
        assumeTrue(c.run() == 0 && c.pagesSharing() == 0, "KSM is in use (run=" + c.run() + ", pages_sharing="
                + c.pagesSharing() + "): someone else's; KSM kernel test skipped");
        assumeTrue(!c.advisorMode().equals("scan-time"), "the KSM advisor is on; KSM kernel test skipped");
        for (String f : List.of("run", "pages_to_scan", "sleep_millisecs")) {
            recorded.put(f, c.raw().get(f));
        }
        tree = KernelAssumptions.newTree(h);
        procfs = Files.createTempDirectory("memwarden-ksm-procfs");
    }

    @AfterEach
    void restore() throws Exception {
        Throwable first = null;
        for (Process p : helpers) {
            p.destroyForcibly();
            p.waitFor();
        }
        // KSM was stopped with nothing merged before the test: what is merged now is the helpers' (gone), and run=0
        // would keep their stale rmap items and counters; run=2 removes them, then run goes back to the recorded 0
        if ("0".equals(recorded.get("run"))) {
            try {
                Files.writeString(KSM_DIR.resolve("run"), "2\n");
            } catch (IOException e) {
                first = e;
            }
        }
        // settings first, run last; every value written back even if one fails
        for (String f : List.of("pages_to_scan", "sleep_millisecs", "run")) {
            String v = recorded.get(f);
            if (v == null) {
                continue;
            }
            try {
                Files.writeString(KSM_DIR.resolve(f), v + "\n");
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        if (tree != null) {
            tree.killAll(Duration.ofSeconds(5));
            tree.close();
        }
        if (procfs != null) {
            try (var s = Files.list(procfs)) {
                for (Path p : s.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(procfs);
        }
        for (var e : recorded.entrySet()) {
            assertThat(Files.readString(KSM_DIR.resolve(e.getKey())).strip()).as(e.getKey()).isEqualTo(e.getValue());
        }
        if ("0".equals(recorded.get("run"))) {
            assertThat(real.read().pagesSharing()).as("pages_sharing after clean-up").isZero();
        }
        if (first != null) {
            throw new AssertionError("restoring KSM settings", first);
        }
    }

    Process helper(String how) throws Exception {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx32m", "-XX:+UseSerialGC", "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), KsmMergeableHelper.class.getName(), how, Integer.toString(MIB))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        helpers.add(p);
        tree.enter(tree.root(), p.pid());
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        assertThat(r.readLine()).isEqualTo("ready");
        return p;
    }

    /** The tuner's procfs: meminfo of the test's choosing, ksmd's real /proc entry. */
    void meminfo(boolean pressure) throws IOException {
        Map<String, Long> m = real.meminfo();
        long total = m.get("MemTotal");
        long available = pressure ? total / 10 : m.get("MemAvailable");
        Files.writeString(procfs.resolve("meminfo"), "MemTotal: " + total + " kB\nMemFree: " + available
                + " kB\nMemAvailable: " + available + " kB\n");
    }

    @Test
    void startsUnderPressureMergesMeasurablyThenStopsAndRestores() throws Exception {
        int ksmd = real.ksmdPid();
        assertThat(ksmd).isPositive();
        Files.createSymbolicLink(procfs.resolve(Integer.toString(ksmd)), Path.of("/proc/" + ksmd));
        Process a = helper("madvise");
        Process b = helper("prctl");
        assertThat(real.process((int) b.pid()).mergeAny()).isTrue();
        assertThat(real.process((int) a.pid()).mergeable()).isTrue();

        KsmLoop loop = new KsmLoop(new Ksm(procfs, Path.of("/sys")), new KsmTuner(new KubevirtKsm(),
                KsmTuner.Config.DEFAULTS, Clock.SYSTEM), KsmLoop.Options.DEFAULTS, Clock.SYSTEM);
        try {
            meminfo(true);
            double cpu0 = real.cpuSeconds(ksmd);
            long t0 = System.nanoTime();
            KsmLoop.Pass p = loop.pass();
            assertThat(p.decision().run()).isEqualTo(1);
            assertThat(p.decision().pagesToScan()).isEqualTo(100);
            assertThat(p.written()).contains("run=1");
            List<Long> pages = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            KsmCounters c;
            do {
                Thread.sleep(1000);
                p = loop.pass();
                pages.add(p.decision().pagesToScan());
                c = p.counters();
            } while (c.pagesSharing() < PAGES * 9 / 10 && System.nanoTime() < deadline);
            double seconds = (System.nanoTime() - t0) / 1e9;
            double cpu = real.cpuSeconds(ksmd) - cpu0;
            ProcessKsm pa = real.process((int) a.pid());
            ProcessKsm pb = real.process((int) b.pid());
            String measured = String.format(Locale.ROOT, "KSM measured: pages_sharing %d (%.1f MiB saved),"
                    + " pages_shared %d, rmap items %d, general_profit %d bytes (%.1f MiB), formula %d; helper madvise"
                    + " merging %d profit %d, helper prctl merging %d profit %d rmap %d; ksmd CPU %.2f s in %.1f s"
                    + " (%.1f%%); full_scans %d; pages_to_scan by pass %s", c.pagesSharing(),
                    c.savedBytes() / 1048576.0, c.pagesShared(), c.rmapItems(), c.generalProfit(),
                    c.profitBytes() / 1048576.0, c.savedBytes() - c.metadataBytes(), pa.mergingPages(),
                    pa.profitBytes(), pb.mergingPages(), pb.profitBytes(), pb.rmapItems(), cpu, seconds,
                    cpu * 100 / seconds, c.fullScans(), pages);
            System.out.println(measured);
            Files.writeString(Path.of("target/ksm-kernel-measured.txt"), measured + "\n");
            assertThat(c.pagesSharing()).isGreaterThanOrEqualTo(PAGES * 9 / 10);
            assertThat(c.profitBytes()).isGreaterThan(PAGES * 4096 * 8 / 10);
            assertThat(pa.mergingPages() + pb.mergingPages()).isGreaterThanOrEqualTo(PAGES * 9 / 10);
            assertThat(pages).isSorted();
            assertThat(pages.getLast()).isLessThanOrEqualTo(1250);

            // pressure ends: decay by 50 a pass, then stop
            meminfo(false);
            List<Long> decay = new ArrayList<>();
            KsmDecision d;
            int passes = 0;
            do {
                d = loop.pass().decision();
                decay.add(d.pagesToScan());
                passes++;
            } while (d.run() == 1 && passes < 40);
            assertThat(d.run()).isZero();
            assertThat(d.reason()).contains("below the minimum 64: stop");
            assertThat(real.read().run()).isZero();
            assertThat(decay.subList(0, decay.size() - 1)).isSortedAccordingTo((x, y) -> Long.compare(y, x));
        } finally {
            loop.close();
        }
        // restored to the recorded values by the loop itself
        KsmCounters after = real.read();
        assertThat(Long.toString(after.pagesToScan())).isEqualTo(recorded.get("pages_to_scan"));
        assertThat(Long.toString(after.sleepMillisecs())).isEqualTo(recorded.get("sleep_millisecs"));
        assertThat(Integer.toString(after.run())).isEqualTo(recorded.get("run"));
    }
}
