package io.memwarden.control;

/**
 * What the KSM tuner sees in one pass: the node's memory ({@code /proc/meminfo}, kB), the memory ksmtuned calls
 * committed (RSS of the VM processes, kB) and {@code /sys/kernel/mm/ksm/} (pages).
 *
 * @param committedKb ksmtuned's committed memory: Σ RSS of the matching processes (kubevirt ignores it)
 * @param run         the current {@code run}: 0, 1 or 2
 * @param zeroPages   {@code ksm_zero_pages}, 0 when the kernel has none
 */
public record KsmObservation(long memTotalKb, long memAvailableKb, long memFreeKb, long buffersKb, long cachedKb,
                             long committedKb, int run, long pagesToScan, long sleepMillisecs, long pagesShared,
                             long pagesSharing, long pagesUnshared, long pagesVolatile, long zeroPages,
                             long fullScans) {

    /** rmap items: the four page counters add up to the kernel's ksm_rmap_items (pages_volatile is the rest). */
    public long rmapItems() {
        return pagesShared + pagesSharing + pagesUnshared + pagesVolatile;
    }

    /** Pages KSM saves: pages_sharing plus pages merged into the zero page. */
    public long mergedPages() {
        return pagesSharing + Math.max(0, zeroPages);
    }

    /** The kernel's general_profit formula: merged pages × 4096 − rmap items × 64. */
    public long profitBytes() {
        return mergedPages() * 4096 - rmapItems() * 64;
    }
}
