package io.memwarden.nri;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.nri.api.Container;
import io.memwarden.nri.api.ContainerState;
import io.memwarden.nri.api.LinuxContainer;
import io.memwarden.nri.api.LinuxMemory;
import io.memwarden.nri.api.LinuxResources;
import io.memwarden.nri.api.OptionalInt64;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The registry's commit: a plan made from a snapshot (late pod spec, config reload) is not written over a container
 * a runtime call replaced or removed meanwhile; the runtime's own calls always store.
 */
class NriRegistryTest {
    static Planned planned(String source) {
        return new Planned(null, null, null, "ns/pod", source, false, Set.of(), List.of());
    }

    static Container ctr(String id, long limit) {
        return Container.newBuilder().setId(id).setPodSandboxId("p").setName("app")
                .setState(ContainerState.CONTAINER_RUNNING).setLinux(LinuxContainer.newBuilder()
                        .setResources(LinuxResources.newBuilder().setMemory(
                                LinuxMemory.newBuilder().setLimit(
                                        OptionalInt64.newBuilder().setValue(limit)))))
                .build();
    }

    @Test
    void aSnapshotStillCurrentIsCommittedWithItsPlan() {
        NriRegistry r = new NriRegistry();
        Container c = ctr("c1", 100);
        assertThat(r.commit(null, c, planned("create"))).isTrue();
        Container next = ctr("c1", 200);
        assertThat(r.commit(c, next, planned("reload"))).isTrue();
        assertThat(r.container("c1")).isEqualTo(next);
        assertThat(r.plan("c1").source()).isEqualTo("reload");
    }

    @Test
    void aSnapshotReplacedByARuntimeCallMeanwhileIsNotWrittenBack() {
        NriRegistry r = new NriRegistry();
        Container snapshot = ctr("c1", 100);
        r.commit(null, snapshot, planned("create"));
        // the runtime resizes the container (UpdateContainer) while the loops' thread plans from the snapshot
        Container resized = ctr("c1", 300);
        r.commit(null, resized, planned("update"));
        assertThat(r.commit(snapshot, ctr("c1", 100), planned("late pod spec"))).isFalse();
        assertThat(r.container("c1")).isEqualTo(resized);
        assertThat(r.plan("c1").source()).isEqualTo("update");
    }

    @Test
    void aContainerRemovedMeanwhileIsNotResurrected() {
        NriRegistry r = new NriRegistry();
        Container c = ctr("c1", 100);
        r.commit(null, c, planned("create"));
        r.removeContainer("c1");
        assertThat(r.commit(c, c, planned("reload"))).isFalse();
        assertThat(r.container("c1")).isNull();
        assertThat(r.plan("c1")).isNull();
        assertThat(r.commit(null, ctr("", 1), planned("x"))).as("no id, nothing stored").isFalse();
    }
}
