package io.memwarden.kernel;

/**
 * One {@code /dev/kmsg} record: {@code "<prio>,<seq>,<timestamp µs>,<flags>[,...];<message>"}, continuation lines
 * (starting with a space) dropped. {@code priority} is the syslog priority (facility × 8 + level).
 */
public record KmsgRecord(int priority, long sequence, long timestampMicros, String message) {

    /**
     * Parses a kmsg record, or a plain message line (as in a saved log): a line without the {@code ;} header becomes
     * a record with priority -1 and sequence -1. A {@code dmesg -r} style {@code <4>[ 12.34] msg} line keeps its time.
     */
    public static KmsgRecord parse(String line) {
        String l = line.endsWith("\n") ? line.substring(0, line.length() - 1) : line;
        int nl = l.indexOf('\n');
        if (nl >= 0) {
            l = l.substring(0, nl); // continuation ("dictionary") lines follow the message
        }
        int semi = l.indexOf(';');
        if (semi > 0) {
            String[] h = l.substring(0, semi).split(",");
            if (h.length >= 3 && h[0].matches("[0-9]+") && h[1].matches("[0-9]+") && h[2].matches("[0-9]+")) {
                return new KmsgRecord(Integer.parseInt(h[0]), Long.parseLong(h[1]), Long.parseLong(h[2]),
                        unescape(l.substring(semi + 1)));
            }
        }
        var m = java.util.regex.Pattern.compile("^<([0-9]+)>\\[\\s*([0-9]+)\\.([0-9]{1,6})\\] (.*)$").matcher(l);
        if (m.matches()) {
            String frac = (m.group(3) + "000000").substring(0, 6);
            return new KmsgRecord(Integer.parseInt(m.group(1)), -1,
                    Long.parseLong(m.group(2)) * 1_000_000 + Long.parseLong(frac), m.group(4));
        }
        return new KmsgRecord(-1, -1, -1, l);
    }

    /** kmsg escapes non-printable bytes as {@code \xNN}. */
    static String unescape(String s) {
        if (!s.contains("\\x")) {
            return s;
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == '\\' && i + 3 < s.length() + 0 && s.charAt(i + 1) == 'x'
                    && s.substring(i + 2, i + 4).matches("[0-9a-fA-F]{2}")) {
                b.append((char) Integer.parseInt(s.substring(i + 2, i + 4), 16));
                i += 3;
            } else {
                b.append(s.charAt(i));
            }
        }
        return b.toString();
    }
}
