package io.memwarden.control;

import java.util.regex.Pattern;

/**
 * ksmtuned's algorithm (ksmtuned/ksmtuned {@code src/ksmtuned.sh.in}, defaults of {@code /etc/ksmtuned.conf}):
 * <ul>
 * <li>sleep = SLEEP_MSEC × 16 777 216 / MemTotal (kB, integer), at least 10 — computed once, from MemTotal only;</li>
 * <li>thres = max(MemTotal × THRES_COEF / 100, THRES_CONST) kB; free = MemFree + Buffers + Cached; committed = Σ RSS
 * of the VM processes;</li>
 * <li>committed + thres &lt; MemTotal and free &gt; thres: stop (write run=0 only);</li>
 * <li>else npages += BOOST when free &lt; thres, else += DECAY, clamped to [MIN, MAX], and write pages_to_scan,
 * sleep_millisecs, run=1.</li>
 * </ul>
 * npages is the script's own variable: it starts at 0 (so the first boost gives 300, the first decay MIN) and
 * survives stops; this object holds it, so one instance is one ksmtuned process.
 */
public final class Ksmtuned implements KsmPolicy {

    /** ksmtuned's pgrep expression for the VM processes whose RSS is "committed". */
    public static final Pattern QEMU = Pattern.compile("^qemu(-(kvm|system-.+)|:.{1,11})$");

    /**
     * @param thresCoef  percent of MemTotal
     * @param thresConst kB
     */
    public record Settings(int npagesBoost, int npagesDecay, int npagesMin, int npagesMax, long sleepMsec,
                           int thresCoef, long thresConst) {
        public static final Settings DEFAULTS = new Settings(300, -50, 64, 1250, 10, 20, 2048);

        public String problem() {
            if (npagesMin < 0) {
                return "npagesMin " + npagesMin + " is below 0";
            }
            if (npagesMax < npagesMin) {
                return "npagesMax " + npagesMax + " is below npagesMin " + npagesMin;
            }
            if (sleepMsec < 1) {
                return "sleepMsec " + sleepMsec + " is below 1";
            }
            if (thresCoef < 0 || thresCoef > 100) {
                return "thresCoef " + thresCoef + " is outside 0..100";
            }
            if (thresConst < 0) {
                return "thresConst " + thresConst + " is below 0";
            }
            return null;
        }
    }

    private final Settings settings;
    private long npages;

    public Ksmtuned(Settings settings) {
        String p = settings.problem();
        if (p != null) {
            throw new IllegalArgumentException(p);
        }
        this.settings = settings;
    }

    public Ksmtuned() {
        this(Settings.DEFAULTS);
    }

    @Override
    public String name() {
        return "ksmtuned";
    }

    public Settings settings() {
        return settings;
    }

    /** The script's npages (0 before the first start). */
    public long npages() {
        return npages;
    }

    /** ksmtuned's sleep: SLEEP_MSEC × 16 GiB-in-kB / MemTotal, at least 10 ({@code [ $sleep -le 10 ] && sleep=10}). */
    public long sleepMillisecs(long totalKb) {
        long sleep = totalKb > 0 ? settings.sleepMsec() * 16_777_216L / totalKb : 10;
        return sleep <= 10 ? 10 : sleep;
    }

    public long thresKb(long totalKb) {
        return Math.max(totalKb * settings.thresCoef() / 100, settings.thresConst());
    }

    @Override
    public KsmDecision decide(KsmObservation o) {
        long total = o.memTotalKb();
        long thres = thresKb(total);
        long free = o.memFreeKb() + o.buffersKb() + o.cachedKb();
        long committed = o.committedKb();
        if (committed + thres < total && free > thres) {
            return KsmDecision.stop(false, "ksmtuned: committed " + committed + " kB + thres " + thres + " kB < MemTotal "
                    + total + " kB and free " + free + " kB > thres: stop");
        }
        long before = npages;
        boolean boost = free < thres;
        npages += boost ? settings.npagesBoost() : settings.npagesDecay();
        npages = Math.clamp(npages, settings.npagesMin(), settings.npagesMax());
        long sleep = sleepMillisecs(total);
        String why = committed + thres >= total ? "committed " + committed + " kB + thres " + thres
                + " kB >= MemTotal " + total + " kB" : "free " + free + " kB <= thres " + thres + " kB";
        return KsmDecision.start(npages, sleep, boost, "ksmtuned: " + why + ": start; free " + free + " kB "
                + (boost ? "< thres: boost " : ">= thres: decay ") + before + " -> " + npages + " pages, sleep " + sleep
                + " ms");
    }
}
