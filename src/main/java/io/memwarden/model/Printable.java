package io.memwarden.model;

/**
 * Text from a pod author or a file, made fit to show in one line of a message, a log line or an event: control
 * characters (a newline that would forge a second log line, a NUL, an escape sequence) are written as escapes, and
 * a long text is cut with its length said.
 */
public final class Printable {
    private Printable() {}

    /** {@code raw} in one line of at most about {@code max} characters; "null" for null. */
    public static String of(String raw, int max) {
        if (raw == null) {
            return "null";
        }
        StringBuilder out = new StringBuilder(Math.min(raw.length(), max) + 16);
        int n = Math.min(raw.length(), max);
        for (int i = 0; i < n; i++) {
            char c = raw.charAt(i);
            switch (c) {
                case '\n' -> out.append("\\n");
                case '\t' -> out.append("\\t");
                case '\r' -> out.append("\\r");
                default -> {
                    if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029'
                            || Character.getType(c) == Character.FORMAT) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        if (raw.length() > n) {
            out.append("…(").append(raw.length()).append(" characters)");
        }
        return out.toString();
    }
}
