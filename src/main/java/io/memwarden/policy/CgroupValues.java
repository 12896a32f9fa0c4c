package io.memwarden.policy;

import static io.memwarden.model.CgroupFiles.*;

import io.memwarden.model.Printable;
import java.math.BigInteger;

/**
 * Reads a value for a cgroup v2 memory controller file the way the kernel reads a write to that file, and gives it
 * back in one canonical spelling (decimal bytes, {@code max}, or {@code 0}/{@code 1}), so that every later step —
 * swap caps, the cgroup v1 projection, the control loops, the writer's read-back — sees a number, never a spelling.
 * Pure; used for values that come from pod annotations (nri memory-qos {@code unifiedannotations}).
 *
 * <p>Byte files ({@code memory.min/low/high/max}, {@code memory.swap.high/max}, {@code memory.zswap.max}): the kernel
 * strips leading and trailing white space ({@code strstrip}), takes {@code max} as unlimited, and otherwise parses
 * with {@code memparse}: an unsigned integer in base 10, {@code 0x} hexadecimal or {@code 0} octal, then at most one
 * of the suffixes K M G T P E (either case, powers of 1024), then the end of the value; the byte count is cut to
 * pages and clamped at {@code PAGE_COUNTER_MAX} pages, which reads back as {@code max} (page_counter_memparse in
 * mm/page_counter.c, memparse in lib/cmdline.c). So {@code "100G"} is 107374182400 and {@code " 512M\n"} is
 * 536870912, while {@code "100Gi"}, {@code "1.5G"}, {@code "-1"} and {@code "100 G"} are refused (EINVAL).
 *
 * <p>Flag files ({@code memory.oom.group}, {@code memory.zswap.writeback}): {@code kstrtoint} after
 * {@code strstrip} (optional sign, the same three bases), and only 0 or 1.
 *
 * <p>Refused although the kernel would take them, because the kernel would write something the author cannot have
 * meant: a number of 2^64 bytes or more (the kernel's parser wraps it silently, so 18446744073709551616 would become
 * 0); a value with no digits at all ({@code ""} and {@code "K"} read as 0); a NUL character (the kernel stops
 * reading there).
 */
public final class CgroupValues {
    private CgroupValues() {}

    private static final BigInteger U64_LIMIT = BigInteger.ONE.shiftLeft(64);
    private static final String BYTES_GRAMMAR = "a byte count as the kernel reads it: digits (or 0x hex, 0 octal),"
            + " then at most one of K M G T P E (×1024 each), or \"max\"";

    /** Whether {@code file} holds a byte count (or {@code max}). */
    public static boolean isBytesFile(String file) {
        return switch (file) {
            case MEMORY_MIN, MEMORY_LOW, MEMORY_HIGH, MEMORY_MAX, MEMORY_SWAP_HIGH, MEMORY_SWAP_MAX, MEMORY_ZSWAP_MAX ->
                    true;
            default -> false;
        };
    }

    /**
     * The value the kernel would set for {@code raw} written to {@code file}, in canonical spelling.
     *
     * @param file     a cgroup v2 memory settings file ({@link CgroupFiles#V2_SETTINGS})
     * @param pageSize the node's page size, for the kernel's clamp at PAGE_COUNTER_MAX pages
     * @throws IllegalArgumentException with a message that names the file and the value, and says why
     */
    public static String canonical(String file, String raw, long pageSize) {
        if (!V2_SETTINGS.contains(file)) {
            throw new IllegalArgumentException(file + ": not a cgroup v2 memory settings file (one of "
                    + new java.util.TreeSet<>(V2_SETTINGS) + ")");
        }
        if (raw.indexOf('\0') >= 0) {
            throw invalid(file, raw, "contains a NUL character (the kernel would stop reading there)");
        }
        String v = strip(raw);
        return isBytesFile(file) ? bytes(file, raw, v, pageSize) : flag(file, raw, v);
    }

