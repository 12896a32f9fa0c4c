package io.memwarden.density;

import static io.memwarden.density.Pods.GI;
import static io.memwarden.density.Pods.node;
import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.model.ClusterNode;
import io.memwarden.model.Scheduling;
import io.memwarden.model.Scheduling.Operator;
import io.memwarden.model.Scheduling.Requirement;
import io.memwarden.model.Scheduling.Taint;
import io.memwarden.model.Scheduling.TaintEffect;
import io.memwarden.model.Scheduling.Term;
import io.memwarden.model.Scheduling.Toleration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Taints/tolerations and node affinity as the Kubernetes docs define them (scheduler-and-density §2). */
class NodeFiltersTest {
    static final Taint GPU = new Taint("gpu", "true", TaintEffect.NoSchedule);

    static Scheduling tolerating(Toleration... t) {
        return new Scheduling(null, null, null, List.of(t), false);
    }

    static Scheduling affinity(Term... terms) {
        return new Scheduling(null, null, List.of(terms), null, false);
    }

    @Test
    void anUntoleratedNoScheduleOrNoExecuteTaintRejectsWithTheSchedulersWords() {
        ClusterNode n = node("n", GI, Map.of(), List.of(GPU));
        assertThat(NodeFilters.reject(Scheduling.NONE, n)).isEqualTo("node(s) had untolerated taint {gpu: true}");
        ClusterNode e = node("e", GI, Map.of(), List.of(new Taint("evict", "", TaintEffect.NoExecute)));
        assertThat(NodeFilters.reject(Scheduling.NONE, e)).isEqualTo("node(s) had untolerated taint {evict: }");
    }

    @Test
    void preferNoScheduleNeverFilters() {
        ClusterNode n = node("n", GI, Map.of(), List.of(new Taint("soft", "x", TaintEffect.PreferNoSchedule)));
        assertThat(NodeFilters.reject(Scheduling.NONE, n)).isNull();
    }

    @Test
    void tolerationMatching() {
        assertThat(NodeFilters.tolerates(new Toleration("gpu", false, "true", TaintEffect.NoSchedule), GPU)).isTrue();
        assertThat(NodeFilters.tolerates(new Toleration("gpu", false, "false", TaintEffect.NoSchedule), GPU)).isFalse();
        assertThat(NodeFilters.tolerates(new Toleration("gpu", true, null, null), GPU)).as("Exists, any effect").isTrue();
        assertThat(NodeFilters.tolerates(new Toleration("", true, null, null), GPU)).as("empty key + Exists").isTrue();
        assertThat(NodeFilters.tolerates(new Toleration("", false, null, null), GPU)).as("empty key + Equal").isFalse();
        assertThat(NodeFilters.tolerates(new Toleration("gpu", true, null, TaintEffect.NoExecute), GPU))
                .as("other effect").isFalse();
        assertThat(NodeFilters.tolerates(new Toleration("other", true, null, null), GPU)).isFalse();
    }

    @Test
    void everyFilteringTaintMustBeTolerated() {
        Taint b = new Taint("b", "1", TaintEffect.NoExecute);
        ClusterNode n = node("n", GI, Map.of(), List.of(GPU, b));
        assertThat(NodeFilters.reject(tolerating(new Toleration("gpu", true, null, null)), n))
                .isEqualTo("node(s) had untolerated taint {b: 1}");
        assertThat(NodeFilters.reject(tolerating(new Toleration("gpu", true, null, null),
                new Toleration("b", false, "1", null)), n)).isNull();
    }

    @Test
    void cordonedNodesAreUnschedulable() {
        ClusterNode n = node("n", GI, Map.of(), List.of(new Taint(NodeFilters.UNSCHEDULABLE, "",
                TaintEffect.NoSchedule)));
        assertThat(NodeFilters.reject(Scheduling.NONE, n)).isEqualTo("node(s) were unschedulable");
    }

    @Test
    void nodeSelectorNeedsEveryLabel() {
        ClusterNode n = node("n", GI, Map.of("disk", "ssd", "zone", "a"), List.of());
        assertThat(NodeFilters.reject(new Scheduling(null, Map.of("disk", "ssd"), null, null, false), n)).isNull();
        assertThat(NodeFilters.reject(new Scheduling(null, Map.of("disk", "ssd", "zone", "b"), null, null, false), n))
                .isEqualTo("node(s) didn't match Pod's node affinity/selector");
    }

    @Test
    void affinityOperators() {
        ClusterNode n = node("n", GI, Map.of("zone", "a", "gpus", "4"), List.of());
        assertThat(ok(n, new Requirement("zone", Operator.In, List.of("a", "b")))).isTrue();
        assertThat(ok(n, new Requirement("zone", Operator.In, List.of("b")))).isFalse();
        assertThat(ok(n, new Requirement("zone", Operator.NotIn, List.of("b")))).isTrue();
        assertThat(ok(n, new Requirement("missing", Operator.NotIn, List.of("b")))).as("NotIn, label absent").isTrue();
        assertThat(ok(n, new Requirement("zone", Operator.Exists, null))).isTrue();
        assertThat(ok(n, new Requirement("zone", Operator.DoesNotExist, null))).isFalse();
        assertThat(ok(n, new Requirement("missing", Operator.DoesNotExist, null))).isTrue();
        assertThat(ok(n, new Requirement("gpus", Operator.Gt, List.of("2")))).isTrue();
        assertThat(ok(n, new Requirement("gpus", Operator.Gt, List.of("4")))).isFalse();
        assertThat(ok(n, new Requirement("gpus", Operator.Lt, List.of("5")))).isTrue();
        assertThat(ok(n, new Requirement("zone", Operator.Gt, List.of("1")))).as("not an integer").isFalse();
        assertThat(ok(n, new Requirement("missing", Operator.Lt, List.of("1")))).isFalse();
    }

    @Test
    void termsAreOredExpressionsAnded() {
        ClusterNode n = node("n", GI, Map.of("zone", "a", "disk", "hdd"), List.of());
        Term zoneAndSsd = new Term(List.of(new Requirement("zone", Operator.In, List.of("a")),
                new Requirement("disk", Operator.In, List.of("ssd"))), null);
        Term zoneOnly = new Term(List.of(new Requirement("zone", Operator.In, List.of("a"))), null);
        assertThat(NodeFilters.matchesAffinity(affinity(zoneAndSsd), n)).isFalse();
        assertThat(NodeFilters.matchesAffinity(affinity(zoneAndSsd, zoneOnly), n)).isTrue();
        assertThat(NodeFilters.matchesAffinity(affinity(new Term(null, null)), n)).as("empty term").isFalse();
        assertThat(NodeFilters.matchesAffinity(affinity(), n)).as("no terms").isFalse();
        Term byName = new Term(null, List.of(new Requirement("metadata.name", Operator.In, List.of("n"))));
        assertThat(NodeFilters.matchesAffinity(affinity(byName), n)).isTrue();
    }

    @Test
    void taintsAreCheckedBeforeAffinity() {
        ClusterNode n = node("n", GI, Map.of(), List.of(GPU));
        assertThat(NodeFilters.reject(new Scheduling(null, Map.of("x", "y"), null, null, false), n))
                .isEqualTo("node(s) had untolerated taint {gpu: true}");
    }

    private static boolean ok(ClusterNode n, Requirement r) {
        return NodeFilters.matchesAffinity(affinity(new Term(List.of(r), null)), n);
    }
}
