package io.memwarden.model;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Locale;
import java.util.Set;

/**
 * Byte counts for people, as Kubernetes quantities in binary units ({@code Ki Mi Gi Ti Pi Ei}) that
 * {@link KubeQuantity#parse} reads back. The rule (docs/operations.md, "Sizes in tables"):
 * <ul>
 *   <li><b>Exact</b> when the value is a whole multiple of a unit with at most four digits: the largest such unit
 *       ({@code 1152Mi}, {@code 4Gi}, {@code 512}, {@code 4097}). A number without a decimal point is always
 *       the exact value.</li>
 *   <li><b>Rounded</b> otherwise: four significant digits (at least one decimal) in the largest unit not above the
 *       value ({@code 972.8Mi}, {@code 14.8Gi}, {@code 1.0Gi} for one byte more than 1Gi). A number with a decimal
 *       point is rounded, half up, to within 0.05% of the value.</li>
 * </ul>
 * Tables print this; JSON and YAML keep exact bytes.
 */
public final class HumanBytes {
    private HumanBytes() {}

    private static final String[] UNITS = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
    /** The largest relative error of a rounded value (half a unit in the fourth significant digit). */
    public static final double MAX_ROUNDING = 0.0005;

    /**
     * The cgroup files whose values are byte counts; other files ({@code memory.oom.group},
     * {@code memory.swappiness}, {@code memory.zswap.writeback}) and the words {@code max} and {@code -1} are
     * never rewritten.
     */
    public static final Set<String> BYTE_FILES = Set.of(CgroupFiles.MEMORY_MAX, CgroupFiles.MEMORY_SWAP_MAX,
            CgroupFiles.MEMORY_MIN, CgroupFiles.MEMORY_LOW, CgroupFiles.MEMORY_HIGH, CgroupFiles.MEMORY_SWAP_HIGH,
            CgroupFiles.MEMORY_ZSWAP_MAX, CgroupFiles.V1_LIMIT, CgroupFiles.V1_MEMSW_LIMIT, CgroupFiles.V1_SOFT_LIMIT,
            CgroupFiles.MEMORY_CURRENT, CgroupFiles.MEMORY_PEAK, CgroupFiles.MEMORY_SWAP_CURRENT,
            CgroupFiles.MEMORY_SWAP_PEAK, CgroupFiles.V1_USAGE, CgroupFiles.V1_MAX_USAGE, CgroupFiles.V1_MEMSW_USAGE,
            CgroupFiles.V1_MEMSW_MAX_USAGE);

    /** {@code bytes} by the rule above; a negative value is printed as a plain number (it is not a size). */
    public static String of(long bytes) {
        if (bytes <= 0) {
            return Long.toString(bytes);
        }
        for (int u = UNITS.length - 1; u >= 0; u--) {
            long unit = 1L << (10 * u);
            if (bytes % unit == 0 && bytes / unit < 10_000) {
                return bytes / unit + UNITS[u];
            }
        }
        int u = 0;
        while (u < UNITS.length - 1 && bytes >>> (10 * (u + 1)) > 0) {
            u++;
        }
        BigDecimal exact = BigDecimal.valueOf(bytes);
        BigDecimal m = rounded(exact, u);
        if (m.compareTo(BigDecimal.valueOf(1024)) >= 0 && u < UNITS.length - 1) {
            u++;
            m = rounded(exact, u);
        }
        String n = m.stripTrailingZeros().toPlainString();
        return (n.contains(".") ? n : m.setScale(1, RoundingMode.UNNECESSARY).toPlainString()) + UNITS[u];
    }

    private static BigDecimal rounded(BigDecimal bytes, int unit) {
        BigDecimal m = bytes.divide(BigDecimal.valueOf(2).pow(10 * unit));
        int intDigits = m.setScale(0, RoundingMode.DOWN).toPlainString().length();
        BigDecimal r = m.setScale(Math.max(1, 4 - intDigits), RoundingMode.HALF_UP);
        // near the int64 limit, rounding up would print a quantity no byte count can reach: round down there
        return r.multiply(BigDecimal.valueOf(2).pow(10 * unit)).compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0
                ? m.setScale(r.scale(), RoundingMode.DOWN) : r;
    }

    /**
     * A cgroup file's value for people: a byte file's decimal value by {@link #of}, anything else (another file,
     * {@code max}, {@code -1}, text that is not a plain number) unchanged.
     */
    public static String cgroupValue(String file, String value) {
        if (!BYTE_FILES.contains(file) || value.isEmpty() || !value.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return value;
        }
        try {
            return of(Long.parseLong(value));
        } catch (NumberFormatException tooLarge) {
            return value;
        }
    }

    /**
     * Bytes for a sentence (warnings, OOM diagnoses): at most one decimal, rounded down, e.g. 256Mi, 1.9Gi, 512Ki,
     * 100 bytes. Not for tables (use {@link #of}): it is shorter and not exact.
     */
    public static String sentence(long bytes) {
        if (bytes < 1024) {
            return bytes + (bytes == 1 ? " byte" : " bytes");
        }
        String[] units = {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        String s = String.format(Locale.ROOT, "%.1f", Math.floor(v * 10) / 10);
        if (s.endsWith(".0")) {
            s = s.substring(0, s.length() - 2);
        }
        return s + units[u];
    }
}
