package io.memwarden.policy;

import static io.memwarden.policy.TestPods.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.model.Resources;
import org.junit.jupiter.api.Test;

/** kubelet-semantics §1 "the pod is not critical" and §3 node-critical. */
class CriticalityTest {

    @Test
    void staticPodIsCriticalUnlessSourceIsApi() {
        assertThat(Criticality.isCritical(pod("s").annotation(Criticality.CONFIG_SOURCE, "file")
                .container("c", Resources.NONE).build())).isTrue();
        assertThat(Criticality.isCritical(pod("s").annotation(Criticality.CONFIG_SOURCE, "api")
                .container("c", Resources.NONE).build())).isFalse();
    }

    @Test
    void mirrorPodIsCritical() {
        assertThat(Criticality.isCritical(pod("m").annotation(Criticality.CONFIG_MIRROR, "abc")
                .container("c", Resources.NONE).build())).isTrue();
    }

    @Test
    void priorityAtOrAboveTwoBillionIsCritical() {
        assertThat(Criticality.isCritical(pod("p").priority(2_000_000_000).container("c", Resources.NONE).build())).isTrue();
        assertThat(Criticality.isCritical(pod("p").priority(1_999_999_999).container("c", Resources.NONE).build())).isFalse();
    }

    @Test
    void builtInPriorityClassesResolveWhenPriorityIsAbsent() {
        var cluster = pod("coredns").priorityClass("system-cluster-critical").container("c", Resources.NONE).build();
        assertThat(Criticality.effectivePriority(cluster)).isEqualTo(2_000_000_000);
        assertThat(Criticality.isCritical(cluster)).isTrue();
        assertThat(Criticality.isNodeCritical(cluster)).isFalse();
        var node = pod("kp").priorityClass("system-node-critical").container("c", Resources.NONE).build();
        assertThat(Criticality.effectivePriority(node)).isEqualTo(2_000_001_000);
        assertThat(Criticality.isNodeCritical(node)).isTrue();
        var custom = pod("x").priorityClass("high").container("c", Resources.NONE).build();
        assertThat(Criticality.effectivePriority(custom)).isNull();
        assertThat(Criticality.isCritical(custom)).isFalse();
    }

    @Test
    void explicitPriorityWinsOverClassName() {
        var p = pod("x").priorityClass("system-node-critical").priority(5).container("c", Resources.NONE).build();
        assertThat(Criticality.isCritical(p)).isFalse();
        assertThat(Criticality.isNodeCritical(p)).isFalse();
    }
}
