package io.memwarden.policy;

import static io.memwarden.policy.TestPods.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.model.ContainerKind;
import io.memwarden.model.ContainerSpec;
import io.memwarden.model.PodSpec;
import io.memwarden.model.QosClass;
import io.memwarden.model.Resources;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

/** kubelet-semantics §3 "oom_score_adj": GetContainerOOMScoreAdjust. */
class OomScoreAdjustTest {
    static final long CAP = 16 * GI;

    private static int adj(PodSpec p, String container) {
        ContainerSpec c = p.containers().stream().filter(x -> x.name().equals(container)).findFirst().orElseThrow();
        QosClass q = QosClassifier.classify(p, true);
        return OomScoreAdjust.compute(p, c, q, CAP, true).value();
    }

    @Test
    void guaranteedAndNodeCriticalGetMinus997() {
        assertThat(adj(pod("g").container("c", res("1", "1", "1Gi", "1Gi")).build(), "c")).isEqualTo(-997);
        assertThat(adj(pod("n").priorityClass("system-node-critical").container("c", mem("64Mi", null)).build(), "c"))
                .isEqualTo(-997);
    }

    @Test
    void clusterCriticalFallsThroughToItsQos() {
        // 70Mi of 16Gi: 1000 - 1000*73400320/17179869184 = 1000 - 4 = 996
        assertThat(adj(pod("dns").priorityClass("system-cluster-critical").container("c", mem("70Mi", "170Mi")).build(), "c"))
                .isEqualTo(996);
    }

    @Test
    void bestEffortGets1000() {
        assertThat(adj(pod("b").container("c", Resources.NONE).build(), "c")).isEqualTo(1000);
    }

    @Test
    void burstableFormulaUsesIntegerDivision() {
        // 512Mi of 16Gi: 1000*536870912/17179869184 = 31.25 -> 31 -> 969
        assertThat(adj(pod("b").container("c", mem("512Mi", "1Gi")).build(), "c")).isEqualTo(969);
    }

    @Test
    void burstableClampsAt3And999() {
        // a request of (almost) all memory: 1000 - 1000 = 0 -> 3
        assertThat(adj(pod("b").container("c", mem("16Gi", "32Gi")).build(), "c")).isEqualTo(3);
        // Burstable with no memory request (only cpu): 1000 - 0 = 1000 -> 999
        assertThat(adj(pod("b").container("c", res("100m", null, null, null)).build(), "c")).isEqualTo(999);
    }

    @Test
    void sidecarTakesMinWithSmallestRegularContainer() {
        PodSpec p = pod("s").sidecar("proxy", mem("16Mi", "64Mi"))
                .container("big", mem("4Gi", "8Gi")).container("small", mem("1Gi", "2Gi")).build();
        // proxy alone: 1000 - 1000*16Mi/16Gi = 1000 - 0 (0.97 -> 0) = 1000; smallest regular 1Gi -> 1000 - 62 = 938
        assertThat(adj(p, "proxy")).isEqualTo(938);
        assertThat(adj(p, "big")).isEqualTo(750);
    }

    @Test
    void podLevelRequestShareIsSpreadOverContainers() {
        // pod requests 2Gi, containers request 512Mi total over 2 containers: share (2Gi-512Mi)/2 = 768Mi
        PodSpec p = pod("p").podResources(mem("2Gi", "4Gi")).container("a", mem("512Mi", null))
                .container("b", Resources.NONE).build();
        // a: (512Mi + 768Mi) = 1280Mi -> 1000*1342177280/17179869184 = 78.125 -> 78 -> 922
        assertThat(adj(p, "a")).isEqualTo(922);
        // b: 768Mi -> 46.875 -> 46 -> 954
        assertThat(adj(p, "b")).isEqualTo(954);
    }

    @Property
    void burstableStaysWithin3And999(@ForAll @LongRange(min = 0, max = 64L << 30) long request) {
        ContainerSpec c = new ContainerSpec("c", ContainerKind.REGULAR,
                new Resources(null, null, request, null));
        PodSpec p = new PodSpec("d", "p", "", null, null, null, null, null, null, java.util.List.of(c));
        int v = OomScoreAdjust.compute(p, c, QosClass.BURSTABLE, CAP, true).value();
        assertThat(v).isBetween(3, 999);
    }
}
