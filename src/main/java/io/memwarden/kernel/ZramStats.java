package io.memwarden.kernel;

import java.util.OptionalDouble;

/**
 * A zram device's {@code mm_stat} (Documentation/admin-guide/blockdev/zram.rst). Sizes are bytes.
 *
 * @param origDataSize   uncompressed size of the data stored
 * @param comprDataSize  compressed size of the data stored
 * @param memUsedTotal   memory allocated for the data, allocator overhead included: what zram really costs
 * @param memLimit       the limit on memUsedTotal, 0 = none
 * @param memUsedMax     the highest memUsedTotal seen
 * @param samePages      pages filled with one repeated word (stored without memory)
 * @param pagesCompacted pages freed by compaction
 * @param hugePages      incompressible pages (stored uncompressed)
 * @param hugePagesSince incompressible pages stored since the device was set up, or null on kernels with 8 fields
 */
public record ZramStats(long origDataSize, long comprDataSize, long memUsedTotal, long memLimit, long memUsedMax,
        long samePages, long pagesCompacted, long hugePages, Long hugePagesSince) {

    /** Parses mm_stat: 8 fields (kernels before 5.15 style) or 9 (huge_pages_since); more are ignored. */
    public static ZramStats parse(String mmStat) {
        String t = mmStat.strip();
        String[] f = t.isEmpty() ? new String[0] : t.split("\\s+");
        if (f.length < 8) {
            throw new IllegalArgumentException("mm_stat: expected 8 or 9 numbers, got " + f.length + ": \"" + t + "\"");
        }
        long[] v = new long[Math.min(f.length, 9)];
        for (int i = 0; i < v.length; i++) {
            try {
                v[i] = Long.parseLong(f[i]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("mm_stat: field " + (i + 1) + " \"" + f[i] + "\" is not a number: \""
                        + t + "\"");
            }
        }
        return new ZramStats(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v.length > 8 ? v[8] : null);
    }

    /** origDataSize / comprDataSize; empty while nothing compressed is stored. */
    public OptionalDouble compressionRatio() {
        return ratio(origDataSize, comprDataSize);
    }

    /** origDataSize / memUsedTotal, the ratio that counts for memory budgets; empty while nothing is stored. */
    public OptionalDouble memoryRatio() {
        return ratio(origDataSize, memUsedTotal);
    }

    private static OptionalDouble ratio(long num, long den) {
        return den <= 0 ? OptionalDouble.empty() : OptionalDouble.of((double) num / den);
    }
}
