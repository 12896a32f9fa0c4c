package io.memwarden.policy;

import static io.memwarden.policy.TestPods.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.model.PodSpec;
import io.memwarden.model.QosClass;
import io.memwarden.model.Resources;
import org.junit.jupiter.api.Test;

/** kubelet-semantics §3 "QoS class": ComputePodQOS. */
class QosClassifierTest {

    private static QosClass qos(PodSpec p) {
        return QosClassifier.classify(p, true);
    }

    @Test
    void bestEffortWhenNoCpuOrMemoryAnywhere_s3() {
        assertThat(qos(pod("a").container("c", Resources.NONE).build())).isEqualTo(QosClass.BEST_EFFORT);
        // zero quantities are ignored
        assertThat(qos(pod("a").container("c", res("0", "0", "0", "0")).build())).isEqualTo(QosClass.BEST_EFFORT);
    }

    @Test
    void guaranteedNeedsCpuAndMemoryLimitsEqualToRequestsInEveryContainer_s3() {
        PodSpec g = pod("g").container("a", res("1", "1", "1Gi", "1Gi"))
                .init("i", res("500m", "500m", "64Mi", "64Mi")).build();
        assertThat(qos(g)).isEqualTo(QosClass.GUARANTEED);
        PodSpec noCpuLimit = pod("b").container("a", res("1", null, "1Gi", "1Gi")).build();
        assertThat(qos(noCpuLimit)).isEqualTo(QosClass.BURSTABLE);
        PodSpec memLower = pod("b").container("a", res("1", "1", "512Mi", "1Gi")).build();
        assertThat(qos(memLower)).isEqualTo(QosClass.BURSTABLE);
    }

    @Test
    void initContainerWithoutLimitsMakesPodBurstable_s3() {
        PodSpec p = pod("b").container("a", res("1", "1", "1Gi", "1Gi")).init("i", mem("64Mi", null)).build();
        assertThat(qos(p)).isEqualTo(QosClass.BURSTABLE);
        PodSpec s = pod("b").container("a", res("1", "1", "1Gi", "1Gi")).sidecar("s", Resources.NONE).build();
        assertThat(qos(s)).isEqualTo(QosClass.BURSTABLE);
    }

    @Test
    void requestsAndLimitsAreComparedAsSums_kubeletQuirk_s3() {
        // container a: cpu 1/2, b: cpu 2/1 -> sums 3 == 3; every container has both limits -> Guaranteed
        PodSpec p = pod("q").container("a", res("1", "2", "1Gi", "1Gi")).container("b", res("2", "1", "1Gi", "1Gi")).build();
        assertThat(QosClassifier.compute(p, true)).isEqualTo(QosClass.GUARANTEED);
    }

    @Test
    void podLevelResourcesDecideWhenSetAndGateOn_s3() {
        PodSpec p = pod("p").podResources(res("1", "1", "1Gi", "1Gi")).container("a", Resources.NONE).build();
        assertThat(QosClassifier.compute(p, true)).isEqualTo(QosClass.GUARANTEED);
        assertThat(QosClassifier.compute(p, false)).isEqualTo(QosClass.BEST_EFFORT);
        PodSpec b = pod("p").podResources(mem("1Gi", "2Gi")).container("a", res("1", "1", "1Gi", "1Gi")).build();
        assertThat(QosClassifier.compute(b, true)).isEqualTo(QosClass.BURSTABLE);
    }

    @Test
    void emptyPodLevelStanzaIsIgnored_PodLevelResourcesFixKubeletQOSClass_s3() {
        PodSpec p = pod("p").podResources(Resources.NONE).container("a", res("1", "1", "1Gi", "1Gi")).build();
        assertThat(QosClassifier.compute(p, true)).isEqualTo(QosClass.GUARANTEED);
    }

    @Test
    void statusQosClassIsPreferred_s3() {
        PodSpec p = pod("p").container("a", Resources.NONE).build();
        PodSpec withStatus = new PodSpec(p.namespace(), p.name(), p.uid(), p.annotations(), null, null,
                QosClass.BURSTABLE, null, p.podResources(), p.containers());
        assertThat(QosClassifier.classify(withStatus, true)).isEqualTo(QosClass.BURSTABLE);
    }

    @Test
    void apiDefaultingTurnsLimitsOnlyIntoGuaranteed() {
        PodSpec p = pod("p").container("a", res(null, "2", null, "4Gi")).build();
        assertThat(QosClassifier.compute(p, true)).isEqualTo(QosClass.BURSTABLE); // as written
        ApiDefaults.Defaulted d = ApiDefaults.apply(p);
        assertThat(QosClassifier.compute(d.pod(), true)).isEqualTo(QosClass.GUARANTEED);
        assertThat(d.notes()).hasSize(2);
        assertThat(ApiDefaults.apply(d.pod()).notes()).isEmpty(); // idempotent
    }
}
