package io.memwarden.kernel;

/**
 * One process's KSM accounting: {@code /proc/PID/ksm_stat} (6.1+; fields a kernel lacks are -1) and
 * {@code /proc/PID/ksm_merging_pages}.
 *
 * @param rmapItems     ksm_rmap_items: pages of this process KSM tracks
 * @param zeroPages     ksm_zero_pages, or -1
 * @param mergingPages  ksm_merging_pages: this process's pages currently merged
 * @param profitBytes   ksm_process_profit, or -1 when absent
 * @param mergeAny      ksm_merge_any: the whole process opted in with prctl(PR_SET_MEMORY_MERGE)
 * @param mergeable     ksm_mergeable: it has a mergeable area (either way)
 */
public record ProcessKsm(int pid, long rmapItems, long zeroPages, long mergingPages, long profitBytes,
                         boolean mergeAny, boolean mergeable) {

    static ProcessKsm parse(int pid, String ksmStat, String mergingPages) {
        long rmap = -1, zero = -1, merging = -1, profit = -1;
        boolean any = false, mergeable = false;
        for (String line : ksmStat.split("\n")) {
            String[] f = line.strip().split("[\\s:]+", 2);
            if (f.length < 2) {
                continue;
            }
            String v = f[1].strip();
            switch (f[0]) {
                case "ksm_rmap_items" -> rmap = number(v);
                case "ksm_zero_pages" -> zero = number(v);
                case "ksm_merging_pages" -> merging = number(v);
                case "ksm_process_profit" -> profit = number(v);
                case "ksm_merge_any" -> any = v.equals("yes");
                case "ksm_mergeable" -> mergeable = v.equals("yes");
                default -> { }
            }
        }
        if (merging < 0 && mergingPages != null) {
            merging = number(mergingPages.strip());
        }
        return new ProcessKsm(pid, rmap, zero, merging, profit, any, mergeable);
    }

    private static long number(String s) {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
