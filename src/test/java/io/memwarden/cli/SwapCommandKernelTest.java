package io.memwarden.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.memwarden.kernel.KernelTests;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** {@code memwarden swap} end to end on this machine's kernel. */
@Tag("kernel")
class SwapCommandKernelTest {
    Path dir;
    boolean zramMine;

    @BeforeEach
    void setUp() throws Exception {
        KernelTests.assumeRoot();
        dir = KernelTests.tempDir();
    }

    @AfterEach
    void cleanUp() throws Exception {
        try {
            if (zramMine) {
                KernelTests.resetZram0();
            }
        } finally {
            KernelTests.cleanUp(dir);
        }
    }

    static PlanCommandTest.Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new PlanCommandTest.Run(code, out.toString(), err.toString());
    }

    JsonNode status() {
        PlanCommandTest.Run s = run("swap", "status", "-o", "json");
        assertThat(s.code()).as(s.err()).isZero();
        return JsonMapper.builder().build().readTree(s.out());
    }

    JsonNode area(JsonNode status, String path) {
        for (JsonNode a : status.get("swaps")) {
            if (a.get("path").asString().equals(path)) {
                return a;
            }
        }
        return null;
    }

    @Test
    void fileCreateStatusRemove() {
        String swap = dir.resolve("cli swap").toString();
        PlanCommandTest.Run c = run("swap", "file", "create", swap, "--size", "64Mi", "--priority", "9");
        assertThat(c.code()).as(c.err()).isZero();
        JsonNode a = area(status(), swap);
        assertThat(a).isNotNull();
        assertThat(a.get("type").asString()).isEqualTo("file");
        assertThat(a.get("priority").asInt()).isEqualTo(9);
        assertThat(a.get("sizeBytes").asLong()).isEqualTo((64L << 20) - 4096);
        assertThat(run("swap", "status").out()).contains(swap);

        PlanCommandTest.Run again = run("swap", "file", "create", swap, "--size", "64Mi");
        assertThat(again.code()).isEqualTo(2);
        PlanCommandTest.Run rm = run("swap", "file", "remove", swap);
        assertThat(rm.code()).as(rm.err()).isZero();
        assertThat(area(status(), swap)).isNull();
        assertThat(Path.of(swap)).doesNotExist();
    }

    @Test
    void zramSetupStatusReset() throws Exception {
        String busy = KernelTests.zram0Busy();
        assumeTrue(busy == null, () -> busy + "; skipped");
        PlanCommandTest.Run s = run("swap", "zram", "setup", "--size", "64Mi");
        assertThat(s.code()).as(s.err()).isZero();
        zramMine = true;
        JsonNode st = status();
        assertThat(area(st, "/dev/zram0").get("priority").asInt()).isEqualTo(100);
        JsonNode z = st.get("zram").get(0);
        assertThat(z.get("device").asString()).isEqualTo("zram0");
        assertThat(z.get("swap").asBoolean()).isTrue();
        assertThat(z.get("disksizeBytes").asLong()).isEqualTo(64L << 20);
        PlanCommandTest.Run busyRun = run("swap", "zram", "setup", "--size", "64Mi");
        assertThat(busyRun.code()).isEqualTo(1);
        assertThat(busyRun.err()).startsWith("memwarden swap: zram0 is busy: active swap");
        PlanCommandTest.Run r = run("swap", "zram", "reset");
        assertThat(r.code()).as(r.err()).isZero();
        zramMine = false;
        assertThat(Files.readString(Path.of("/sys/block/zram0/disksize")).strip()).isEqualTo("0");
    }
}
