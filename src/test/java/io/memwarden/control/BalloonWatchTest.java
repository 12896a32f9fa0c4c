package io.memwarden.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.model.Pressure;
import java.time.Duration;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

/** {@link BalloonWatch} with a scripted balloon and an injected clock, and the guard's thresholds on what it leaves. */
class BalloonWatchTest {
    static final long MI = 1L << 20;
    static final long GI = 1L << 30;

    long now;
    final BalloonWatch watch = new BalloonWatch(BalloonWatch.Config.DEFAULTS, () -> now);

    /** virtio_balloon with QEMU's defaults: the driver takes the balloon out of MemTotal. */
    BalloonWatch.State virtioOutside(long physical, long balloon) {
        return watch.observe(new BalloonWatch.Observation("virtio_balloon", false, physical - balloon, balloon,
                "vmstat balloon_inflate - balloon_deflate", false));
    }

    @Test
    void effectiveCapacityIsWhatTheHypervisorLeft() {
        BalloonWatch.State s = virtioOutside(2 * GI, 0);
        assertThat(s.physicalBytes()).isEqualTo(2 * GI);
        assertThat(s.effectiveBytes()).isEqualTo(2 * GI);
        assertThat(s.grew()).isNull();
        now += 1000;
        s = virtioOutside(2 * GI, 1 * GI);
        assertThat(s.physicalBytes()).as("MemTotal dropped, physical did not").isEqualTo(2 * GI);
        assertThat(s.balloonBytes()).isEqualTo(GI);
        assertThat(s.effectiveBytes()).isEqualTo(GI);
        assertThat(s.share()).isEqualTo(0.5);
    }

    @Test
    void aLargeGrowthIsReportedOnceAndTheRateFollowsTheBalloon() {
        virtioOutside(2 * GI, 0);
        now += 500;
        BalloonWatch.State s = virtioOutside(2 * GI, 100 * MI); // 4.9 %: not yet
        assertThat(s.grew()).isNull();
        assertThat(s.growthBytesPerSecond()).isEqualTo(200.0 * MI);
        now += 500;
        s = virtioOutside(2 * GI, 300 * MI); // 14.6 % since the start
        assertThat(s.grew()).isNotNull();
        assertThat(s.grew().fromBytes()).isZero();
        assertThat(s.grew().toBytes()).isEqualTo(300 * MI);
        assertThat(s.grew().overMillis()).isEqualTo(1000);
        assertThat(s.grew().share()).isGreaterThan(0.14).isLessThan(0.15);
        assertThat(s.grew().describe()).contains("grew by " + 300 * MI + " bytes").contains("14.6 %")
                .contains("capacity now " + (2 * GI - 300 * MI));
        now += 500;
        s = virtioOutside(2 * GI, 350 * MI); // 50 MiB more: below the share again
        assertThat(s.grew()).isNull();
        now += 3000;
        s = virtioOutside(2 * GI, 350 * MI); // steady: the rate falls to 0 once the window has passed
        assertThat(s.growthBytesPerSecond()).isZero();
    }

    @Test
    void aBalloonInflatedBeforeTheWatchStartedIsNoGrowthButCounts() {
        BalloonWatch.State s = virtioOutside(4 * GI, 3 * GI);
        assertThat(s.grew()).isNull();
        assertThat(s.effectiveBytes()).isEqualTo(GI);
        assertThat(s.physicalBytes()).isEqualTo(4 * GI);
    }

    @Test
    void deflatingResetsTheBaselineSoTheNextInflationIsSeen() {
        virtioOutside(2 * GI, GI);
        now += 1000;
        BalloonWatch.State s = virtioOutside(2 * GI, 0);
        assertThat(s.grew()).isNull();
        assertThat(s.growthBytesPerSecond()).isNegative();
        assertThat(s.effectiveBytes()).isEqualTo(2 * GI);
        now += 1000;
        s = virtioOutside(2 * GI, 400 * MI);
        assertThat(s.grew()).isNotNull();
        assertThat(s.grew().fromBytes()).isZero();
    }

