package io.memwarden.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.model.Pressure;
import io.memwarden.model.Clock;
import io.memwarden.model.ContainerKind;
import io.memwarden.model.ContainerSpec;
import io.memwarden.model.PodSpec;
import io.memwarden.model.QosClass;
import io.memwarden.model.Resources;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The pressure guard against scripted observations and a fake clock. */
class PressureGuardTest {
    static final long GI = 1L << 30;
    static final long MI = 1L << 20;
    long now;
    final Clock clock = () -> now;
    final PressureGuard.Config cfg = new PressureGuard.Config(2 * GI, Duration.ofSeconds(10), GI, 20, 40, 0.1, 1000,
            Duration.ofSeconds(10), 0.05);

    static PodObservation pod(String name, QosClass qos, Integer priority, String prioClass, long request, Long ws,
                              long swapAllowance, boolean prot) {
        PodSpec spec = new PodSpec("ns", name, "", null, priority, prioClass, null, null, null,
                List.of(new ContainerSpec("c", ContainerKind.REGULAR, Resources.NONE)));
        return new PodObservation(spec, qos, request, ws, prot, List.of(
                new PodObservation.ContainerObservation("c", ws == null ? 0 : ws, swapAllowance, -1)));
    }

    static NodeObservation node(long available, long swapFree, long swapIn, double some, double full) {
        return new NodeObservation(16 * GI, 16 * GI - available, 4 * GI, swapFree,
                swapIn, new Pressure(some, 0, 0, 0, full, 0, 0, 0));
    }

    final List<PodObservation> pods = List.of(
            pod("web", QosClass.BURSTABLE, 0, null, GI, 3 * GI, -1, false),
            pod("batch", QosClass.BEST_EFFORT, 0, null, 0, GI + GI / 2, 0, false),
            pod("coredns", QosClass.BURSTABLE, null, "system-cluster-critical", 70 * MI, 8 * GI, 0, false),
            pod("db", QosClass.GUARANTEED, 0, null, 4 * GI, 3 * GI, 0, false),
            pod("vip", QosClass.BURSTABLE, -10, null, 0, 6 * GI, 0, true));

    @Test
    void quietNodeDoesNothing() {
        var d = new PressureGuard(cfg, clock).decide(node(8 * GI, 4 * GI, 0, 0, 0), pods);
        assertThat(d.level()).isEqualTo(PressureGuard.Level.NONE);
        assertThat(d.actions()).isEmpty();
    }

    @Test
    void softPressureEscalatesReclaimThenThrottleThenEvict() {
        PressureGuard g = new PressureGuard(cfg, clock);
        NodeObservation soft = node(GI + GI / 2, 4 * GI, 0, 0, 0);
        assertThat(g.decide(soft, pods).actions()).isEmpty(); // grace starts
        now = 9_999;
        assertThat(g.decide(soft, pods).actions()).isEmpty();
        now = 10_000;
        var d1 = g.decide(soft, pods);
        assertThat(d1.level()).isEqualTo(PressureGuard.Level.SOFT);
        assertThat(d1.actions()).allMatch(a -> a instanceof GuardAction.Reclaim)
                .extracting(GuardAction::pod).containsExactly("ns/web"); // only the container that may swap
        now = 20_000;
        var d2 = g.decide(soft, pods);
        assertThat(d2.actions()).filteredOn(a -> a instanceof GuardAction.Throttle).extracting(GuardAction::pod)
                .containsExactly("ns/batch");
        assertThat(d2.actions()).noneMatch(a -> a instanceof GuardAction.Evict);
        now = 30_000;
        var d3 = g.decide(soft, pods);
        assertThat(d3.actions()).filteredOn(a -> a instanceof GuardAction.Evict).singleElement()
                .satisfies(a -> assertThat(a.pod()).isEqualTo("ns/web"));
    }

    @Test
    void reclaimAmountIsAFractionOfUsageCappedByTheAllowance() {
        PressureGuard g = new PressureGuard(cfg, clock);
        var p = List.of(pod("a", QosClass.BURSTABLE, 0, null, GI, 2 * GI, 50 * MI, false));
        var d = g.decide(node(100 * MI, 4 * GI, 0, 0, 50), p); // PSI full: hard at once
        assertThat(d.actions()).filteredOn(a -> a instanceof GuardAction.Reclaim).singleElement()
                .satisfies(a -> assertThat(((GuardAction.Reclaim) a).bytes()).isEqualTo(50 * MI));
    }

