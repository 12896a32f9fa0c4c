package io.memwarden.cli;

import io.memwarden.kernel.SwapArea;
import io.memwarden.kernel.ZramDevice;
import io.memwarden.kernel.ZramStats;
import io.memwarden.kernel.Zswap;
import io.memwarden.model.HumanBytes;
import java.io.PrintWriter;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;

/** Renders {@code memwarden swap status} as JSON, YAML or a table; all three show the same data (sizes in bytes). */
final class SwapOutput {
    private SwapOutput() {}

    record Status(List<Area> swaps, List<ZramEntry> zram, ZswapEntry zswap) {}

    record Area(String path, String type, long sizeBytes, long usedBytes, int priority) {}

    record ZramEntry(String device, long disksizeBytes, String algorithm, List<String> algorithms, boolean swap,
            MmStat mmStat) {}

    /** mm_stat; the ratios are absent while nothing is stored. */
    record MmStat(long origDataSizeBytes, long comprDataSizeBytes, long memUsedTotalBytes, long memLimitBytes,
            long memUsedMaxBytes, long samePages, long pagesCompacted, long hugePages, Long hugePagesSince,
            Double compressionRatio, Double memoryRatio) {}

    record ZswapEntry(boolean enabled, String compressor, Integer maxPoolPercent,
            Map<String, String> parameters) {}

    static Status status(List<SwapArea> swaps, List<ZramDevice> zram, Zswap.Status zswap) {
        List<Area> areas = swaps.stream()
                .map(a -> new Area(a.path(), a.type().procName(), a.size(), a.used(), a.priority())).toList();
        List<ZramEntry> devices = new ArrayList<>();
        for (ZramDevice d : zram) {
            String node = "/dev/" + d.name();
            boolean isSwap = swaps.stream().anyMatch(a -> a.path().equals(node));
            ZramStats s = d.stats();
            devices.add(new ZramEntry(d.name(), d.disksize(), d.algorithm(), d.algorithms(), isSwap,
                    new MmStat(s.origDataSize(), s.comprDataSize(), s.memUsedTotal(), s.memLimit(), s.memUsedMax(),
                            s.samePages(), s.pagesCompacted(), s.hugePages(), s.hugePagesSince(),
                            round(s.compressionRatio()), round(s.memoryRatio()))));
        }
        ZswapEntry z = zswap == null ? null : new ZswapEntry(zswap.enabled(),
                zswap.compressor(), zswap.maxPoolPercent(), zswap.parameters());
        return new Status(areas, List.copyOf(devices), z);
    }

    private static Double round(OptionalDouble r) {
        return r.isEmpty() ? null : BigDecimal.valueOf(r.getAsDouble()).setScale(3, RoundingMode.HALF_EVEN).doubleValue();
    }

    static void write(Status s, PlanOutput.Format format, PrintWriter out) {
        switch (format) {
            case json -> out.println(PlanOutput.JSON.writeValueAsString(s));
            case yaml -> out.print(PlanOutput.YAML.writeValueAsString(s));
            case table -> table(s, out);
        }
    }

    private static void table(Status s, PrintWriter out) {
        out.println("SWAP AREAS (/proc/swaps)");
        if (s.swaps().isEmpty()) {
            out.println("  (none)");
        } else {
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"PATH", "TYPE", "SIZE", "USED", "PRIORITY"});
            for (Area a : s.swaps()) {
                rows.add(new String[] {a.path(), a.type(), human(a.sizeBytes()), human(a.usedBytes()),
                        Integer.toString(a.priority())});
            }
            rows(rows, out);
        }
        out.println();
        out.println("ZRAM (/sys/block/zram*)");
        if (s.zram().isEmpty()) {
            out.println("  (no zram devices)");
        } else {
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"DEVICE", "DISKSIZE", "ALGORITHM", "SWAP", "ORIG", "COMPRESSED", "MEM_USED",
                    "RATIO", "MEM_RATIO"});
            for (ZramEntry z : s.zram()) {
                MmStat m = z.mmStat();
                rows.add(new String[] {z.device(), human(z.disksizeBytes()), z.algorithm() == null ? "-" : z.algorithm(),
                        z.swap() ? "yes" : "no", human(m.origDataSizeBytes()), human(m.comprDataSizeBytes()),
                        human(m.memUsedTotalBytes()), ratio(m.compressionRatio()), ratio(m.memoryRatio())});
            }
            rows(rows, out);
        }
        out.println();
        if (s.zswap() == null) {
            out.println("ZSWAP: not built (no /sys/module/zswap/parameters)");
        } else {
            out.println("ZSWAP (/sys/module/zswap/parameters; memwarden never changes them)");
            StringBuilder sb = new StringBuilder(" ");
            s.zswap().parameters().forEach((k, v) -> sb.append(' ').append(k).append('=').append(v));
            out.println(sb);
        }
        out.println();
        out.println("(sizes in binary units, exact unless they have a decimal point; exact bytes: -o json or -o yaml)");
    }

    private static void rows(List<String[]> rows, PrintWriter out) {
        int[] w = new int[rows.getFirst().length];
        for (String[] r : rows) {
            for (int i = 0; i < r.length; i++) {
                w[i] = Math.max(w[i], r[i].length());
            }
        }
        for (String[] r : rows) {
            StringBuilder sb = new StringBuilder(" ");
            for (int i = 0; i < r.length; i++) {
                sb.append(' ').append(String.format("%-" + w[i] + "s", r[i]));
            }
            out.println(sb.toString().stripTrailing());
        }
    }

    private static String ratio(Double r) {
        return r == null ? "-" : String.format(Locale.ROOT, "%.2f", r);
    }

    /** Bytes for people: {@link HumanBytes}. */
    static String human(long bytes) {
        return HumanBytes.of(bytes);
    }
}
