package io.memwarden.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.kernel.FakeKernel;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code memwarden swap} against a fake kernel (temp-dir /proc and /sys, fake tools): output, exit codes and
 * error messages. The real kernel is exercised by the kernel tier (io.memwarden.kernel.*KernelTest).
 */
class SwapCommandTest {

    @TempDir
    Path dir;
    FakeKernel k;

    @BeforeEach
    void setUp() throws IOException {
        k = new FakeKernel(dir.resolve("root"));
    }

    PlanCommandTest.Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine.IFactory factory = new CommandLine.IFactory() {
            @Override
            public <K> K create(Class<K> cls) throws Exception {
                return cls == SwapCommand.class ? cls.cast(new SwapCommand(k.host())) : CommandLine.defaultFactory().create(cls);
            }
        };
        int code = Main.run(factory, new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new PlanCommandTest.Run(code, out.toString(), err.toString());
    }

    void busyNode() {
        k.addSwap("/swap/my swap", "file", 4194300, 12, -2);
        k.addSwap("/dev/zram0", "partition", 262140, 148480, 100);
        k.write(k.zram("disksize"), "268435456\n");
        k.write(k.zram("mm_stat"), " 152043520 52248576 53329920        0 53329920       12        3      100      140\n");
    }

    @Test
    void statusTableAndJson() throws IOException {
        busyNode();
        PlanCommandTest.Run table = run("swap", "status");
        assertThat(table.code()).as(table.err()).isZero();
        PlanCommandTest.golden("swap-status.txt", table.out());
        PlanCommandTest.Run json = run("swap", "status", "-o", "json");
        assertThat(json.code()).as(json.err()).isZero();
        PlanCommandTest.golden("swap-status.json", json.out());
        JsonNode yaml = tools.jackson.dataformat.yaml.YAMLMapper.builder().build()
                .readTree(run("swap", "status", "-o", "yaml").out());
        assertThat(yaml).isEqualTo(JsonMapper.builder().build().readTree(json.out()));
    }

    @Test
    void statusOfAnIdleNode() {
        PlanCommandTest.Run r = run("swap", "status");
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("SWAP AREAS (/proc/swaps)\n  (none)\n")
                .containsPattern("zram0 +0 +lzo-rle +no +0 +0 +0 +- +-");
        JsonNode j = JsonMapper.builder().build().readTree(run("swap", "status", "-o", "json").out());
        assertThat(j.get("zram").get(0).get("mmStat").has("compressionRatio")).isFalse();
    }

    @Test
    void fileCreateAndRemove() throws IOException {
        Path swap = dir.toRealPath().resolve("swapfile");
        PlanCommandTest.Run c = run("swap", "file", "create", swap.toString(), "--size", "64Mi", "--priority", "10");
        assertThat(c.code()).as(c.err()).isZero();
        assertThat(c.out()).isEqualTo("swap file " + swap + " created and on: 64.0Mi (67104768 bytes) usable,"
                + " priority 10\n");
        assertThat(k.tools()).containsExactly("fallocate", "mkswap", "swapon");
        PlanCommandTest.Run again = run("swap", "file", "create", swap.toString(), "--size", "64Mi");
        assertThat(again.code()).isEqualTo(2);
        assertThat(again.err()).isEqualTo("memwarden swap: swap file " + swap + ": the path already exists; refusing to"
                + " touch it\n");
        PlanCommandTest.Run rm = run("swap", "file", "remove", swap.toString());
        assertThat(rm.code()).as(rm.err()).isZero();
        assertThat(rm.out()).isEqualTo("swap file " + swap + " off and deleted\n");
        assertThat(swap).doesNotExist();
        PlanCommandTest.Run gone = run("swap", "file", "remove", swap.toString());
        assertThat(gone.code()).isEqualTo(2);
        assertThat(gone.err()).isEqualTo("memwarden swap: swap file " + swap + ": no such file\n");
    }

    @Test
    void zramSetupAndReset() {
        PlanCommandTest.Run s = run("swap", "zram", "setup", "--size", "64Mi");
        assertThat(s.code()).as(s.err()).isZero();
        assertThat(s.out()).isEqualTo("zram0 set up as swap /dev/zram0: disksize 64Mi (67108864 bytes), lzo-rle,"
                + " priority 100\n");
        PlanCommandTest.Run busy = run("swap", "zram", "setup", "--size", "64Mi", "--algorithm", "lz4");
        assertThat(busy.code()).isEqualTo(1);
        assertThat(busy.err()).startsWith("memwarden swap: zram0 is busy: active swap (");
        PlanCommandTest.Run r = run("swap", "zram", "reset");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo("zram0 reset (disksize 0)\n");
        assertThat(k.tools()).containsExactly("mkswap", "swapon", "swapoff");
    }

