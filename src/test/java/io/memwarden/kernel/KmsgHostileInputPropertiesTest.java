package io.memwarden.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.model.OomEvent;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/**
 * Hostile kernel logs (issue #11, class 5): generated logs of valid OOM kills as the kernel writes them (≥ 5.0 memcg
 * and global, legacy; kmsg records with the kernel's escaping, {@code dmesg -r} lines, plain lines), ordinary
 * records between them, and bad records anywhere, also inside a kill: out-of-range numbers, garbage fields, odd
 * whitespace and other scripts' digits in headers, truncated headers, NUL bytes, invalid UTF-8, bad pids in OOM
 * lines, over-long lines. Properties: nothing throws; every kill comes out exactly as when its lines are parsed
 * alone (and with the generated pid, name and cgroups); every bad record, and only those, is reported as skipped
 * with its line number and field.
 */
class KmsgHostileInputPropertiesTest {

    /** One generated line: its bytes, and for a bad one the field it must be reported for. */
    record Line(byte[] bytes, String badField) {
        static Line good(String s) {
            return new Line(s.getBytes(StandardCharsets.UTF_8), null);
        }

        @Override
        public String toString() {
            return (badField == null ? "" : "BAD(" + badField + ") ") + new String(bytes, StandardCharsets.ISO_8859_1);
        }
    }

    /** A kill: its lines, and what it must come out as. */
    record Kill(List<Line> lines, long pid, String process, String container, String victim) {}

    // ---- generators ------------------------------------------------------------------------------------------

    /** Task names: letters first, then spaces, parentheses, commas, quotes, tabs, backslashes, non-Latin, emoji. */
    static Arbitrary<String> names() {
        Arbitrary<Character> first = Arbitraries.chars().range('a', 'z').with('É', 'ж', '中');
        Arbitrary<String> rest = Arbitraries.strings().withChars("abcXYZ019 _-.()\",\t\\é中\u00a0\u2028\u200b\u0301")
                .ofMaxLength(14);
        return Combinators.combine(first, rest).as((f, r) -> f + r);
    }

    static Arbitrary<String> cgroups() {
        Arbitrary<String> uid = Arbitraries.strings().withChars("0123456789abcdef").ofLength(8)
                .map(h -> h + "-5b7e-4c43-9d3a-0123456789ab");
        Arbitrary<String> qos = Arbitraries.of("/kubepods", "/kubepods/burstable", "/kubepods/besteffort");
        return Combinators.combine(qos, uid).as((q, u) -> q + "/pod" + u);
    }

    /** The message lines of one kill, in one of the kernel's shapes. */
    static Arbitrary<Kill> kills() {
        Arbitrary<Long> pids = Arbitraries.longs().between(1, 4_194_304);
        Arbitrary<Integer> shape = Arbitraries.integers().between(0, 2);
        return Combinators.combine(shape, pids, names(), cgroups(), Arbitraries.strings().withChars("0123456789abcdef")
                .ofLength(12)).as((s, pid, name, cg, ctr) -> {
                    String start = name + " invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0";
                    String cpu = "CPU: 1 UID: 0 PID: " + pid + " Comm: " + name + " Not tainted 6.18.44 #1";
                    String last = "Memory cgroup out of memory: Killed process " + pid + " (" + name
                            + ") total-vm:138956kB, anon-rss:64640kB";
                    return switch (s) {
                        case 0 -> new Kill(List.of(Line.good(start), Line.good(cpu), Line.good(
                                "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg="
                                        + cg + ",task_memcg=" + cg + "/" + ctr + ",task=" + name + ",pid=" + pid + ",uid=0"),
                                Line.good(last)), pid, name, cg + "/" + ctr, cg);
                        case 1 -> new Kill(List.of(Line.good(start), Line.good(
                                "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,"
                                        + "task_memcg=" + cg + "/" + ctr + ",task=" + name + ",pid=" + pid + ",uid=1000"),
                                Line.good("Out of memory: Killed process " + pid + " (" + name + ") total-vm:9000kB")),
                                pid, name, "/", "/");
                        default -> new Kill(List.of(Line.good(start),
                                Line.good("Task in " + cg + "/" + ctr + " killed as a result of limit of " + cg),
                                Line.good(last)), pid, name, cg + "/" + ctr, cg);
                    };
                });
    }

    /** Ordinary kernel messages: nothing an OOM parser looks at. */
    static Arbitrary<Line> noise() {
        return Arbitraries.strings().withChars("abcdefghij klmnopqrstuvwxyz0123456789:=._-[]/é").ofMinLength(1)
                .ofMaxLength(60).filter(m -> !m.isBlank())
                .map(m -> Line.good("eth0: " + m));
    }