    @Test
    void withoutACounterTheMemTotalDropIsTheBalloon() {
        watch.observe(new BalloonWatch.Observation("virtio_balloon", false, 2 * GI, -1, "no balloon counter", false));
        now += 1000;
        BalloonWatch.State s = watch.observe(new BalloonWatch.Observation("virtio_balloon", false, 1536 * MI, -1,
                "no balloon counter", false));
        assertThat(s.balloonBytes()).isEqualTo(512 * MI);
        assertThat(s.effectiveBytes()).isEqualTo(1536 * MI);
        assertThat(s.grew()).isNotNull();
    }

    @Test
    void insideMemTotalTheBalloonIsSubtracted() {
        // vmw_balloon, or virtio with DEFLATE_ON_OOM: MemTotal stays, the balloon looks used
        BalloonWatch.State s = watch.observe(new BalloonWatch.Observation("vmw_balloon", true, 8 * GI, 2 * GI,
                "meminfo Balloon", false));
        assertThat(s.insideMemTotal()).isTrue();
        assertThat(s.physicalBytes()).isEqualTo(8 * GI);
        assertThat(s.effectiveBytes()).isEqualTo(6 * GI);
    }

    @Test
    void freePageReportingIsRecordedNotPressure() {
        BalloonWatch.State s = watch.observe(new BalloonWatch.Observation("virtio_balloon", true, 4 * GI, 0,
                "meminfo Balloon", true));
        assertThat(s.freePageReporting()).isTrue();
        assertThat(s.effectiveBytes()).isEqualTo(4 * GI);
        assertThat(s.balloonBytes()).isZero();
        assertThat(s.growthBytesPerSecond()).isZero();
    }

    @Test
    void noDriverMeansNoBalloonWhateverTheCounters() {
        BalloonWatch.State s = watch.observe(new BalloonWatch.Observation("none", false, 4 * GI, 123 * MI,
                "vmstat nr_balloon_pages", false));
        assertThat(s.driver()).isEqualTo("none");
        assertThat(s.balloonBytes()).isZero();
        assertThat(s.effectiveBytes()).isEqualTo(4 * GI);
    }

    // ------------------------------------------------------------------ properties

    record Step(long memTotal, long balloon, boolean inside, long dtMillis) {}

    @Provide
    Arbitrary<List<Step>> scripts() {
        Arbitrary<Step> step = Combinators.combine(Arbitraries.longs().between(0, 64 * GI),
                Arbitraries.longs().between(-1, 80 * GI), Arbitraries.of(true, false),
                Arbitraries.longs().between(0, 5000)).as(Step::new);
        return step.list().ofMinSize(1).ofMaxSize(40);
    }

    @Property
    void effectiveCapacityIsNeverAbovePhysicalNorBelowZero(@ForAll("scripts") List<Step> script) {
        long[] clock = {0};
        BalloonWatch w = new BalloonWatch(BalloonWatch.Config.DEFAULTS, () -> clock[0]);
        long physicalBefore = 0;
        for (Step s : script) {
            clock[0] += s.dtMillis();
            BalloonWatch.State st = w.observe(new BalloonWatch.Observation("virtio_balloon", s.inside(),
                    s.memTotal(), s.balloon(), "script", false));
            assertThat(st.effectiveBytes()).isLessThanOrEqualTo(st.physicalBytes()).isGreaterThanOrEqualTo(0);
            assertThat(st.balloonBytes()).isBetween(0L, st.physicalBytes());
            assertThat(st.effectiveBytes() + st.balloonBytes()).isEqualTo(st.physicalBytes());
            assertThat(st.physicalBytes()).as("physical never shrinks").isGreaterThanOrEqualTo(physicalBefore);
            if (st.grew() != null) {
                assertThat(st.grew().toBytes() - st.grew().fromBytes())
                        .isGreaterThanOrEqualTo((long) Math.ceil(0.10 * st.physicalBytes()) - 1);
            }
            physicalBefore = st.physicalBytes();
        }
    }

