package io.memwarden.density;

import java.util.Locale;

/** Byte counts in warnings: binary units with up to two decimals ("1.5Gi", "200Mi", "512"). */
final class Bytes {
    private Bytes() {}

    private static final String[] UNITS = {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};

    static String text(long bytes) {
        if (Math.abs(bytes) < 1024) {
            return Long.toString(bytes);
        }
        double v = bytes;
        int u = -1;
        while (Math.abs(v) >= 1024 && u < UNITS.length - 1) {
            v /= 1024;
            u++;
        }
        String n = String.format(Locale.ROOT, "%.2f", v).replaceAll("0+$", "").replaceAll("\\.$", "");
        return n + UNITS[u];
    }
}
