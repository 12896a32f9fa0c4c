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

    /** A kill parsed from a v1 kernel record, in a NoSwap container, on a node with 1.9Gi of swap free. */
    @Test
    void aKillIsAttributedAndDiagnosedFromTheKernelsFigures() {
        String cg = "/kubepods/burstable/pod1/aaa";
        OomEvent e = io.memwarden.kernel.OomParser.parseAll(java.util.stream.Stream.of(
                "<4>[1.000001] java invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0",
                "<6>[1.000002] memory: usage 262144kB, limit 262144kB, failcnt 0",
                "<6>[1.000003] memory+swap: usage 262144kB, limit 262144kB, failcnt 0",
                "<6>[1.000004] Memory cgroup stats for " + cg + ":",
                "<6>[1.000005] rss 262144000",
                "<6>[1.000006] oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg="
                        + cg + ",task_memcg=" + cg + ",task=java,pid=42,uid=0")
                .map(io.memwarden.kernel.KmsgRecord::parse).toList()).getFirst();
        OomAttribution.Kill k = OomAttribution.kill(e, managed, java.util.Set.of("demo/gone"), ROOT,
                () -> new long[] {2L << 30, 1946L << 20});
        assertThat(k.victim()).isEqualTo(new OomAttribution.Victim("shop/web", "app"));
        assertThat(k.podsOnNode()).containsExactlyInAnyOrder("shop/web", "demo/hog", "demo/gone");
        assertThat(k.diagnosis().kind()).isEqualTo(io.memwarden.control.OomDiagnosis.Kind.SWAP_NOT_ALLOWED);
        assertThat(k.eventMessage()).isEqualTo("container app, pid 42 (java): OOM-killed at its memory limit 256Mi"
                + " (anon 250Mi) while 1.9Gi of node swap was free: its swap class NoSwap allows none");
        assertThat(k.describe()).startsWith("pid 42 (java) in shop/web container app, cgroup " + cg
                + ", constraint CONSTRAINT_MEMCG: OOM-killed at its memory limit 256Mi");
        // a node swap reader that fails: the diagnosis says what it knows
        OomAttribution.Kill blind = OomAttribution.kill(e, managed, java.util.Set.of(), ROOT, () -> {
            throw new java.io.IOException("no /proc");
        });
        assertThat(blind.diagnosis().sentence()).isEqualTo("OOM-killed at its memory limit 256Mi (anon 250Mi): its"
                + " swap class NoSwap allows none");
        // at the pod's limit
        OomEvent atPod = new OomEvent(43, "java", cg, "/kubepods/burstable/pod1", false, "CONSTRAINT_MEMCG", 1,
                new OomEvent.Memory(512L << 20, 512L << 20, 0, 0, -1, -1, -1));
        assertThat(OomAttribution.kill(atPod, managed, java.util.Set.of(), ROOT, OomAttribution.NodeSwap.UNKNOWN)
                .diagnosis().sentence()).isEqualTo("OOM-killed at the memory limit of its pod 512Mi: its swap class"
                + " NoSwap allows none");
    }

    /** oom-watch's view of a kill at a parent's limit: the task cgroup's own swap.max, read only below the root. */
    @Test
    void theTaskCgroupsOwnSwapLimitAtAParentsLimit(@org.junit.jupiter.api.io.TempDir Path root) throws Exception {
        Path c1 = java.nio.file.Files.createDirectories(root.resolve("kubepods/burstable/pod1/c1"));
        for (String[] f : new String[][] {{"memory.current", "1000"}, {"memory.max", "67108864"}, {"memory.high", "max"},
                {"memory.swap.max", "0"}, {"memory.swap.current", "0"}, {"memory.events", "oom_kill 1\n"},
                {"memory.stat", "anon 1000\n"}}) {
            java.nio.file.Files.writeString(c1.resolve(f[0]), f[1]);
        }
        io.memwarden.model.CgroupVersion v2 = io.memwarden.model.CgroupVersion.V2;
        OomEvent atPod = new OomEvent(7, "dd", "/kubepods/burstable/pod1/c1", "/kubepods/burstable/pod1", false,
                "CONSTRAINT_MEMCG", 1, new OomEvent.Memory(64L << 20, 64L << 20, 0, OomEvent.Memory.UNLIMITED,
                60L << 20, -1, -1));
        assertThat(OomAttribution.ownSwapLimit(atPod, root, v2)).isZero();
        assertThat(OomAttribution.diagnose(atPod, OomAttribution.ownSwapLimit(atPod, root, v2),
                () -> new long[] {1L << 30, 1L << 30}).sentence()).isEqualTo("OOM-killed at the memory limit of its"
                + " pod 64Mi (anon 60Mi) while 1Gi of node swap was free: its swap limit is 0");
        // without the task cgroup's own limit, the parent's figures are said to be the parent's
        assertThat(OomAttribution.diagnose(atPod, -1, () -> new long[] {1L << 30, 1L << 30}).sentence())
                .isEqualTo("OOM-killed at the memory limit of its pod 64Mi (anon 60Mi) while 1Gi of node swap was"
                        + " free and that cgroup set no swap limit: the kernel did not swap enough of it out in time");
        // its own limit: the kernel's figures are the container's; outside the root or gone: unknown
        assertThat(OomAttribution.ownSwapLimit(new OomEvent(7, "dd", "/kubepods/burstable/pod1/c1",
                "/kubepods/burstable/pod1/c1", false, "", 1), root, v2)).isEqualTo(-1);
        assertThat(OomAttribution.ownSwapLimit(new OomEvent(7, "dd", "/../../etc", "/kubepods", false, "", 1), root,
                v2)).isEqualTo(-1);
        assertThat(OomAttribution.ownSwapLimit(new OomEvent(7, "dd", "/kubepods/gone", "/kubepods", false, "", 1), root,
                v2)).isEqualTo(-1);
    }
}
