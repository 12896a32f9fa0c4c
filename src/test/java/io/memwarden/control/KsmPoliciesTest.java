package io.memwarden.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.memwarden.model.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The kubevirt and ksmtuned policies against the reference's numbers (kernel-and-vm.md §1.3, §2; virt-handler
 * ksm.go, ksmtuned.sh) and the build machine's meminfo (MemTotal 24 683 772 kB, MemAvailable 21 538 492 kB).
 */
class KsmPoliciesTest {
    static final long TOTAL = 24_683_772, AVAILABLE = 21_538_492, FREE = 19_735_284, BUFFERS = 24_576,
            CACHED = 2_511_060;

    static KsmObservation obs(long total, long available, int run, long pages) {
        return new KsmObservation(total, available, FREE, BUFFERS, CACHED, 0, run, pages, 20, 0, 0, 0, 0, 0, 0);
    }

    static KsmObservation tuned(long total, long free, long committed, int run) {
        return new KsmObservation(total, free, free, 0, 0, committed, run, 100, 20, 0, 0, 0, 0, 0, 0);
    }

    // ---- kubevirt

    final KubevirtKsm kv = new KubevirtKsm();

    @Test
    void kubevirtSleepScalesWithUsedMemoryAndHasAFloorOfBaselineOverTen() {
        // 100 × 16 777 216 / (24 683 772 − 21 538 492) = 533.4
        assertThat(kv.sleepMillisecs(TOTAL, AVAILABLE)).isEqualTo(533);
        // a 16 GiB node with nothing available: the baseline
        assertThat(kv.sleepMillisecs(16_777_216, 0)).isEqualTo(100);
        // 1 TiB used: 1.6 → the floor 10
        assertThat(kv.sleepMillisecs(1L << 30, 0)).isEqualTo(10);
        assertThat(new KubevirtKsm(settings(300, -50, 64, 1250, 100, 250, 0.2f)).sleepMillisecs(1L << 30, 0))
                .isEqualTo(25);
        assertThat(kv.sleepMillisecs(1000, 1000)).isEqualTo(10); // Go would divide by zero
    }

    @Test
    void kubevirtPressureIsAvailableAtOrBelowTwentyPercent() {
        assertThat(kv.pressure(TOTAL, AVAILABLE)).isFalse();
        assertThat(kv.pressure(1000, 200)).isTrue(); // 200 > 200 is false: pressure
        assertThat(kv.pressure(1000, 201)).isFalse();
        assertThat(kv.pressure(TOTAL, TOTAL / 10)).isTrue();
    }

    @Test
    void kubevirtStoppedWithoutPressureWritesOnlyRunZero() {
        KsmDecision d = kv.decide(obs(TOTAL, AVAILABLE, 0, 100));
        assertThat(d).isEqualTo(new KsmDecision(0, null, null, false, d.reason()));
        assertThat(d.reason()).startsWith("kubevirt: no pressure (MemAvailable 21538492 kB > 20.0% of MemTotal");
    }

    @Test
    void kubevirtStartsWithInitThenBoostsBy300UpTo1250() {
        long avail = TOTAL / 10; // used 22 215 395 kB → sleep 75
        KsmDecision start = kv.decide(obs(TOTAL, avail, 0, 100));
        assertThat(start).isEqualTo(new KsmDecision(1, 100L, 75L, true, start.reason()));
        assertThat(start.reason()).contains("start with 100 pages, sleep 75 ms");
        List<Long> pages = new ArrayList<>();
        long p = 100;
        for (int i = 0; i < 5; i++) {
            p = kv.decide(obs(TOTAL, avail, 1, p)).pagesToScan();
            pages.add(p);
        }
        assertThat(pages).containsExactly(400L, 700L, 1000L, 1250L, 1250L);
    }

    @Test
    void kubevirtDecaysBy50AndStopsBelow64() {
        KsmDecision d = kv.decide(obs(TOTAL, AVAILABLE, 1, 400));
        assertThat(d).isEqualTo(new KsmDecision(1, 350L, 533L, false, d.reason()));
        KsmDecision stop = kv.decide(obs(TOTAL, AVAILABLE, 1, 100)); // 50 < 64
        assertThat(stop).isEqualTo(new KsmDecision(0, null, null, false, stop.reason()));
        assertThat(stop.reason()).contains("below the minimum 64: stop");
        // exactly 64 stays running
        assertThat(kv.decide(obs(TOTAL, AVAILABLE, 1, 114)).pagesToScan()).isEqualTo(64);
    }

