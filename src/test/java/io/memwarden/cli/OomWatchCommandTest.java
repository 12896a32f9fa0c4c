package io.memwarden.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.kernel.KmsgRecord;
import io.memwarden.kernel.OomParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** {@code memwarden oom-watch --from FILE} on unusable and hostile files: exit code, stderr, what is still reported. */
class OomWatchCommandTest {

    @TempDir
    Path dir;

    static final String KILL_A = """
            4,1,100,-;a invoked oom-killer: gfp_mask=0x0, order=0
            3,2,200,-;Out of memory: Killed process 7 (a) total-vm:1kB
            """;
    static final String KILL_B = """
            4,4,400,-;b invoked oom-killer: gfp_mask=0x0, order=0
            6,5,450,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/kubepods/burstable/pod1f0e2c5a-5b7e-4c43-9d3a-0123456789ab,task_memcg=/kubepods/burstable/pod1f0e2c5a-5b7e-4c43-9d3a-0123456789ab/c1,task=b,pid=8,uid=0
            3,6,500,-;Memory cgroup out of memory: Killed process 8 (b) total-vm:1kB
            """;

    PlanCommandTest.Run run(String... args) {
        return PlanCommandTest.run(args);
    }

    Path file(String name, byte[] content) throws IOException {
        Path f = dir.resolve(name);
        Files.write(f, content);
        return f;
    }

    Path file(String name, String content) throws IOException {
        return file(name, content.getBytes(StandardCharsets.UTF_8));
    }

    static void noJavaText(PlanCommandTest.Run r) {
        assertThat(r.err()).doesNotContain("Exception").doesNotContain("java.").doesNotContain("\tat ");
    }

