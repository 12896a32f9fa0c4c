package io.memwarden.loops;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.control.KsmTuner;
import io.memwarden.control.Ksmtuned;
import io.memwarden.control.KubevirtKsm;
import io.memwarden.kernel.Ksm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** A dry-run loop never changes a file, whatever the node's memory and KSM state do between passes. */
class KsmLoopDryRunPropertiesTest {

    record Step(long totalKb, long availableKb, int run, long pages, long fullScans, long sharing, long unshared) {}

    @Provide
    Arbitrary<List<Step>> steps() {
        return Combinators.combine(Arbitraries.longs().between(1_000, 1L << 30), Arbitraries.integers().between(0, 100),
                Arbitraries.integers().between(0, 2), Arbitraries.longs().between(0, 5000),
                Arbitraries.longs().between(0, 50), Arbitraries.longs().between(0, 100_000),
                Arbitraries.longs().between(0, 10_000_000))
                .as((t, pct, run, pages, scans, sharing, unshared) -> new Step(t, t * pct / 100, run, pages, scans,
                        sharing, unshared))
                .list().ofMinSize(1).ofMaxSize(8);
    }

    @Property(tries = 60)
    void dryRunNeverWrites(@ForAll("steps") List<Step> steps, @ForAll boolean ksmtuned) throws IOException {
        Path tmp = Files.createTempDirectory("memwarden-ksm-prop");
        try {
            Path dir = Files.createDirectories(tmp.resolve("sys/kernel/mm/ksm"));
            Files.createDirectories(tmp.resolve("proc"));
            long[] now = {0};
            KsmLoop loop = new KsmLoop(new Ksm(tmp.resolve("proc"), tmp.resolve("sys")),
                    new KsmTuner(ksmtuned ? new Ksmtuned() : new KubevirtKsm(), KsmTuner.Config.DEFAULTS,
                            () -> now[0]),
                    new KsmLoop.Options(true, true, KsmLoop.Options.DEFAULTS.committed()), () -> now[0]);
            for (Step s : steps) {
                Files.writeString(tmp.resolve("proc/meminfo"), "MemTotal: " + s.totalKb() + " kB\nMemFree: "
                        + s.availableKb() + " kB\nMemAvailable: " + s.availableKb() + " kB\n");
                Map<String, String> files = Map.of("run", "" + s.run(), "pages_to_scan", "" + s.pages(),
                        "sleep_millisecs", "20", "full_scans", "" + s.fullScans(), "pages_shared", "1",
                        "pages_sharing", "" + s.sharing(), "pages_unshared", "" + s.unshared(), "pages_volatile", "0");
                for (var e : files.entrySet()) {
                    Files.writeString(dir.resolve(e.getKey()), e.getValue() + "\n");
                }
                Map<String, String> before = snapshot(dir);
                KsmLoop.Pass p = loop.pass();
                assertThat(p.written()).isEmpty();
                assertThat(snapshot(dir)).isEqualTo(before);
                now[0] += 60_000;
            }
            loop.close();
            assertThat(loop.originals()).isEmpty();
        } finally {
            try (Stream<Path> w = Files.walk(tmp)) {
                w.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static Map<String, String> snapshot(Path dir) throws IOException {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                m.put(p.getFileName().toString(), Files.readString(p));
            }
        }
        return m;
    }
}
