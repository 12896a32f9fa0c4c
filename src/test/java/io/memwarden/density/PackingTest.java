package io.memwarden.density;

import static io.memwarden.density.Pods.GI;
import static io.memwarden.density.Pods.node;
import static io.memwarden.density.Pods.place;
import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.model.ClusterNode;
import io.memwarden.model.Scheduling;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** NodeResourcesFit, the LeastAllocated score with its tie-break, bound and pinned pods, the scheduler's reasons. */
class PackingTest {

    @Test
    void memoryCpuAndPodsAreAllChecked() {
        List<ClusterNode> nodes = List.of(node("a", 4 * GI, 2000, 2));
        Packing.Outcome o = Packing.place(nodes, List.of(place("p1", 3 * GI, 500), place("p2", 2 * GI, 500),
                place("p3", GI, 1600), place("p4", GI, 100), place("p5", 0, 0)));
        assertThat(o.nodeOf()).containsExactly(0, -1, -1, 0, -1);
        assertThat(o.reasons()[1]).isEqualTo("0/1 nodes are available: 1 Insufficient memory.");
        assertThat(o.reasons()[2]).isEqualTo("0/1 nodes are available: 1 Insufficient cpu.");
        assertThat(o.reasons()[4]).isEqualTo("0/1 nodes are available: 1 Too many pods.");
        assertThat(o.requestedMemory()[0]).isEqualTo(4 * GI);
        assertThat(o.pods()[0]).isEqualTo(2);
    }

    @Test
    void exactlyFullFits() {
        Packing.Outcome o = Packing.place(List.of(node("a", 2 * GI, 1000, 10)),
                List.of(place("p1", GI, 500), place("p2", GI, 500)));
        assertThat(o.placed()).isEqualTo(2);
    }

    @Test
    void aPodWithoutARequestIsNotCheckedForThatResource() {
        // a bound pod overfills the node; a pod requesting no memory still fits (NodeResourcesFit skips it)
        Scheduling bound = new Scheduling("a", null, null, null, false);
        Packing.Outcome o = Packing.place(List.of(node("a", GI, 1000, 10)),
                List.of(place("big", 2 * GI, 0, bound), place("none", 0, 100)));
        assertThat(o.nodeOf()).containsExactly(0, 0);
    }

    @Test
    void leastAllocatedWinsAndTiesGoToTheLowestName() {
        List<ClusterNode> nodes = List.of(node("a", 8 * GI, 4000, 110), node("b", 8 * GI, 4000, 110),
                node("c", 16 * GI, 4000, 110));
        Packing.Outcome o = Packing.place(nodes, List.of(place("p1", GI, 1000), place("p2", GI, 1000),
                place("p3", GI, 1000), place("p4", GI, 1000)));
        // p1: c scores (15/16*100=93 + 75)/2 = 84 vs a,b (87 + 75)/2 = 81 → c; p2: a (81) vs c (87+50)/2=68 → a;
        // p3: b; p4: c (81+50)/2=65 vs a,b (75+50)/2=62 → c
        assertThat(o.nodeOf()).containsExactly(2, 0, 1, 2);
    }

    @Test
    void boundPodsStayWhateverTheyHold() {
        Scheduling onB = new Scheduling("b", null, null, null, false);
        Packing.Outcome o = Packing.place(List.of(node("a", 4 * GI, 4000, 110), node("b", GI, 4000, 110)),
                List.of(place("huge", 3 * GI, 0, onB), place("lost", GI, 0, new Scheduling("x", null, null, null,
                        false))));
        assertThat(o.nodeOf()).containsExactly(1, -1);
        assertThat(o.requestedMemory()[1]).isEqualTo(3 * GI);
        assertThat(o.reasons()[1]).isEqualTo("bound to node \"x\", which is not in the nodes file");
    }

    @Test
    void reasonsCountEveryNodeSortedAsTheScheduler() {
        List<ClusterNode> nodes = List.of(node("a", GI, Map.of(), List.of(NodeFiltersTest.GPU)),
                node("b", GI, Map.of("zone", "x"), List.of()), node("c", GI, Map.of("zone", "y"), List.of()),
                node("d", GI, Map.of("zone", "y"), List.of()));
        Scheduling zoneY = new Scheduling(null, Map.of("zone", "y"), null, null, false);
        Packing.Outcome o = Packing.place(nodes, List.of(place("p", 2 * GI, 0, zoneY)));
        assertThat(o.reasons()[0]).isEqualTo("0/4 nodes are available: 1 node(s) didn't match Pod's node"
                + " affinity/selector, 1 node(s) had untolerated taint {gpu: true}, 2 Insufficient memory.");
    }

    @Test
    void aPinnedPodGoesToItsNodeOrNowhere() {
        List<ClusterNode> nodes = List.of(node("a", GI, 4000, 110), node("b", 4 * GI, 4000, 110));
        Request r = new Request(2 * GI, 0);
        Packing.Outcome o = Packing.place(nodes, List.of(new Packing.PodToPlace("ns", "ds-a", Scheduling.NONE, r, r,
                "a"), new Packing.PodToPlace("ns", "ds-b", Scheduling.NONE, r, r, "b")));
        assertThat(o.nodeOf()).containsExactly(-1, 1);
        assertThat(o.reasons()[0]).isEqualTo("0/2 nodes are available: 1 Insufficient memory, 1 node(s) didn't"
                + " match Pod's node affinity/selector.");
    }
}
