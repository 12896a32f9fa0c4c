package io.memwarden.view;

/** Byte counts for people: binary units (Ki, Mi, Gi, Ti), three significant digits. */
final class Bytes {
    private Bytes() {}

    private static final String[] UNITS = {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};

    /** "0", "512", "1.5Ki", "80.2Mi", "128Mi", "3.75Gi"; a negative value (unlimited) is "max". */
    public static String human(long bytes) {
        if (bytes < 0) {
            return "max";
        }
        if (bytes < 1024) {
            return Long.toString(bytes);
        }
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < UNITS.length - 1) {
            v /= 1024;
            u++;
        }
        String n = v < 10 ? String.format(java.util.Locale.ROOT, "%.2f", v)
                : v < 100 ? String.format(java.util.Locale.ROOT, "%.1f", v)
                : Long.toString(Math.round(v));
        if (n.contains(".")) {
            n = n.replaceAll("0+$", "").replaceAll("\\.$", "");
        }
        return n + UNITS[u];
    }
}
