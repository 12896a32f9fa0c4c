package io.memwarden.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code memwarden ksm} over a copy of the fixture node (src/test/resources/ksm/node-a). */
class KsmCommandTest {
    static final Path NODE = Path.of("src/test/resources/ksm/node-a");

    @TempDir
    Path tmp;

    PlanCommandTest.Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(CommandLine.defaultFactory(), new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new PlanCommandTest.Run(code, out.toString(), err.toString());
    }

    Path copy() throws Exception {
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
        return tmp;
    }

    String ksm(String file) throws Exception {
        return Files.readString(tmp.resolve("sys/kernel/mm/ksm/" + file)).strip();
    }

    @Test
    void statusShowsProfitAndKsmdCpu() throws Exception {
        Path n = copy();
        PlanCommandTest.Run r = run("ksm", "status", "-o", "json", "--procfs", n + "/proc", "--sysfs", n + "/sys");
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("\"profitBytes\": 33024768", "\"profitFrom\": \"general_profit\"",
                "\"ksmdCpuSeconds\": 3.8", "\"rmapItems\": 8212");
    }

    @Test
    void statusTableShowsBytesInBinaryUnits() throws Exception {
        Path n = copy();
        PlanCommandTest.Run r = run("ksm", "status", "--procfs", n + "/proc", "--sysfs", n + "/sys");
        assertThat(r.code()).isZero();
        // 33024768 bytes = 31.4949Mi, not a whole multiple of a unit in four digits: rounded, with a decimal point
        assertThat(r.out()).containsPattern("(?m)^profitBytes +31\\.49Mi$").contains("rmapItems        8212");
    }

    @Test
    void tuneOncePrintsTheFiveFieldsAndWrites() throws Exception {
        Path n = copy();
        // under pressure (MemAvailable ≤ 20%): take over the running KSM and boost 400 → 700
        Files.writeString(n.resolve("proc/meminfo"), "MemTotal: 16777216 kB\nMemFree: 1000 kB\n"
                + "MemAvailable: 1048576 kB\n");
        PlanCommandTest.Run r = run("ksm", "tune", "--once", "--take-over", "-o", "json", "--procfs", n + "/proc",
                "--sysfs", n + "/sys");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).startsWith("{\"run\":1,\"pagesToScan\":700,\"sleepMillisecs\":106,\"pressure\":true,"
                + "\"reason\":\"kubevirt: pressure (MemAvailable 1048576 kB <= 20.0% of MemTotal 16777216 kB): boost"
                + " pages_to_scan 400 + 300 = 700, sleep 106 ms\"}");
        assertThat(ksm("pages_to_scan")).isEqualTo("700");
        assertThat(ksm("sleep_millisecs")).isEqualTo("106");
    }

    @Test
    void dryRunAndSomeoneElsesKsmWriteNothing() throws Exception {
        Path n = copy();
        PlanCommandTest.Run r = run("ksm", "tune", "--once", "--policy", "ksmtuned", "--procfs", n + "/proc",
                "--sysfs", n + "/sys");
        assertThat(r.code()).isZero();
        assertThat(r.out()).startsWith("run=0 pages_to_scan=- sleep_millisecs=- pressure=false: ksmtuned: committed"
                + " 2097152 kB").contains("(not written: KSM was running (run=1) before memwarden started");
        assertThat(ksm("run")).isEqualTo("1");
        r = run("ksm", "tune", "--once", "--take-over", "--dry-run", "-o", "json", "--procfs", n + "/proc",
                "--sysfs", n + "/sys");
        assertThat(r.out()).startsWith("{\"run\":1,\"pagesToScan\":350,").contains("(dry run: nothing written)");
        assertThat(ksm("pages_to_scan")).isEqualTo("400");
    }

    @Test
    void usageErrorsNameTheOption() {
        assertThat(run("ksm", "tune", "--once", "--policy", "mom").err())
                .contains("--policy: \"mom\" is not one of kubevirt, ksmtuned");
        PlanCommandTest.Run r = run("ksm", "tune", "--once", "--set", "pages-max=10");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("--set: kubevirt.io/ksm-pages-max-override=10 is out of bounds");
        assertThat(run("ksm", "tune", "--once", "--set", "nope=1").code()).isEqualTo(2);
    }

    @Test
    void noKsmIsARuntimeFailure() {
        PlanCommandTest.Run r = run("ksm", "status", "--procfs", tmp.toString(), "--sysfs", tmp.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).startsWith("memwarden ksm: no KSM on this kernel");
    }
}