    @Test
    void validationErrorsExit2AndNameTheOptionAndValue() {
        record Case(List<String> args, String err) {}
        List<Case> cases = List.of(
                new Case(List.of("zram", "setup", "--size", "12Q"), "memwarden swap: --size: \"12Q\" is not a Kubernetes"
                        + " quantity (expected a number with an optional suffix such as Ki, Mi, Gi, k, M, G, m or e3)\n"),
                new Case(List.of("zram", "setup", "--size", "1Ki"), "memwarden swap: --size: \"1Ki\" = 1024 bytes is"
                        + " smaller than the 40960 bytes (40Ki, 10 pages) mkswap needs\n"),
                new Case(List.of("zram", "setup", "--size", "-64Mi"), "memwarden swap: --size: \"-64Mi\" = -67108864"
                        + " bytes is smaller than the 40960 bytes (40Ki, 10 pages) mkswap needs\n"),
                new Case(List.of("zram", "setup", "--size", "64Mi", "--priority", "40000"),
                        "memwarden swap: --priority: 40000 is out of range 0..32767 (swapon -p)\n"),
                new Case(List.of("zram", "setup", "--size", "64Mi", "--device", "sda"),
                        "memwarden swap: --device: \"sda\" is not a zram device name (expected zramN, e.g. zram0)\n"),
                new Case(List.of("zram", "reset", "--device", "/dev/zram0"),
                        "memwarden swap: --device: \"/dev/zram0\" is not a zram device name (expected zramN, e.g."
                                + " zram0)\n"),
                new Case(List.of("zram", "setup", "--size", "64Mi", "--algorithm", "zstd"),
                        "memwarden swap: zram0: compression algorithm \"zstd\" is not available (available: lzo-rle,"
                                + " lzo, lz4)\n"),
                new Case(List.of("zram", "setup", "--size", "64Mi", "--device", "zram9"),
                        "memwarden swap: zram9: no such device (" + k.host().sysBlock().resolve("zram9")
                                + " does not exist; is the zram module loaded with enough devices?)\n"),
                new Case(List.of("file", "create", "/var/tmp/x", "--size", "64Mi", "--priority", "-5"),
                        "memwarden swap: --priority: -5 is out of range 0..32767 (swapon -p)\n"),
                new Case(List.of("file", "create", "/var/tmp/x", "--size", "64MB"),
                        "memwarden swap: --size: \"64MB\" is not a Kubernetes quantity (expected a number with an"
                                + " optional suffix such as Ki, Mi, Gi, k, M, G, m or e3)\n"),
                new Case(List.of("file", "create", "/var/tmp/x", "--size", "64Mi", "--priority", "high"),
                        "memwarden swap: Invalid value for option '--priority': 'high' is not an int\n"
                                + "Try 'memwarden swap file create --help' for more information.\n"),
                new Case(List.of("file", "create", "/var/tmp/x"), "memwarden swap: Missing required option:"
                        + " '--size=SIZE'\nTry 'memwarden swap file create --help' for more information.\n"),
                new Case(List.of("file", "remove"), "memwarden swap: Missing required parameter: 'PATH'\n"
                        + "Try 'memwarden swap file remove --help' for more information.\n"),
                new Case(List.of("status", "-o", "xml"), "memwarden swap: Invalid value for option '--output': expected"
                        + " one of [json, yaml, table] (case-sensitive) but was 'xml'\n"
                        + "Try 'memwarden swap status --help' for more information.\n"));
        for (Case c : cases) {
            String[] args = new String[c.args().size() + 1];
            args[0] = "swap";
            for (int i = 0; i < c.args().size(); i++) {
                args[i + 1] = c.args().get(i);
            }
            PlanCommandTest.Run r = run(args);
            assertThat(r.code()).as("%s: %s", c.args(), r.err()).isEqualTo(2);
            assertThat(r.err()).as("%s", c.args()).isEqualTo(c.err());
            assertThat(r.out()).isEmpty();
        }
        assertThat(k.calls).isEmpty();
        assertThat(k.read(k.zram("disksize"))).isEqualTo("0\n");
    }

    @Test
    void notRootIsARuntimeFailure() throws IOException {
        k.uid(1000);
        PlanCommandTest.Run r = run("swap", "zram", "setup", "--size", "64Mi");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("memwarden swap: must run as root to set up zram0 (effective uid 1000)\n");
        PlanCommandTest.Run f = run("swap", "file", "remove", "/var/tmp/x");
        assertThat(f.code()).isEqualTo(1);
        assertThat(f.err()).isEqualTo("memwarden swap: must run as root to remove swap file /var/tmp/x (effective uid"
                + " 1000)\n");
        assertThat(run("swap", "status").code()).isZero(); // reading needs no root
    }

    @Test
    void commandFailureAndFailedUndoAreReported() {
        k.fail("mkswap", 1, "mkswap: error: cannot open /dev/zram0\n");
        PlanCommandTest.Run r = run("swap", "zram", "setup", "--size", "64Mi");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("memwarden swap: zram0: `mkswap /dev/zram0` failed (exit 1): mkswap: error: cannot"
                + " open /dev/zram0\n");
        assertThat(k.read(k.zram("reset"))).isEqualTo("1");
    }

    @Test
    void helpListsTheCommand() {
        assertThat(run("--help").out()).contains("swap");
        PlanCommandTest.Run h = run("swap");
        assertThat(h.code()).isZero();
        assertThat(h.out()).contains("Usage: memwarden swap").contains("status").contains("file").contains("zram");
        assertThat(run("swap", "zram", "setup", "--help").out()).contains("--algorithm=ALG").contains("default: lzo-rle")
                .contains("--priority=N").contains("--device=zramN").contains("default: zram0");
    }
}
