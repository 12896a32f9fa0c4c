package io.memwarden.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

/**
 * {@link CgroupValues}: values read the way the kernel reads a write to a memory cgroup file (page_counter_memparse
 * → memparse → simple_strtoull base 0 after strstrip; kstrtoint for the flag files).
 */
class CgroupValuesTest {
    private static final long PAGE = 4096;
    /** PAGE_COUNTER_MAX × page for 4 KiB pages: from here on the kernel clamps to its unlimited. */
    private static final long CLAMP = (Long.MAX_VALUE / PAGE) * PAGE;

    private static String v(String file, String raw) {
        return CgroupValues.canonical(file, raw, PAGE);
    }

    @Test
    void bytesAreReadAsTheKernelReadsThem() {
        Map<String, String> cases = Map.ofEntries(
                Map.entry("100G", "107374182400"),
                Map.entry("100g", "107374182400"),
                Map.entry(" 512M\n", "536870912"),
                Map.entry("\t1k", "1024"),
                Map.entry("0x10", "16"),
                Map.entry("0X10M", "16777216"),
                Map.entry("0x1E", "30"),          // E is a hex digit here, not exa
                Map.entry("0x1EK", "30720"),
                Map.entry("010", "8"),            // a leading 0 is octal
                Map.entry("0", "0"),
                Map.entry("max", "max"),
                Map.entry(" max\n", "max"),
                Map.entry("15E", "max"),          // clamped at PAGE_COUNTER_MAX pages
                Map.entry(Long.toString(CLAMP), "max"),
                Map.entry(Long.toString(CLAMP - 1), Long.toString(CLAMP - 1)),
                Map.entry("18446744073709551615", "max"));
        cases.forEach((raw, want) -> assertThat(v("memory.swap.max", raw)).as(raw).isEqualTo(want));
    }

    @Test
    void spellingsTheKernelRefusesAreErrorsNamingFileAndValue() {
        for (String raw : List.of("100Gi", "1.5G", "-1", "+1", "100 G", "1GB", "08", "0x", "0xG", "MAX", "max1",
                "1e3", "", "   ", "K", "\u0661\u0662", "１２", "1\u00a0")) {
            assertThatThrownBy(() -> v("memory.high", raw)).as(raw).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("memory.high=\"");
        }
    }

    @Test
    void numbersPast64BitsAreRefusedNotWrapped() {
        for (String raw : List.of("99999999999999999999", "18446744073709551616", "16E", "0x10000000000000000",
                "17179869184G", "9".repeat(5000))) {
            assertThatThrownBy(() -> v("memory.swap.max", raw)).as(raw).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("out of range");
        }
    }

    @Test
    void aNulCharacterIsRefused() {
        assertThatThrownBy(() -> v("memory.max", "100\0garbage")).hasMessageContaining("NUL")
                .hasMessageContaining("\\u0000");
    }

    @Test
    void flagsAreZeroOrOne() {
        Map<String, String> ok = Map.of("1", "1", " 1\n", "1", "+1", "1", "0x1", "1", "01", "1", "-0", "0", "0", "0");
        ok.forEach((raw, want) -> assertThat(v("memory.oom.group", raw)).as(raw).isEqualTo(want));
        for (String raw : List.of("2", "-1", "true", "", "1K", "max", "0x", "99999999999999999999")) {
            assertThatThrownBy(() -> v("memory.oom.group", raw)).as(raw).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("memory.oom.group=\"");
        }
        assertThat(v("memory.zswap.writeback", "0")).isEqualTo("0");
    }

    @Test
    void onlyMemorySettingsFilesAreKnown() {
        for (String file : List.of("cgroup.procs", "../../cgroup.procs", "memory.max/../../cgroup.procs", "memory.reclaim",
                "memory.peak", "memory.pressure", "memory.current", "", "memory.limit_in_bytes")) {
            assertThatThrownBy(() -> v(file, "1")).as(file).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("not a cgroup v2 memory settings file");
        }
    }

    // ------------------------------------------------------------------ properties

