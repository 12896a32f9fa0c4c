package io.memwarden.loops;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.model.OomEvent;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link OomAttribution}: the managed container whose cgroup is the killed task's. */
class OomAttributionTest {
    static final Path ROOT = Path.of("/sys/fs/cgroup/memory");

    static ContainerStatus container(String pod, String name, Path cgroup) {
        return new ContainerStatus(pod, name, false, "NoSwap", cgroup, Map.of(), 0, null, null, null);
    }

    static OomEvent kill(String taskCgroup) {
        return new OomEvent(42, "perl", taskCgroup, taskCgroup, false, "CONSTRAINT_MEMCG", 1);
    }

    final List<ContainerStatus> managed = List.of(
            container("shop/web", "app", ROOT.resolve("kubepods/burstable/pod1/aaa")),
            container("shop/web", "side", ROOT.resolve("kubepods/burstable/pod1/bbb")),
            container("demo/hog", "grow", Path.of("/nonexistent")));

    @Test
    void theKilledTasksCgroupNamesThePodAndContainer() {
        assertThat(OomAttribution.of(kill("/kubepods/burstable/pod1/bbb"), managed, ROOT)).hasValueSatisfying(v -> {
            assertThat(v.pod()).isEqualTo("shop/web");
            assertThat(v.namespace()).isEqualTo("shop");
            assertThat(v.name()).isEqualTo("web");
            assertThat(v.container()).isEqualTo("side");
            assertThat(v.describe()).isEqualTo("shop/web container side");
        });
    }

    @Test
    void aKillOutsideTheManagedContainersIsNoOnes() {
        assertThat(OomAttribution.of(kill("/kubepods/burstable/pod1"), managed, ROOT)).isEmpty();
        assertThat(OomAttribution.of(kill("/user.slice"), managed, ROOT)).isEmpty();
        assertThat(OomAttribution.of(kill("/"), managed, ROOT)).isEmpty();
        assertThat(OomAttribution.of(kill("/nonexistent"), managed, ROOT)).as("a container without a cgroup")
                .isEmpty();
    }
}