    @Test
    void aMissingFileIsAUsageErrorNamingTheFile() {
        Path f = dir.resolve("no-such.log");
        PlanCommandTest.Run r = run("oom-watch", "--from", f.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("memwarden oom-watch: --from " + f + ": no such file\n");
        assertThat(r.out()).isEmpty();
    }

    @Test
    void aDirectoryIsAUsageError() {
        PlanCommandTest.Run r = run("oom-watch", "--from", dir.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("memwarden oom-watch: --from " + dir + ": is a directory, not a kernel log file\n");
    }

    @Test
    void aPathThroughAFileIsAUsageErrorWithTheSystemsReason() throws IOException {
        Path f = file("plain", "x\n").resolve("below");
        PlanCommandTest.Run r = run("oom-watch", "--from", f.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("memwarden oom-watch: --from " + f + ": cannot be opened: Not a directory\n");
    }

    @Test
    void aBinaryFileIsAUsageErrorNamingTheOffset() throws IOException {
        byte[] elf = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0};
        Path f = file("memwarden.bin", elf);
        PlanCommandTest.Run r = run("oom-watch", "--from", f.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("memwarden oom-watch: --from " + f
                + ": binary data, not a kernel log (a NUL byte at offset 7)\n");
        assertThat(r.out()).isEmpty();
    }

    @Test
    void anEmptyFileHasNoKillsAndSaysSo() throws IOException {
        Path f = file("empty.log", "");
        PlanCommandTest.Run table = run("oom-watch", "--from", f.toString());
        assertThat(table.code()).isZero();
        assertThat(table.out()).startsWith("TIME(s)").hasLineCount(1);
        assertThat(table.err()).isEqualTo("memwarden oom-watch: note: " + f + " is empty: no kernel log records, no OOM kills\n");
        PlanCommandTest.Run json = run("oom-watch", "--from", f.toString(), "-o", "json");
        assertThat(json.code()).isZero();
        assertThat(JsonMapper.builder().build().readTree(json.out()).isArray()).isTrue();
        assertThat(JsonMapper.builder().build().readTree(json.out())).isEmpty();
    }

    @Test
    void oneOutOfRangeNumberSkipsOnlyItsRecord() throws IOException {
        Path f = file("kern.log", KILL_A + "99999999999,3,300,-;hello\n" + KILL_B);
        PlanCommandTest.Run r = run("oom-watch", "--from", f.toString(), "-o", "json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode kills = JsonMapper.builder().build().readTree(r.out());
        assertThat(kills).hasSize(2);
        assertThat(kills.get(0).get("pid").asLong()).isEqualTo(7);
        assertThat(kills.get(1).get("pid").asLong()).isEqualTo(8);
        assertThat(kills.get(1).get("podUid").asString()).isEqualTo("1f0e2c5a-5b7e-4c43-9d3a-0123456789ab");
        assertThat(r.err()).isEqualTo("memwarden oom-watch: warning: " + f + " line 3 skipped: priority \"99999999999\":"
                + " out of range 0–2047 (facility × 8 + level)\n");
    }

    @Test
    void badRecordsOfEveryKindAreListedWithLineFieldAndValue() throws IOException {
        Path f = file("kern.log", (KILL_A
                + "6,1,2,x;flags\n"
                + "6,99999999999999999999,2,-;seq\n"
                + "6,12,3456\n"
                + "3,9,10,-;Out of memory: Killed process 99999999999 (x) total-vm:1kB\n"
                + "<4>[ 1.0000000] seven digits\n").getBytes(StandardCharsets.UTF_8));
        byte[] tail = ("6,7,8,-;caf\u00e9\n" + KILL_B).getBytes(StandardCharsets.ISO_8859_1); // Latin-1: not UTF-8
        Path g = file("kern2.log", concat(Files.readAllBytes(f), tail));
        PlanCommandTest.Run r = run("oom-watch", "--from", g.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out().lines().skip(1).filter(l -> !l.startsWith(" ")).map(l -> l.split(" +")[1]).toList())
                .containsExactly("7", "8");
        String p = "memwarden oom-watch: warning: " + g + " line ";
        assertThat(r.err().lines().toList()).containsExactly(
                p + "3 skipped: flags \"x\": not one of -, c, +",
                p + "4 skipped: sequence \"99999999999999999999\": out of range 0–9223372036854775807",
                p + "5 skipped: header \"6,12,3456\": truncated: no ';' between the header and the message",
                p + "6 skipped: pid \"99999999999\": not a process id (1–2147483647)",
                p + "7 skipped: timestamp \" 1.0000000\": not seconds.microseconds (e.g. [  12.345678])",
                p + "8 skipped: text \"6,7,8,-;caf\u00e9\": not valid UTF-8 (byte 0xe9 at byte 12)");
        noJavaText(r);
    }

    @Test
    void warningsAreCappedAndCounted() throws IOException {
        StringBuilder b = new StringBuilder(KILL_A);
        for (int i = 0; i < 30; i++) {
            b.append("6,").append(i).append(",1,?;bad flags\n");
        }
        Path f = file("kern.log", b + KILL_B);
        PlanCommandTest.Run r = run("oom-watch", "--from", f.toString(), "--max-warnings", "3");
        assertThat(r.code()).isZero();
        assertThat(r.out()).hasLineCount(1 + 2 * 2); // the header, each kill and its diagnosis
        assertThat(r.err().lines().toList()).hasSize(4).last().isEqualTo("memwarden oom-watch: warning: " + f
                + ": 30 lines skipped in all (the first 3 listed; --max-warnings N lists more)");
        assertThat(run("oom-watch", "--from", f.toString(), "--max-warnings", "-1").code()).isEqualTo(2);
    }

    @Test
    void aLogEndingInsideAKillSaysSo() throws IOException {
        Path f = file("kern.log", KILL_A + "4,9,900,-;c invoked oom-killer: gfp_mask=0x0"); // cut, no final newline
        PlanCommandTest.Run r = run("oom-watch", "--from", f.toString());
        assertThat(r.code()).isZero();
        assertThat(r.out()).hasLineCount(1 + 2);
        assertThat(r.err()).isEqualTo("memwarden oom-watch: warning: " + f + " ends inside the OOM record begun at line 3"
                + " (no \"Killed process\" or \"oom-kill:\" line yet): not reported\n");
    }

    @Test
    void anOverLongLineIsSkippedAlone() throws IOException {
        String huge = "6,3,300,-;" + "z".repeat(200_000) + "\n";
        Path f = file("kern.log", KILL_A + huge + KILL_B);
        PlanCommandTest.Run r = run("oom-watch", "--from", f.toString());
        assertThat(r.code()).isZero();
        assertThat(r.out()).hasLineCount(1 + 2 * 2);
        assertThat(r.err()).isEqualTo("memwarden oom-watch: warning: " + f + " line 3 skipped: line \"6,3,300,-;"
                + "z".repeat(54) + "…\": longer than 65536 bytes (200010 bytes)\n");
    }

    @Test
    void aHostileOomLineIsParsedInLinearTime() throws IOException {
        // java.util.regex backtracked for minutes on 3.5 KB of this; RE2/J reads 60 KB of it at once
        String hostile = "6,3,300,-;oom-kill:constraint="
                + ",nodemask=,cpuset=,mems_allowed=,oom_memcg=,task_memcg=,task=,pid=".repeat(900) + "\n";
        Path f = file("kern.log", KILL_A + hostile + KILL_B);
        PlanCommandTest.Run r = run("oom-watch", "--from", f.toString());
        assertThat(r.code()).isZero();
        assertThat(r.out()).hasLineCount(1 + 2 * 2);
    }

    @Test
    void aReadFailureIsARuntimeFailureNamingTheFile() {
        // /proc/self/mem opens, but reading its offset 0 fails with EIO
        PlanCommandTest.Run r = run("oom-watch", "--from", "/proc/self/mem");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("memwarden oom-watch: --from /proc/self/mem: cannot be read: Input/output error\n");
    }

    @Test
    void theJsonArrayIsStreamedInTheUsualFormat() throws IOException {
        Path f = file("kern.log", KILL_A + KILL_B);
        PlanCommandTest.Run r = run("oom-watch", "--from", f.toString(), "-o", "json");
        List<?> events = OomParser.parseAll(
                (KILL_A + KILL_B).lines().map(KmsgRecord::parse).toList())
                .stream().map(OomWatchCommand::view).toList();
        assertThat(r.out()).isEqualTo(PlanOutput.JSON.writeValueAsString(events) + "\n");
        Path empty = file("empty.log", "");
        assertThat(run("oom-watch", "--from", empty.toString(), "-o", "json").out())
                .isEqualTo(PlanOutput.JSON.writeValueAsString(List.of()) + "\n");
    }

    @Test
    void controlCharactersFromTheLogAreEscapedInTheTable() throws IOException {
        Path f = file("kern.log", "4,1,1,-;x invoked oom-killer:\n3,2,2,-;Killed process 9 (ev\\x1b[2Jil) total-vm:1kB\n");
        PlanCommandTest.Run r = run("oom-watch", "--from", f.toString());
        assertThat(r.out()).contains("ev\\x1b[2Jil").doesNotContain("\u001b");
    }

    /** A v2 kill at a container's limit with swap.max 0, from a saved log: figures and diagnosis in both outputs. */
    @Test
    void eachKillIsDiagnosedFromTheKernelsFigures() throws IOException {
        String cg = "/kubepods/burstable/pod1f0e2c5a-5b7e-4c43-9d3a-0123456789ab/c1";
        Path f = file("kern.log", "4,1,100,-;java invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0\n"
                + "6,2,101,-;memory: usage 262144kB, limit 262144kB, failcnt 9\n"
                + "6,3,102,-;swap: usage 0kB, limit 0kB, failcnt 0\n"
                + "6,4,103,-;Memory cgroup stats for " + cg + ":\n"
                + "6,5,104,-;anon 262144000\n"
                + "6,6,105,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg="
                + cg + ",task_memcg=" + cg + ",task=java,pid=9,uid=0\n");
        PlanCommandTest.Run table = run("oom-watch", "--from", f.toString());
        assertThat(table.code()).as(table.err()).isZero();
        assertThat(table.out().lines().toList()).hasSize(3).last().isEqualTo("  OOM-killed at its memory limit 256Mi"
                + " (anon 250Mi): its swap limit is 0");
        PlanCommandTest.Run json = run("oom-watch", "--from", f.toString(), "-o", "json");
        JsonNode k = JsonMapper.builder().build().readTree(json.out()).get(0);
        assertThat(k.get("diagnosisKind").asString()).isEqualTo("SWAP_NOT_ALLOWED");
        assertThat(k.get("diagnosis").asString()).isEqualTo("OOM-killed at its memory limit 256Mi (anon 250Mi): its"
                + " swap limit is 0");
        assertThat(k.get("memory").get("limitBytes").asLong()).isEqualTo(256L << 20);
        assertThat(k.get("memory").get("swapLimitBytes").asLong()).isZero();
        assertThat(k.get("memory").get("anonBytes").asLong()).isEqualTo(262144000L);
        assertThat(k.get("memory").get("nodeSwapFreeBytes").asLong()).as("not in a memcg OOM's record").isEqualTo(-1);
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] c = new byte[a.length + b.length];
        System.arraycopy(a, 0, c, 0, a.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