    @Test
    void kubevirtTreatsRunTwoAsStopped() {
        assertThat(kv.decide(obs(TOTAL, TOTAL / 10, 2, 700)).pagesToScan()).isEqualTo(100);
    }

    @Test
    void kubevirtOverridesFromAnnotationsFallBackAsVirtHandlerDoes() {
        List<String> notes = new ArrayList<>();
        String p = "kubevirt.io/ksm-";
        KubevirtKsm.Settings s = KubevirtKsm.Settings.fromAnnotations(Map.of(p + "pages-boost-override", "500",
                p + "pages-decay-override", "10", p + "pages-min-override", "-5", p + "pages-max-override", "x",
                p + "pages-init-override", "5000", p + "sleep-ms-baseline-override", "0",
                p + "free-percent-override", "1.5"), notes);
        assertThat(s).isEqualTo(new KubevirtKsm.Settings(500, -50, 64, 1250, 100, 100, 0.2f));
        assertThat(notes).hasSize(6).contains(
                "kubevirt.io/ksm-pages-decay-override=10 is out of bounds -2147483648..0: virt-handler uses -50",
                "kubevirt.io/ksm-pages-max-override=\"x\" is not an integer: virt-handler uses the default 1250");
        // pages-init's default 100 is not strictly inside 64..100: virt-handler takes the lower bound
        notes.clear();
        s = KubevirtKsm.Settings.fromAnnotations(Map.of(p + "pages-max-override", "100",
                p + "pages-init-override", "101"), notes);
        assertThat(s.pagesInit()).isEqualTo(64);
        assertThat(s.pagesMax()).isEqualTo(100);
        assertThat(KubevirtKsm.annotationNames()).contains("kubevirt.io/ksm-free-percent-override");
    }

    @Test
    void kubevirtRefusesInconsistentSettings() {
        assertThatThrownBy(() -> new KubevirtKsm(settings(300, -50, 64, 50, 100, 100, 0.2f)))
                .hasMessage("pages-max 50 is below pages-min 64");
    }

    static KubevirtKsm.Settings settings(int boost, int decay, int min, int max, int init, long base, float free) {
        return new KubevirtKsm.Settings(boost, decay, min, max, init, base, free);
    }

    // ---- ksmtuned

    @Test
    void ksmtunedSleepAndThreshold() {
        Ksmtuned t = new Ksmtuned();
        assertThat(t.sleepMillisecs(TOTAL)).isEqualTo(10); // 6.8 → at most 10 becomes 10
        assertThat(t.sleepMillisecs(4_194_304)).isEqualTo(40); // 4 GiB node
        assertThat(t.thresKb(TOTAL)).isEqualTo(4_936_754);
        assertThat(t.thresKb(8000)).isEqualTo(2048); // THRES_CONST
    }

    @Test
    void ksmtunedStopsWhenCommittedIsLowAndFreeIsHigh() {
        Ksmtuned t = new Ksmtuned();
        KsmDecision d = t.decide(new KsmObservation(TOTAL, AVAILABLE, FREE, BUFFERS, CACHED, 0, 1, 100, 20, 0, 0, 0,
                0, 0, 0));
        assertThat(d).isEqualTo(new KsmDecision(0, null, null, false, d.reason()));
        assertThat(d.reason()).isEqualTo("ksmtuned: committed 0 kB + thres 4936754 kB < MemTotal 24683772 kB and free"
                + " 22270920 kB > thres: stop");
    }

