package io.memwarden.kernel;

import java.util.Map;

/**
 * One read of {@code /sys/kernel/mm/ksm/}: the node's KSM counters and settings as the kernel shows them. A counter
 * the kernel does not have (older kernels lack {@code general_profit}, {@code ksm_zero_pages}, {@code pages_skipped})
 * is -1
 * (except {@code general_profit}, which can be negative).
 *
 * @param run            0 stopped (merges kept), 1 running, 2 unmerge all
 * @param pagesToScan    pages ksmd scans per wake-up
 * @param sleepMillisecs ksmd's sleep between wake-ups
 * @param pagesShared    KSM pages in use (one per distinct content)
 * @param pagesSharing   page-table entries pointing at them beyond the first: the pages saved
 * @param pagesUnshared  pages checked and unique
 * @param pagesVolatile  pages changing too fast to merge
 * @param fullScans      completed scans of all mergeable areas
 * @param generalProfit  the kernel's own profit in bytes (6.6+; may be negative), or {@link Long#MIN_VALUE} when absent
 * @param zeroPages      {@code ksm_zero_pages} (use_zero_pages=1 merges into the kernel zero page), or -1
 * @param advisorMode    the selected {@code advisor_mode} ("none", "scan-time"), or "" when the kernel has none
 * @param raw            every readable single-line file by name, as read (for {@code ksm status})
 */
public record KsmCounters(int run, long pagesToScan, long sleepMillisecs, long pagesShared, long pagesSharing,
                          long pagesUnshared, long pagesVolatile, long fullScans, long generalProfit, long zeroPages,
                          String advisorMode, Map<String, String> raw) {

    /** sizeof(struct ksm_rmap_item) on 64-bit kernels: the metadata KSM keeps per scanned page. */
    public static final long RMAP_ITEM_BYTES = 64;
    public static final long PAGE_BYTES = 4096;

    public KsmCounters {
        raw = Map.copyOf(raw);
    }

    /**
     * rmap items in the kernel: {@code pages_volatile} is computed by the kernel as rmap items − shared − sharing −
     * unshared (mm/ksm.c), so the four add up to {@code ksm_rmap_items}.
     */
    public long rmapItems() {
        return pagesShared + pagesSharing + pagesUnshared + pagesVolatile;
    }

    /** Bytes saved: (pages_sharing + ksm_zero_pages) × 4 KiB. */
    public long savedBytes() {
        return (pagesSharing + Math.max(0, zeroPages)) * PAGE_BYTES;
    }

    /** Bytes of KSM metadata: rmap items × 64. */
    public long metadataBytes() {
        return rmapItems() * RMAP_ITEM_BYTES;
    }

    /** The kernel's general_profit when it has one, else the same formula computed here (mm/ksm.c). */
    public long profitBytes() {
        return generalProfit != Long.MIN_VALUE ? generalProfit : savedBytes() - metadataBytes();
    }
}
