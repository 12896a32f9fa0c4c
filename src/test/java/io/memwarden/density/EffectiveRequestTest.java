package io.memwarden.density;

import static io.memwarden.density.Pods.GI;
import static io.memwarden.density.Pods.MI;
import static io.memwarden.density.Pods.c;
import static io.memwarden.density.Pods.cpu;
import static io.memwarden.density.Pods.pod;
import static io.memwarden.model.ContainerKind.INIT;
import static io.memwarden.model.ContainerKind.REGULAR;
import static io.memwarden.model.ContainerKind.SIDECAR;
import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.model.KubeQuantity;
import io.memwarden.model.PodSpec;
import io.memwarden.model.Resources;
import org.junit.jupiter.api.Test;

/**
 * Vectors for the scheduler's effective request (scheduler-and-density §1; the cases of component-helpers'
 * PodRequests tests and KEP-753's worked examples).
 */
class EffectiveRequestTest {

    @Test
    void regularContainersAddUp() {
        PodSpec p = pod("p", c("a", REGULAR, 100 * MI, null), c("b", REGULAR, 200 * MI, null));
        assertThat(EffectiveRequest.of(p, false).memory()).isEqualTo(300 * MI);
    }

    @Test
    void initContainersCountByTheirMaximumNotTheirSum() {
        // init 1Gi then 2Gi, app 500Mi: max(500Mi, max(1Gi, 2Gi)) = 2Gi (not 1Gi + 2Gi)
        PodSpec p = pod("p", c("i1", INIT, GI, null), c("i2", INIT, 2 * GI, null), c("app", REGULAR, 500 * MI, null));
        assertThat(EffectiveRequest.of(p, false).memory()).isEqualTo(2 * GI);
        // when the app is larger than every init container, the app wins
        PodSpec q = pod("q", c("i1", INIT, GI, null), c("app", REGULAR, 3 * GI, null));
        assertThat(EffectiveRequest.of(q, false).memory()).isEqualTo(3 * GI);
    }

    @Test
    void sidecarsAddToTheAppsAndToLaterInitContainers() {
        // KEP-753: sidecar 100Mi, then init 1Gi (runs beside the sidecar: 1Gi + 100Mi), app 200Mi
        PodSpec p = pod("p", c("proxy", SIDECAR, 100 * MI, null), c("migrate", INIT, GI, null),
                c("app", REGULAR, 200 * MI, null));
        assertThat(EffectiveRequest.of(p, false).memory()).isEqualTo(GI + 100 * MI);
        // init before the sidecar does not run beside it: max(300Mi apps+sidecar, 1Gi init) = 1Gi
        PodSpec q = pod("q", c("migrate", INIT, GI, null), c("proxy", SIDECAR, 100 * MI, null),
                c("app", REGULAR, 200 * MI, null));
        assertThat(EffectiveRequest.of(q, false).memory()).isEqualTo(GI);
        // small init: apps + sidecars win
        PodSpec r = pod("r", c("proxy", SIDECAR, 300 * MI, null), c("init", INIT, 50 * MI, null),
                c("app", REGULAR, 200 * MI, null));
        assertThat(EffectiveRequest.of(r, false).memory()).isEqualTo(500 * MI);
    }

    @Test
    void overheadIsAdded() {
        PodSpec p = pod("p", 120 * MI, null, c("i", INIT, GI, null), c("app", REGULAR, 200 * MI, null));
        assertThat(EffectiveRequest.of(p, false).memory()).isEqualTo(GI + 120 * MI);
    }

    @Test
    void aLimitWithoutARequestDefaultsTheRequest() {
        PodSpec p = pod("p", c("app", REGULAR, null, 512 * MI));
        assertThat(EffectiveRequest.of(p, false).memory()).isEqualTo(512 * MI);
    }

    @Test
    void bestEffortRequestsNothingButScoresWithTheDefaults() {
        PodSpec p = pod("p", c("app", REGULAR, null, null));
        assertThat(EffectiveRequest.of(p, false)).isEqualTo(Request.ZERO);
        assertThat(EffectiveRequest.forScoring(p, false)).isEqualTo(new Request(200 * MI, 100));
    }

    @Test
    void podLevelResourcesReplaceTheContainerSumWhenEnabled() {
        Resources podLevel = new Resources(KubeQuantity.parse("2"), null, 3 * GI, null);
        PodSpec p = pod("p", 64 * MI, podLevel, c("a", REGULAR, GI, null), c("b", REGULAR, null, null));
        assertThat(EffectiveRequest.of(p, true)).isEqualTo(new Request(3 * GI + 64 * MI, 2000));
        assertThat(EffectiveRequest.of(p, false)).isEqualTo(new Request(GI + 64 * MI, 0));
    }

    @Test
    void cpuFollowsTheSameRules() {
        PodSpec p = pod("p", cpu("proxy", SIDECAR, "100m", null), cpu("init", INIT, "2", null),
                cpu("app", REGULAR, "250m", null));
        // max(250m + 100m, 2000m + 100m)
        assertThat(EffectiveRequest.of(p, false).cpuMillis()).isEqualTo(2100);
    }

    @Test
    void memoryLimitIsUnboundedWhenAContainerHasNone() {
        PodSpec p = pod("p", c("a", REGULAR, GI, 2 * GI), c("b", REGULAR, GI, null));
        assertThat(EffectiveRequest.memoryLimit(p, false)).isEqualTo(-1);
        PodSpec q = pod("q", c("i", INIT, GI, 3 * GI), c("a", REGULAR, GI, 2 * GI));
        assertThat(EffectiveRequest.memoryLimit(q, false)).isEqualTo(3 * GI);
    }
}