    @Test
    void ksmtunedFirstDecayGives64FirstBoost300ThenClamps() {
        Ksmtuned t = new Ksmtuned();
        long committed = TOTAL; // all memory committed to VMs: KSM runs
        assertThat(t.decide(tuned(TOTAL, 10_000_000, committed, 0)).pagesToScan()).isEqualTo(64); // 0 − 50 → 64
        List<Long> boosts = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            KsmDecision d = t.decide(tuned(TOTAL, 1_000_000, committed, 1));
            assertThat(d.run()).isEqualTo(1);
            assertThat(d.sleepMillisecs()).isEqualTo(10);
            assertThat(d.pressure()).isTrue();
            boosts.add(d.pagesToScan());
        }
        assertThat(boosts).containsExactly(364L, 664L, 964L, 1250L, 1250L);
        Ksmtuned fresh = new Ksmtuned();
        assertThat(fresh.decide(tuned(TOTAL, 1_000_000, 0, 0)).pagesToScan()).isEqualTo(300);
    }

    @Test
    void ksmtunedKeepsNpagesAcrossAStop() {
        Ksmtuned t = new Ksmtuned();
        t.decide(tuned(TOTAL, 1_000_000, 0, 0)); // 300
        assertThat(t.decide(tuned(TOTAL, 20_000_000, 0, 1)).run()).isZero();
        assertThat(t.decide(tuned(TOTAL, 1_000_000, 0, 0)).pagesToScan()).isEqualTo(600);
    }

    // ---- the tuner: net loss

    final long[] now = {0};
    final Clock clock = () -> now[0];

    static KsmObservation running(long fullScans, long rmapItems, long sharing) {
        // sharing pages, one shared page, the rest unshared
        return new KsmObservation(TOTAL, TOTAL / 10, FREE, BUFFERS, CACHED, 0, 1, 400, 75, 1, sharing,
                rmapItems - sharing - 1, 0, 0, fullScans);
    }

    @Test
    void netLossIsJudgedAfterTwoFullScansThenUnmergesAndHolds() {
        KsmTuner tuner = new KsmTuner(new KubevirtKsm(), KsmTuner.Config.DEFAULTS, clock);
        assertThat(tuner.decide(running(5, 100_000, 1000)).run()).isEqualTo(1); // first seen at scan 5
        now[0] += 60_000;
        assertThat(tuner.decide(running(6, 100_000, 1000)).run()).isEqualTo(1); // one scan: too early
        now[0] += 60_000;
        KsmDecision loss = tuner.decide(running(7, 100_000, 1000));
        assertThat(loss.run()).isEqualTo(2);
        assertThat(loss.pagesToScan()).isNull();
        assertThat(loss.reason()).isEqualTo("net loss after 2+ full scans: 100000 rmap items for 1000 merged pages"
                + " (100.0 per merged page, break-even 64), profit -2304000 bytes: unmerge (run=2) and hold KSM stopped"
                + " for 1800 s");
        now[0] += Duration.ofMinutes(29).toMillis();
        KsmDecision held = tuner.decide(obs(TOTAL, TOTAL / 10, 2, 400));
        assertThat(held.run()).isNull();
        assertThat(held.reason()).isEqualTo("net-loss hold: KSM stays stopped for another 60 s");
        now[0] += Duration.ofMinutes(1).toMillis();
        assertThat(tuner.decide(obs(TOTAL, TOTAL / 10, 2, 400)).run()).isEqualTo(1); // the policy again
    }

    @Test
    void profitableKsmIsKept() {
        KsmTuner tuner = new KsmTuner(new KubevirtKsm(), KsmTuner.Config.DEFAULTS, clock);
        tuner.decide(running(0, 10_000, 8000));
        assertThat(tuner.decide(running(10, 10_000, 8000)).run()).isEqualTo(1);
        // exactly at break-even (64 rmap items per merged page, profit 0) is not a loss
        assertThat(tuner.netLoss(running(10, 64_000, 1000))).isFalse();
        assertThat(tuner.netLoss(running(10, 64_001, 1000))).isTrue();
    }

    @Test
    void scansCountFromWhenTheTunerStartedKsm() {
        KsmTuner tuner = new KsmTuner(new KubevirtKsm(), KsmTuner.Config.DEFAULTS, clock);
        assertThat(tuner.decide(obs(TOTAL, TOTAL / 10, 0, 100)).run()).isEqualTo(1); // started at full_scans 0
        assertThat(tuner.decide(running(1, 100_000, 0)).run()).isEqualTo(1);
        assertThat(tuner.decide(running(2, 100_000, 0)).run()).isEqualTo(2);
    }
}
