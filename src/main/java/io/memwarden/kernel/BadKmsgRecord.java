package io.memwarden.kernel;

/**
 * A kernel-log line that is not a usable record, skipped on its own: which field, its value as read and why.
 *
 * @param field  e.g. {@code priority}, {@code sequence}, {@code timestamp}, {@code flags}, {@code header},
 *               {@code pid}, {@code text} (the line as a whole: NUL bytes, invalid UTF-8) or {@code line} (too long)
 * @param value  the value as read (possibly long or binary: {@link #describe()} shows a printable, bounded preview)
 * @param reason what is wrong with it, in words
 */
public record BadKmsgRecord(String field, String value, String reason) implements KmsgLine {
    /** How much of a value a message shows. */
    public static final int PREVIEW_CHARS = 64;

    /** {@code priority "99999999999": out of range ...}, the value escaped and cut to a readable length. */
    public String describe() {
        return field + " \"" + preview(value) + "\": " + reason;
    }

    /** The value with control characters, quotes and backslashes escaped, cut at {@link #PREVIEW_CHARS}. */
    public static String preview(String s) {
        StringBuilder b = new StringBuilder();
        int shown = 0;
        for (int i = 0; i < s.length(); i = s.offsetByCodePoints(i, 1)) {
            if (shown == PREVIEW_CHARS) {
                b.append("…");
                break;
            }
            b.append(printable(s.codePointAt(i)));
            shown++;
        }
        return b.toString();
    }

    /** A code point as a terminal may show it: control and format characters (and {@code "}, {@code \}) escaped. */
    static String printable(int cp) {
        if (cp == '"' || cp == '\\') {
            return "\\" + (char) cp;
        }
        int type = Character.getType(cp);
        if (Character.isISOControl(cp) || type == Character.FORMAT || type == Character.SURROGATE
                || type == Character.LINE_SEPARATOR || type == Character.PARAGRAPH_SEPARATOR) {
            return cp <= 0xff ? String.format("\\x%02x", cp) : String.format("\\u%04x", cp);
        }
        return Character.toString(cp);
    }

    /** {@code s} with every control or format character escaped (for table output of names from the log). */
    public static String printableText(String s) {
        StringBuilder b = null;
        for (int i = 0; i < s.length(); i = s.offsetByCodePoints(i, 1)) {
            int cp = s.codePointAt(i);
            String p = cp == '"' || cp == '\\' ? Character.toString(cp) : printable(cp);
            if (b == null && (p.length() != Character.charCount(cp) || p.codePointAt(0) != cp)) {
                b = new StringBuilder(s.substring(0, i));
            }
            if (b != null) {
                b.append(p);
            }
        }
        return b == null ? s : b.toString();
    }
}