    @Test
    void lowRamWithSwapRoomIsSwapWorkNotAnEmergency_swapBeforeEvict() {
        PressureGuard g = new PressureGuard(cfg, clock);
        var d = g.decide(node(GI / 2, 4 * GI, 0, 0, 0), pods);
        assertThat(d.level()).isEqualTo(PressureGuard.Level.SOFT);
        assertThat(d.why().getFirst()).contains("swap has room");
    }

    @Test
    void lowRamWithoutSwapRoomIsHardAndEvictsAtOnce() {
        PressureGuard g = new PressureGuard(cfg, clock);
        var d = g.decide(node(GI / 2, 100 * MI, 0, 0, 0), pods); // swap nearly full
        assertThat(d.level()).isEqualTo(PressureGuard.Level.HARD);
        assertThat(d.actions()).filteredOn(a -> a instanceof GuardAction.Evict).singleElement().satisfies(a -> {
            assertThat(a.pod()).isEqualTo("ns/web");
            assertThat(((GuardAction.Evict) a).message()).startsWith(
                    "The node was low on resource: memory. Threshold quantity: 1Gi, available: 512Mi. ")
                    .contains("Pod ns/web was using 3Gi, request is 1Gi, has larger consumption of memory.");
        });
        assertThat(d.actions()).noneMatch(a -> a instanceof GuardAction.Reclaim); // no swap room
    }

    @Test
    void thrashingSwapIsNoRoom() {
        PressureGuard g = new PressureGuard(cfg, clock);
        g.decide(node(8 * GI, 4 * GI, 0, 0, 0), pods);
        now = 1000;
        var d = g.decide(node(GI / 2, 4 * GI, 5000, 0, 0), pods); // 5000 pages/s swap-in
        assertThat(d.level()).isEqualTo(PressureGuard.Level.HARD);
    }

    @Test
    void criticalAndProtectedPodsAreNeverVictimsAndOneVictimPerCooldown() {
        // no direct kill within the test's hour (PressureGuardEvictionTest covers it): accepted evictions wait
        PressureGuard g = new PressureGuard(cfg.withDirectAfter(Duration.ofHours(1)), clock);
        NodeObservation hard = node(GI / 2, 0, 0, 0, 0);
        var first = g.decide(hard, pods);
        assertThat(first.actions()).filteredOn(a -> a instanceof GuardAction.Evict).extracting(GuardAction::pod)
                .containsExactly("ns/web");
        now = 5_000; // web still there, within cooldown
        assertThat(g.decide(hard, pods).actions()).noneMatch(a -> a instanceof GuardAction.Evict);
        now = 20_000; // cooldown over but web still present: wait for it to go
        assertThat(g.decide(hard, pods).actions()).noneMatch(a -> a instanceof GuardAction.Evict);
        List<PodObservation> withoutWeb = pods.stream().filter(p -> !p.pod().name().equals("web")).toList();
        var next = g.decide(hard, withoutWeb);
        assertThat(next.actions()).filteredOn(a -> a instanceof GuardAction.Evict).extracting(GuardAction::pod)
                .containsExactly("ns/batch");
        // then db; never coredns (critical) or vip (protected)
        now = 40_000;
        List<PodObservation> onlyLeft = withoutWeb.stream().filter(p -> !p.pod().name().equals("batch")).toList();
        assertThat(g.decide(hard, onlyLeft).actions()).filteredOn(a -> a instanceof GuardAction.Evict)
                .extracting(GuardAction::pod).containsExactly("ns/db");
        now = 60_000;
        List<PodObservation> none = onlyLeft.stream().filter(p -> !p.pod().name().equals("db")).toList();
        var last = g.decide(hard, none);
        assertThat(last.actions()).noneMatch(a -> a instanceof GuardAction.Evict);
        assertThat(last.why()).anyMatch(w -> w.contains("every pod is critical or protected"));
    }

    @Test
    void pressureGoneResetsTheGrace() {
        PressureGuard g = new PressureGuard(cfg, clock);
        g.decide(node(GI + GI / 2, 4 * GI, 0, 0, 0), pods);
        now = 9_000;
        g.decide(node(8 * GI, 4 * GI, 0, 0, 0), pods);
        now = 12_000;
        assertThat(g.decide(node(GI + GI / 2, 4 * GI, 0, 0, 0), pods).actions()).isEmpty();
    }

    @Test
    void kubernetesQuantityFormatting() {
        assertThat(PressureGuard.quantity(100 * MI)).isEqualTo("100Mi");
        assertThat(PressureGuard.quantity(1536 * 1024)).isEqualTo("1536Ki");
        assertThat(PressureGuard.quantity(1000)).isEqualTo("1000");
        assertThat(PressureGuard.quantity(0)).isEqualTo("0");
    }
}
