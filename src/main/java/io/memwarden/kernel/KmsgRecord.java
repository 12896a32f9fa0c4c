package io.memwarden.kernel;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * One {@code /dev/kmsg} record: {@code "<prio>,<seq>,<timestamp µs>,<flags>[,...];<message>"}, continuation lines
 * (starting with a space) dropped. {@code priority} is the syslog priority (facility × 8 + level).
 *
 * <p>Reading never throws: {@link #read(String)} gives a record, or a {@link BadKmsgRecord} naming the field, its
 * value and the reason (an out-of-range number, a garbage field, a truncated header), so that one bad line is
 * skipped on its own.
 */
public record KmsgRecord(int priority, long sequence, long timestampMicros, String message) implements KmsgLine {
    /** The largest syslog priority the kernel writes: facility (a byte) × 8 + level (0–7). */
    public static final int PRIORITY_MAX = 255 * 8 + 7;

    /**
     * Reads a kmsg record, or a plain message line (as in a saved log): a line without the kmsg header becomes a
     * record with priority -1 and sequence -1. A {@code dmesg -r} style {@code <4>[ 12.34] msg} line keeps its
     * time. A line that starts like a kmsg header ({@code digits,}, or {@code a,b,...;} without a blank or tab
     * before the {@code ;}) or like
     * {@code dmesg -r} ({@code <...>[}) must be one in full, else it is bad.
     */
    public static KmsgLine read(String line) {
        String l = line.endsWith("\n") ? line.substring(0, line.length() - 1) : line;
        int nl = l.indexOf('\n');
        if (nl >= 0) {
            l = l.substring(0, nl); // continuation ("dictionary") lines follow the message
        }
        if (kmsgShaped(l)) {
            return kmsg(l);
        }
        if (l.startsWith("<") && l.indexOf(">[") > 0) {
            return dmesg(l);
        }
        return new KmsgRecord(-1, -1, -1, l);
    }

    /**
     * Reads one line's bytes (a {@code /dev/kmsg} record or a line of a saved log): a NUL byte or bytes that are
     * not UTF-8 make it bad; the text is then read by {@link #read(String)}.
     */
    public static KmsgLine read(byte[] b, int off, int len) {
        int end = off + len;
        for (int i = off; i < end; i++) {
            if (b[i] == '\n') {
                end = i; // the message ends here; dictionary lines follow
                break;
            }
            if (b[i] == 0) {
                return new BadKmsgRecord("text", latin1(b, off, Math.min(end, off + BadKmsgRecord.PREVIEW_CHARS)),
                        "a NUL byte at byte " + (i - off + 1) + ": binary data, not text");
            }
        }
        CharsetDecoder d = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(b, off, end - off);
        CharBuffer out = CharBuffer.allocate(end - off);
        CoderResult r = d.decode(in, out, true);
        if (!r.isError()) {
            r = d.flush(out);
        }
        if (r.isError()) {
            int at = in.position();
            return new BadKmsgRecord("text", latin1(b, off, Math.min(end, off + BadKmsgRecord.PREVIEW_CHARS)),
                    String.format("not valid UTF-8 (byte 0x%02x at byte %d)", b[at] & 0xff, at - off + 1));
        }
        return read(out.flip().toString());
    }

    /** As {@link #read(String)}, for tests and callers that know the line is good: a bad one is an error. */
    public static KmsgRecord parse(String line) {
        return switch (read(line)) {
            case KmsgRecord r -> r;
            case BadKmsgRecord bad -> throw new IllegalArgumentException(bad.describe());
        };
    }

    private static boolean kmsgShaped(String l) {
        int i = 0;
        while (i < l.length() && l.charAt(i) >= '0' && l.charAt(i) <= '9') {
            i++;
        }
        if (i > 0 && i < l.length() && l.charAt(i) == ',') {
            return true;
        }
        int semi = l.indexOf(';');
        if (semi <= 0) {
            return false;
        }
        boolean comma = false;
        for (int j = 0; j < semi; j++) {
            char c = l.charAt(j);
            if (c == ' ' || c == '\t') {
                return false;
            }
            comma |= c == ',';
        }
        return comma;
    }

    private static KmsgLine kmsg(String l) {
        int semi = l.indexOf(';');
        if (semi < 0) {
            return new BadKmsgRecord("header", l, "truncated: no ';' between the header and the message");
        }
        String header = l.substring(0, semi);
        String[] h = header.split(",", -1);
        if (h.length < 4) {
            return new BadKmsgRecord("header", header, "has " + h.length + " field" + (h.length == 1 ? "" : "s")
                    + ", a kmsg header has at least 4 (priority,sequence,timestamp,flags)");
        }
        long prio = number(h[0], PRIORITY_MAX);
        if (prio < 0) {
            return bad("priority", h[0], prio, PRIORITY_MAX, " (facility × 8 + level)");
        }
        long seq = number(h[1], Long.MAX_VALUE);
        if (seq < 0) {
            return bad("sequence", h[1], seq, Long.MAX_VALUE, "");
        }
        long ts = number(h[2], Long.MAX_VALUE);
        if (ts < 0) {
            return bad("timestamp", h[2], ts, Long.MAX_VALUE, " µs");
        }
        if (!h[3].equals("-") && !h[3].equals("c") && !h[3].equals("+")) {
            return new BadKmsgRecord("flags", h[3], "not one of -, c, +");
        }
        return new KmsgRecord((int) prio, seq, ts, unescape(l.substring(semi + 1)));
    }

    /** {@code <prio>[ seconds.micros] message}, as {@code dmesg -r} prints. */
    private static KmsgLine dmesg(String l) {
        int gt = l.indexOf(">[");
        String p = l.substring(1, gt);
        long prio = number(p, PRIORITY_MAX);
        if (prio < 0) {
            return bad("priority", p, prio, PRIORITY_MAX, " (facility × 8 + level)");
        }
        int close = l.indexOf(']', gt);
        if (close < 0) {
            return new BadKmsgRecord("timestamp", l.substring(gt + 1), "truncated: no ']' after the time");
        }
        String time = l.substring(gt + 2, close);
        int pad = 0;
        while (pad < time.length() && time.charAt(pad) == ' ') {
            pad++; // dmesg pads the seconds with blanks
        }
        String t = time.substring(pad);
        int dot = t.indexOf('.');
        String frac = dot < 0 ? "" : t.substring(dot + 1);
        long seconds = dot < 0 ? -1 : number(t.substring(0, dot), Long.MAX_VALUE / 1_000_000 - 1);
        if (dot < 0 || frac.isEmpty() || frac.length() > 6 || number(frac, 999_999) < 0 || seconds == NOT_A_NUMBER) {
            return new BadKmsgRecord("timestamp", time, "not seconds.microseconds (e.g. [  12.345678])");
        }
        if (seconds < 0) {
            return new BadKmsgRecord("timestamp", time,
                    "out of range (at most " + (Long.MAX_VALUE / 1_000_000 - 1) + " seconds)");
        }
        if (close + 1 < l.length() && l.charAt(close + 1) != ' ') {
            return new BadKmsgRecord("header", l.substring(0, Math.min(l.length(), close + 2)),
                    "no space between the time and the message");
        }
        String message = close + 2 <= l.length() ? l.substring(close + 2) : "";
        return new KmsgRecord((int) prio, -1, seconds * 1_000_000 + Long.parseLong((frac + "00000").substring(0, 6)),
                message);
    }

    static final long NOT_A_NUMBER = -1;
    static final long OUT_OF_RANGE = -2;

    /** ASCII digits only (no sign, no blanks, no other scripts' digits), at most {@code max}; else -1 or -2. */
    static long number(String s, long max) {
        if (s.isEmpty()) {
            return NOT_A_NUMBER;
        }
        long v = 0;
        boolean over = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return NOT_A_NUMBER;
            }
            int d = c - '0';
            if (over || v > (max - d) / 10) {
                over = true;
            } else {
                v = v * 10 + d;
            }
        }
        return over ? OUT_OF_RANGE : v;
    }

    private static BadKmsgRecord bad(String field, String value, long code, long max, String unit) {
        return new BadKmsgRecord(field, value, code == OUT_OF_RANGE ? "out of range 0–" + max + unit
                : value.isEmpty() ? "empty, not a number" : "not a number (digits 0-9 only)");
    }

    private static String latin1(byte[] b, int from, int to) {
        return new String(b, from, to - from, StandardCharsets.ISO_8859_1);
    }

    /**
     * kmsg escapes non-printable bytes (and every byte ≥ 0x7f, and the backslash) as {@code \xNN}: the bytes are
     * put back and read as UTF-8 (a byte that is not UTF-8, e.g. a Latin-1 task name, becomes U+FFFD).
     */
    static String unescape(String s) {
        if (!s.contains("\\x")) {
            return s;
        }
        ByteArrayOutputStream b = new ByteArrayOutputStream(s.length());
        int run = 0;
        for (int i = 0; i + 3 < s.length(); i++) {
            if (s.charAt(i) == '\\' && s.charAt(i + 1) == 'x' && hex(s.charAt(i + 2)) >= 0 && hex(s.charAt(i + 3)) >= 0) {
                b.writeBytes(s.substring(run, i).getBytes(StandardCharsets.UTF_8));
                b.write(hex(s.charAt(i + 2)) * 16 + hex(s.charAt(i + 3)));
                i += 3;
                run = i + 1;
            }
        }
        b.writeBytes(s.substring(run).getBytes(StandardCharsets.UTF_8));
        return b.toString(StandardCharsets.UTF_8);
    }

    private static int hex(char c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    }
}