    static final BigInteger LONG_MAX = BigInteger.valueOf(Long.MAX_VALUE);

    static Arbitrary<String> outOfRangeLong() {
        return Arbitraries.bigIntegers().between(LONG_MAX.add(BigInteger.ONE), BigInteger.TEN.pow(40)).map(BigInteger::toString);
    }

    /** A bad record: each generator knows the field it must be reported for. */
    static Arbitrary<Line> bad() {
        Arbitrary<String> msg = Arbitraries.of("Killed process 42 (victim) total-vm:1kB", "x invoked oom-killer: order=0",
                "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/a,task_memcg=/a,task=t,pid=7,uid=0",
                "Task in /x killed as a result of limit of /y", "hello");
        Arbitrary<String> garbageNumber = Arbitraries.of("4x", "", "-1", "+4", "0x10", "1e5", "١٢", "\u00a04", "4\u200b",
                "Ⅳ", "9\u2007", "3.5");
        List<Arbitrary<Line>> kinds = List.of(
                Combinators.combine(Arbitraries.bigIntegers().between(BigInteger.valueOf(2048), BigInteger.TEN.pow(30)), msg)
                        .as((p, m) -> bad(p + ",1,2,-;" + m, "priority")),
                Combinators.combine(outOfRangeLong(), msg).as((s, m) -> bad("6," + s + ",2,-;" + m, "sequence")),
                Combinators.combine(outOfRangeLong(), msg).as((t, m) -> bad("6,1," + t + ",-;" + m, "timestamp")),
                Combinators.combine(garbageNumber, msg).as((g, m) -> bad(g + ",1,2,-;" + m, "priority")),
                Combinators.combine(garbageNumber, msg).as((g, m) -> bad("6," + g + ",2,-;" + m, "sequence")),
                Combinators.combine(garbageNumber, msg).as((g, m) -> bad("6,1," + g + ",-;" + m, "timestamp")),
                Combinators.combine(Arbitraries.of("", "x", "--", "C", "é", "\u00a0"), msg)
                        .as((f, m) -> bad("6,1,2," + f + ";" + m, "flags")),
                Arbitraries.of("6,12,3456", "6,12", "6,", "6,12;Killed process 5 (x)", "6,1,2;hello", "6,1,2,-")
                        .map(h -> bad(h, "header")),
                Combinators.combine(msg, Arbitraries.integers().between(0, 20)).as((m, at) -> {
                    byte[] b = ("6,1,2,-;" + m).getBytes(StandardCharsets.UTF_8);
                    b[Math.min(b.length - 1, 8 + at)] = 0;
                    return new Line(b, "text");
                }),
                Combinators.combine(msg, Arbitraries.of(new byte[] {(byte) 0xff}, new byte[] {(byte) 0xc3},
                        new byte[] {(byte) 0xc0, (byte) 0xaf}, new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80},
                        new byte[] {(byte) 0xf8, (byte) 0x88, (byte) 0x80, (byte) 0x80, (byte) 0x80}))
                        .as((m, junk) -> {
                            ByteArrayOutputStream b = new ByteArrayOutputStream();
                            b.writeBytes(("6,1,2,-;" + m.substring(0, m.length() / 2)).getBytes(StandardCharsets.UTF_8));
                            b.writeBytes(junk);
                            b.writeBytes(m.substring(m.length() / 2).getBytes(StandardCharsets.UTF_8));
                            return new Line(b.toByteArray(), "text");
                        }),
                Arbitraries.oneOf(Arbitraries.longs().between(OomParser.PID_MAX + 1, Long.MAX_VALUE).map(Object::toString),
                                outOfRangeLong(), Arbitraries.just("0"), Arbitraries.just("00"))
                        .map(p -> bad("3,9,10,-;Out of memory: Killed process " + p + " (x) total-vm:1kB", "pid")),
                Arbitraries.of("abc", "", "-5", "+5", " 5", "5 ", "99999999999", "٥")
                        .map(p -> bad("6,9,10,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,"
                                + "mems_allowed=0,oom_memcg=/a,task_memcg=/a/b,task=t,pid=" + p + ",uid=0", "pid")),
                Combinators.combine(Arbitraries.bigIntegers().between(BigInteger.valueOf(2048), BigInteger.TEN.pow(25)), msg)
                        .as((p, m) -> bad("<" + p + ">[   12.345678] " + m, "priority")),
                Arbitraries.of("[99999999999999999.000000]", "[ 1.0000000]", "[ 1.]", "[ .5]", "[ abc]", "[ 1,5]", "[ -1.0]",
                                "[\u00a01.000000]", "[ 1.000000")
                        .map(t -> bad("<4>" + t + " hello", "timestamp")));
        return Arbitraries.oneOf(kinds);
    }

    static Line bad(String s, String field) {
        return new Line(s.getBytes(StandardCharsets.UTF_8), field);
    }

    /** How a good message is written: a kmsg record (kernel-escaped), a {@code dmesg -r} line, or plain. */
    enum Shape { KMSG, KMSG_CALLER, DMESG, PLAIN }

    static String render(String message, Shape shape, long seq, long micros) {
        return switch (shape) {
            case KMSG -> "6," + seq + "," + micros + ",-;" + kernelEscape(message);
            case KMSG_CALLER -> "4," + seq + "," + micros + ",c,caller=T" + seq % 97 + ";" + kernelEscape(message);
            case DMESG -> String.format("<6>[%5d.%06d] %s", micros / 1_000_000, micros % 1_000_000, message);
            case PLAIN -> message;
        };
    }

    /** As the kernel's kmsg does: every byte below 0x20 or from 0x7f, and the backslash, as {@code \xNN}. */
    static String kernelEscape(String s) {
        StringBuilder b = new StringBuilder();
        for (byte x : s.getBytes(StandardCharsets.UTF_8)) {
            int c = x & 0xff;
            if (c < 0x20 || c >= 0x7f || c == '\\') {
                b.append(String.format("\\x%02x", c));
            } else {
                b.append((char) c);
            }
        }
        return b.toString();
    }

    /** A generated log: its lines, the kills in it (with the index of each one's lines), the bad lines' indexes. */
    record Log(List<Line> lines, List<Kill> kills, List<int[]> killLines) {
        List<Integer> badIndexes() {
            List<Integer> out = new ArrayList<>();
            for (int i = 0; i < lines.size(); i++) {
                if (lines.get(i).badField() != null) {
                    out.add(i);
                }
            }
            return out;
        }
    }

    @Provide
    Arbitrary<Log> logs() {
        Arbitrary<Tuple.Tuple2<Kill, Shape>> shapedKills = Combinators.combine(kills(),
                Arbitraries.of(Shape.class)).as(Tuple::of);
        Arbitrary<List<Line>> gaps = Arbitraries.oneOf(noise(), bad()).list().ofMaxSize(4);
        Arbitrary<Tuple.Tuple3<Tuple.Tuple2<Kill, Shape>, List<Line>, List<Tuple.Tuple2<Integer, Line>>>> unit =
                Combinators.combine(shapedKills, gaps,
                        Combinators.combine(Arbitraries.integers().between(1, 3), bad()).as(Tuple::of).list().ofMaxSize(2))
                        .as(Tuple::of);
        return Combinators.combine(unit.list().ofMaxSize(6), gaps).as((units, tail) -> {
            List<Line> lines = new ArrayList<>();
            List<Kill> kills = new ArrayList<>();
            List<int[]> killLines = new ArrayList<>();
            long seq = 1;
            long micros = 1_000_000;
            for (var u : units) {
                for (Line g : u.get2()) {
                    lines.add(render(g, seq++, micros += 137, Shape.KMSG));
                }
                Kill k = u.get1().get1();
                Shape shape = u.get1().get2();
                List<Line> body = new ArrayList<>();
                for (Line l : k.lines()) {
                    body.add(render(l, seq++, micros += 1013, shape));
                }
                // bad records inside the kill (after its first line): skipped, so the kill is unchanged
                List<Integer> own = new ArrayList<>();
                for (int i = 0; i < body.size(); i++) {
                    own.add(i);
                }
                for (var in : u.get3()) {
                    int at = Math.min(in.get1(), body.size() - 1);
                    body.add(at, in.get2());
                    for (int j = 0; j < own.size(); j++) {
                        if (own.get(j) >= at) {
                            own.set(j, own.get(j) + 1);
                        }
                    }
                }
                int base = lines.size();
                lines.addAll(body);
                kills.add(k);
                killLines.add(own.stream().mapToInt(i -> base + i).toArray());
            }
            for (Line g : tail) {
                lines.add(render(g, seq++, micros += 7, Shape.KMSG));
            }
            return new Log(lines, kills, killLines);
        });
    }

    static Line render(Line l, long seq, long micros, Shape shape) {
        if (l.badField() != null) {
            return l;
        }
        return Line.good(render(new String(l.bytes(), StandardCharsets.UTF_8), shape, seq, micros));
    }

    // ---- what is checked -------------------------------------------------------------------------------------

    record Skip(long number, String field) {}

    record Result(List<OomEvent> kills, List<Long> killNumbers, List<Skip> skipped, long pendingSince) {}

    static Result parse(List<KmsgEntry> entries) {
        OomParser p = new OomParser();
        List<OomEvent> kills = new ArrayList<>();
        List<Long> numbers = new ArrayList<>();
        List<Skip> skipped = new ArrayList<>();
        for (KmsgEntry e : entries) {
            p.feed(e, new OomParser.Listener() {
                @Override
                public void kill(long number, OomEvent event) {
                    kills.add(event);
                    numbers.add(number);
                }

                @Override
                public void skipped(long number, BadKmsgRecord why) {
                    assertThat(why.describe()).doesNotContain("Exception").doesNotContain("java.");
                    skipped.add(new Skip(number, why.field()));
                }
            });
        }
        return new Result(kills, numbers, skipped, p.pendingSince());
    }

    /** Entries numbered from 1 as a file's lines are. */
    static List<KmsgEntry> entries(List<Line> lines) {
        List<KmsgEntry> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            byte[] b = lines.get(i).bytes();
            out.add(new KmsgEntry(i + 1, KmsgRecord.read(b, 0, b.length)));
        }
        return out;
    }

    static void check(Log log, Result all) {
        // every bad record, and nothing else, is skipped, with its line number and field
        assertThat(all.skipped()).containsExactlyElementsOf(log.badIndexes().stream()
                .map(i -> new Skip(i + 1, log.lines().get(i).badField())).toList());
        // every kill, exactly as when its own lines are parsed alone, and as generated
        assertThat(all.kills()).hasSameSizeAs(log.kills());
        for (int k = 0; k < log.kills().size(); k++) {
            List<Line> own = Arrays.stream(log.killLines().get(k)).mapToObj(log.lines()::get).toList();
            Result alone = parse(entries(own));
            assertThat(alone.skipped()).isEmpty();
            assertThat(alone.kills()).singleElement().isEqualTo(all.kills().get(k));
            Kill want = log.kills().get(k);
            OomEvent got = all.kills().get(k);
            assertThat(got.pid()).isEqualTo(want.pid());
            assertThat(got.process()).isEqualTo(want.process());
            assertThat(got.victimCgroup()).isEqualTo(want.victim());
            assertThat(got.containerCgroup()).isEqualTo(want.container());
            assertThat(got.systemOom()).isEqualTo(want.victim().equals("/"));
            assertThat(all.killNumbers().get(k)).isBetween((long) log.killLines().get(k)[0] + 1,
                    (long) log.killLines().get(k)[log.killLines().get(k).length - 1] + 1);
        }
        assertThat(all.pendingSince()).isEqualTo(-1);
    }

    @Property(tries = 300)
    void aBadRecordOnlyAffectsItself(@ForAll("logs") Log log) {
        check(log, parse(entries(log.lines())));
    }

    @Property(tries = 100)
    void theSameThroughAFile(@ForAll("logs") Log log, @ForAll boolean crlf, @ForAll boolean finalNewline,
                             @ForAll boolean overLong) throws IOException {
        // a NUL byte in the first 8000 bytes makes the whole file binary: a preamble of ordinary records first
        List<Line> lines = new ArrayList<>();
        List<Line> preamble = new ArrayList<>();
        for (int i = 0; i < 120; i++) {
            preamble.add(Line.good("6," + i + ",5,-;usb 1-1: new high-speed USB device number " + i + " using xhci_hcd"));
        }
        lines.addAll(preamble);
        lines.addAll(log.lines());
        if (overLong) {
            byte[] huge = ("6,1,2,-;Killed process 5 (" + "y".repeat(KernelLogFile.MAX_LINE_BYTES) + ")")
                    .getBytes(StandardCharsets.US_ASCII);
            lines.add(new Line(huge, "line"));
        }
        Log shifted = shift(log, preamble.size(), lines);
        Path dir = Files.createTempDirectory("memwarden-kmsg-prop");
        Path f = dir.resolve("kern.log");
        try {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            for (int i = 0; i < lines.size(); i++) {
                b.writeBytes(lines.get(i).bytes());
                if (i < lines.size() - 1 || finalNewline) {
                    b.writeBytes(crlf ? new byte[] {'\r', '\n'} : new byte[] {'\n'});
                }
            }
            Files.write(f, b.toByteArray());
            List<KmsgEntry> read = new ArrayList<>();
            try (KernelLogFile in = KernelLogFile.open(f)) {
                KmsgEntry e;
                while ((e = in.next()) != null) {
                    read.add(e);
                }
            }
            check(shifted, parse(read));
        } finally {
            Files.deleteIfExists(f);
            Files.deleteIfExists(dir);
        }
    }

    /** The log with {@code offset} lines before it, and any lines appended after it. */
    static Log shift(Log log, int offset, List<Line> lines) {
        List<int[]> killLines = log.killLines().stream()
                .map(a -> Arrays.stream(a).map(i -> i + offset).toArray()).toList();
        return new Log(lines, log.kills(), killLines);
    }
}
