package io.memwarden.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.kernel.ProcessPages;
import io.memwarden.model.CgroupVersion;
import java.util.List;
import java.util.Set;
import java.util.function.LongPredicate;
import org.junit.jupiter.api.Test;

class OffloadRouteTest {
    static final LongPredicate ALL = pid -> true;

    @Test
    void eachVersionFollowsItsOwnMethod() {
        List<Long> pids = List.of(10L, 11L);
        assertThat(OffloadRoute.ranges(CgroupVersion.V2, false, true, false, pids, ALL)).isTrue();
        assertThat(OffloadRoute.ranges(CgroupVersion.V2, true, false, false, pids, ALL)).isFalse();
        assertThat(OffloadRoute.ranges(CgroupVersion.V1, true, false, false, pids, ALL)).isTrue();
        assertThat(OffloadRoute.ranges(CgroupVersion.V1, false, true, false, pids, ALL)).isFalse();
    }

    @Test
    void aRefusedPageoutSendsEveryContainerToTheLru() {
        assertThat(OffloadRoute.ranges(CgroupVersion.V2, true, true, true, List.of(10L), ALL)).isFalse();
        assertThat(OffloadRoute.ranges(CgroupVersion.V1, true, true, true, List.of(10L), ALL)).isFalse();
    }

    @Test
    void processesOutsideOurPidNamespaceOrProcSendTheContainerToTheLru() {
        // v2 cgroup.procs shows a task of another pid namespace as 0
        assertThat(OffloadRoute.ranges(CgroupVersion.V2, true, true, false, List.of(0L, 0L), ALL)).isFalse();
        assertThat(OffloadRoute.ranges(CgroupVersion.V2, true, true, false, List.of(12L, 0L), ALL)).isFalse();
        // none of them in this /proc
        assertThat(OffloadRoute.ranges(CgroupVersion.V2, true, true, false, List.of(12L, 13L), pid -> false)).isFalse();
        // no process at all: nothing to sample
        assertThat(OffloadRoute.ranges(CgroupVersion.V2, true, true, false, List.of(), ALL)).isFalse();
    }

    @Test
    void oneProcessThatJustExitedDoesNotSwitchTheRoute() {
        Set<Long> present = Set.of(12L);
        assertThat(OffloadRoute.processesVisible(List.of(12L, 13L), present::contains)).isTrue();
        assertThat(OffloadRoute.ranges(CgroupVersion.V2, true, true, false, List.of(12L, 13L), present::contains))
                .isTrue();
    }

    @Test
    void procPredicateSeesThisProcessAndNotAnAbsentPid() {
        assertThat(ProcessPages.visible(ProcessHandle.current().pid())).isTrue();
        assertThat(ProcessPages.visible(Long.MAX_VALUE)).isFalse();
    }

    @Test
    void theFallbackIsNamedPerVersion() {
        assertThat(OffloadRoute.fallback(CgroupVersion.V1)).isEqualTo("limit probing on cgroup v1");
        assertThat(OffloadRoute.fallback(CgroupVersion.V2)).isEqualTo("memory.reclaim on cgroup v2");
    }
}