    /** An independent statement of the kernel's grammar for byte files, as one regular expression. */
    private static final Pattern GRAMMAR = Pattern.compile(
            "[ \\t\\n\\x0B\\f\\r]*(?:(max)|(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)([KMGTPEkmgtpe])?)[ \\t\\n\\x0B\\f\\r]*");

    /** The oracle: what the grammar says, null where it refuses. */
    private static String oracle(String raw) {
        Matcher m = GRAMMAR.matcher(raw);
        if (!m.matches()) {
            return null;
        }
        if (m.group(1) != null) {
            return "max";
        }
        String d = m.group(2);
        BigInteger n = d.startsWith("0x") || d.startsWith("0X") ? new BigInteger(d.substring(2), 16)
                : d.length() > 1 && d.startsWith("0") ? new BigInteger(d.substring(1), 8) : new BigInteger(d);
        int shift = m.group(3) == null ? 0 : 10 * ("KMGTPE".indexOf(Character.toUpperCase(m.group(3).charAt(0))) + 1);
        BigInteger b = n.shiftLeft(shift);
        if (b.bitLength() > 64) {
            return null; // out of range
        }
        return b.compareTo(BigInteger.valueOf(CLAMP)) >= 0 ? "max" : b.toString();
    }

    @Provide
    Arbitrary<String> hostileValues() {
        Arbitrary<String> number = Arbitraries.oneOf(
                Arbitraries.longs().between(0, Long.MAX_VALUE).map(x -> Long.toString(x)),
                Arbitraries.longs().between(0, Long.MAX_VALUE).map(x -> "0x" + Long.toHexString(x)),
                Arbitraries.longs().between(0, Long.MAX_VALUE).map(x -> "0" + Long.toOctalString(x)),
                Arbitraries.strings().numeric().ofMinLength(1).ofMaxLength(40),
                Arbitraries.of("max", "MAX", "-1", "+5", "1.5", "1e9", "", "0x", "08", "09", "0b1"));
        Arbitrary<String> suffix = Arbitraries.of("", "", "K", "k", "M", "G", "g", "T", "P", "E", "e", "Ki", "Gi", "B",
                "GB", " G", "i", "\u00b5");
        Arbitrary<String> space = Arbitraries.of("", "", " ", "\t", "\n", "\u000b", "\f", "\r", "  \n", "\u00a0",
                "\u2003", "\0");
        return net.jqwik.api.Combinators.combine(space, number, suffix, space).as((a, n, s, b) -> a + n + s + b);
    }

    @Property(tries = 2000)
    void byteValuesFollowTheKernelsGrammarExactly(@ForAll("hostileValues") String raw) {
        String want = oracle(raw);
        if (want == null) {
            assertThatThrownBy(() -> v("memory.swap.max", raw)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("memory.swap.max=\"");
        } else {
            assertThat(v("memory.swap.max", raw)).isEqualTo(want);
        }
    }

    @Property(tries = 1000)
    void anyStringEitherReadsCanonicallyOrFailsWithAMessage(@ForAll String raw) {
        for (String file : List.of("memory.max", "memory.oom.group")) {
            try {
                String c = v(file, raw);
                assertThat(c).matches("[0-9]+|max");
                assertThat(v(file, c)).as("canonical is a fixed point").isEqualTo(c);
            } catch (IllegalArgumentException e) {
                assertThat(e.getMessage()).startsWith(file + "=\"").doesNotContain("java.").doesNotContain("Exception")
                        .doesNotContain("\n");
            }
        }
    }

    @Property(tries = 500)
    void everySpellingOfOneNumberReadsTheSame(@ForAll @LongRange(min = 0, max = 1L << 52) long n) {
        String dec = v("memory.max", Long.toString(n));
        assertThat(v("memory.max", "0x" + Long.toHexString(n))).isEqualTo(dec);
        assertThat(v("memory.max", "0" + Long.toOctalString(n))).isEqualTo(dec);
        assertThat(v("memory.max", " \t" + n + "\n")).isEqualTo(dec);
        if (n < (1L << 40)) {
            assertThat(v("memory.max", n + "K")).isEqualTo(Long.toString(n << 10));
        }
    }
}