    private static String bytes(String file, String raw, String v, long pageSize) {
        if (v.equals(V2_MAX)) {
            return V2_MAX;
        }
        Number n = number(v);
        if (n == null || n.digits == 0) {
            throw invalid(file, raw, "not " + BYTES_GRAMMAR);
        }
        int shift = 0;
        int end = n.end;
        if (end < v.length()) {
            shift = switch (v.charAt(end)) {
                case 'K', 'k' -> 10;
                case 'M', 'm' -> 20;
                case 'G', 'g' -> 30;
                case 'T', 't' -> 40;
                case 'P', 'p' -> 50;
                case 'E', 'e' -> 60;
                default -> -1;
            };
            end++;
        }
        if (shift < 0 || end != v.length()) {
            throw invalid(file, raw, "not " + BYTES_GRAMMAR);
        }
        BigInteger b = n.value.shiftLeft(shift);
        if (b.compareTo(U64_LIMIT) >= 0) {
            throw invalid(file, raw, "out of range: 2^64 bytes or more (the kernel would wrap it around and set a"
                    + " wrong value; write \"max\" for no limit)");
        }
        long page = pageSize > 0 ? pageSize : 4096;
        BigInteger pageCounterMax = BigInteger.valueOf(Long.MAX_VALUE / page);
        if (b.divide(BigInteger.valueOf(page)).compareTo(pageCounterMax) >= 0) {
            return V2_MAX; // clamped at PAGE_COUNTER_MAX pages: the kernel's unlimited
        }
        return b.toString();
    }

    private static String flag(String file, String raw, String v) {
        String body = v;
        boolean negative = false;
        if (!body.isEmpty() && (body.charAt(0) == '+' || body.charAt(0) == '-')) {
            negative = body.charAt(0) == '-';
            body = body.substring(1);
        }
        Number n = number(body);
        if (n == null || n.digits == 0 || n.end != body.length()) {
            throw invalid(file, raw, "not 0 or 1");
        }
        BigInteger x = negative ? n.value.negate() : n.value;
        if (!x.equals(BigInteger.ZERO) && !x.equals(BigInteger.ONE)) {
            throw invalid(file, raw, "must be 0 or 1");
        }
        return x.toString();
    }

    /** Digits from the start of {@code s} in the kernel's base-0 convention; value, digit count and end index. */
    private record Number(BigInteger value, int digits, int end) {}

    private static Number number(String s) {
        int i = 0;
        int base = 10;
        if (s.length() > 0 && s.charAt(0) == '0') {
            if (s.length() > 2 && (s.charAt(1) == 'x' || s.charAt(1) == 'X') && Character.digit(s.charAt(2), 16) >= 0
                    && s.charAt(2) < 128) {
                base = 16;
                i = 2;
            } else {
                base = 8;
            }
        }
        int start = i;
        BigInteger value = BigInteger.ZERO;
        BigInteger b = BigInteger.valueOf(base);
        while (i < s.length()) {
            char c = s.charAt(i);
            int d = c < 128 ? Character.digit(c, base) : -1;
            if (d < 0) {
                break;
            }
            value = value.multiply(b).add(BigInteger.valueOf(d));
            if (value.bitLength() > 80) { // far past 2^64: keep the number small; it is refused as out of range
                value = U64_LIMIT.shiftLeft(8);
            }
            i++;
        }
        return new Number(value, i - start, i);
    }

    /** The kernel's strstrip: leading and trailing ASCII white space (space, \t, \n, \v, \f, \r). */
    static String strip(String s) {
        int b = 0;
        int e = s.length();
        while (b < e && isSpace(s.charAt(b))) {
            b++;
        }
        while (e > b && isSpace(s.charAt(e - 1))) {
            e--;
        }
        return s.substring(b, e);
    }

    private static boolean isSpace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == 0x0b || c == '\f' || c == '\r';
    }

    private static IllegalArgumentException invalid(String file, String raw, String why) {
        return new IllegalArgumentException(file + "=\"" + printable(raw) + "\": " + why);
    }

    /** The value as it can be shown in one line of a message: control characters escaped, long values cut. */
    public static String printable(String raw) {
        return Printable.of(raw, 64);
    }
}