    @Property
    void thresholdsScaleWithTheEffectiveCapacity(@ForAll @LongRange(min = 1, max = 1L << 42) long physical,
                                                 @ForAll @DoubleRange(min = 0, max = 1) double left) {
        long effective = (long) Math.floor(physical * left);
        PressureGuard.Config atPhysical = PressureGuard.Config.defaults(physical);
        PressureGuard.Config scaled = atPhysical.scaled(physical, effective);
        // 20 % and 10 % of what the hypervisor left (within the rounding of the two floors)
        assertThat(scaled.softAvailableBytes()).isBetween(effective / 5 - 1, effective / 5 + 1);
        assertThat(scaled.hardAvailableBytes()).isBetween(effective / 10 - 1, effective / 10 + 1);
        assertThat(scaled.hardAvailableBytes()).isLessThanOrEqualTo(scaled.softAvailableBytes());
        assertThat(scaled.softAvailableBytes()).isLessThanOrEqualTo(atPhysical.softAvailableBytes());
        assertThat(scaled.softAvailableBytes()).isLessThanOrEqualTo(effective);
        assertThat(scaled.softGrace()).isEqualTo(atPhysical.softGrace());
        assertThat(scaled.cooldown()).isEqualTo(atPhysical.cooldown());
        assertThat(scaled.psiSomeAvg10Soft()).isEqualTo(atPhysical.psiSomeAvg10Soft());
        assertThat(atPhysical.scaled(physical, physical)).isSameAs(atPhysical);
    }

    // ------------------------------------------------------------------ the guard: balloon growth is pressure

    static NodeObservation node(long capacity, long workingSet, double balloonRate) {
        return new NodeObservation(capacity, workingSet, 0, 0, 0, new Pressure(0, 0, 0, 0, 0, 0, 0, 0),
                balloonRate);
    }

    @Test
    void aFastGrowingBalloonIsSoftPressureBeforeAvailableDrops() {
        PressureGuard g = new PressureGuard(PressureGuard.Config.defaults(2 * GI), () -> now);
        // 1 GiB available of 2 GiB: quiet without a balloon
        assertThat(g.needsPods(node(2 * GI, GI, 0))).isFalse();
        assertThat(g.decide(node(2 * GI, GI, 0), List.of()).level()).isEqualTo(PressureGuard.Level.NONE);
        // growing at 200 MiB/s: within the 5 s grace it would take ~1000 MiB, below the hard 204.8 MiB
        NodeObservation growing = node(2 * GI, GI, 200.0 * MI);
        assertThat(g.needsPods(growing)).isTrue();
        PressureGuard.Decision d = g.decide(growing, List.of());
        assertThat(d.level()).isEqualTo(PressureGuard.Level.SOFT);
        assertThat(d.why().getFirst()).startsWith("balloon growing at " + 200 * MI + " bytes/s")
                .contains("would fall below hard");
        // slow growth that leaves room is not pressure
        assertThat(g.needsPods(node(2 * GI, GI, 10.0 * MI))).isFalse();
    }

    @Test
    void retuneKeepsTheGracePeriodGoing() {
        PressureGuard g = new PressureGuard(PressureGuard.Config.defaults(2 * GI), () -> now);
        NodeObservation low = node(2 * GI, 2 * GI - 300 * MI, 0); // 300 MiB available < soft 409.6 MiB
        assertThat(g.decide(low, List.of()).level()).isEqualTo(PressureGuard.Level.SOFT);
        now += 3000;
        g.retune(g.config().scaled(2 * GI, GI + GI / 2)); // the balloon took a quarter: soft 307.2 MiB
        assertThat(g.config().softAvailableBytes()).isEqualTo((long) Math.floor(2 * GI / 5 * 0.75));
        now += 2500; // 5.5 s in soft pressure: past the grace of the first decision, not a new one
        PressureGuard.Decision d = g.decide(node(GI + GI / 2, GI + GI / 2 - 300 * MI, 0), List.of());
        assertThat(d.level()).isEqualTo(PressureGuard.Level.SOFT);
        assertThat(d.why()).noneMatch(w -> w.startsWith("within the soft grace period"));
    }

    @Test
    void configRejectsAShareOutsideZeroToOne() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new BalloonWatch.Config(0, Duration.ofSeconds(2)))
                .isInstanceOf(IllegalArgumentException.class);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new BalloonWatch.Config(0.1, Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
