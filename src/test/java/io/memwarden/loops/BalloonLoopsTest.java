package io.memwarden.loops;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.cgroup.HostFacts;
import io.memwarden.control.PressureGuard;
import io.memwarden.kernel.Balloon;
import io.memwarden.model.CgroupVersion;
import io.memwarden.policy.Plan;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The loops over a scripted balloon in a fixture /proc and /sys (a v1 root memory cgroup of plain files, so the
 * node's working set is the fixture's too): a large growth is one node action, the guard's thresholds follow the
 * effective capacity, the status shows the balloon.
 */
class BalloonLoopsTest {
    static final long MI = 1L << 20;
    static final long GI = 1L << 30;

    @TempDir
    Path dir;
    long now;
    final List<String> logs = new ArrayList<>();
    final ManagedWorkload none = ManagedWorkload.of(List::of, new Plan(null, List.of(), List.of(), List.of()),
            List.of());

    void balloon(long memTotal, long inflatedPages) throws IOException {
        Path proc = Files.createDirectories(dir.resolve("fake/proc"));
        Files.writeString(proc.resolve("meminfo"), "MemTotal: " + memTotal / 1024 + " kB\nMemFree: 1 kB\n");
        Files.writeString(proc.resolve("vmstat"), "balloon_inflate " + inflatedPages + "\nballoon_deflate 0\n");
    }

    ControlLoops loops(HostFacts host) throws IOException {
        return loops(host, none);
    }

    ControlLoops loops(HostFacts host, ManagedWorkload workload) throws IOException {
        Path d = Files.createDirectories(dir.resolve("fake/sys/bus/virtio/devices/virtio0"));
        Files.writeString(d.resolve("device"), "0x0005\n");
        Files.writeString(d.resolve("features"), "0100000000000000000000000000000010000000\n");
        Path drv = Files.createDirectories(dir.resolve("fake/sys/bus/virtio/drivers/virtio_balloon"));
        Files.createSymbolicLink(d.resolve("driver"), d.relativize(drv));
        Path root = Files.createDirectories(dir.resolve("memory"));
        Files.writeString(root.resolve("memory.usage_in_bytes"), 100 * MI + "\n");
        Files.writeString(root.resolve("memory.stat"), "total_inactive_file 0\n");
        return new ControlLoops(host, workload, new LoopOptions(true, false, false, false,
                PressureGuard.Config.defaults(host.memTotal()), Set.of(), null), () -> now, logs::add)
                .balloonPaths(Balloon.Paths.under(dir.resolve("fake")));
    }

    @Test
    void aLargeGrowthIsANodeActionAndTheGuardThresholdsFollow() throws IOException {
        long physical = 4 * GI;
        HostFacts host = new HostFacts(CgroupVersion.V1, false, dir.resolve("memory"), dir, null, true, false,
                physical, 0, List.of(), List.of(), null, "test", 4096);
        balloon(physical, 0);
        ControlLoops loops = loops(host);
        loops.tick();
        assertThat(loops.balloon().effectiveBytes()).isEqualTo(physical);
        assertThat(loops.guardConfig()).isEqualTo(PressureGuard.Config.defaults(physical));
        assertThat(loops.history()).isEmpty();

        now += 1000; // the hypervisor takes half: QEMU's default balloon lowers MemTotal
        balloon(physical - 2 * GI, 2 * GI / 4096);
        loops.tick();
        assertThat(loops.balloon().balloonBytes()).isEqualTo(2 * GI);
        assertThat(loops.balloon().effectiveBytes()).isEqualTo(2 * GI);
        assertThat(loops.balloon().growthBytesPerSecond()).isEqualTo(2.0 * GI);
        assertThat(loops.guardConfig().softAvailableBytes()).isEqualTo(2 * GI / 5);
        assertThat(loops.guardConfig().hardAvailableBytes()).isEqualTo(2 * GI / 10);
        assertThat(loops.history()).singleElement().satisfies(r -> {
            assertThat(r.loop()).isEqualTo(ControlLoops.BALLOON_LOOP);
            assertThat(r.pod()).isEmpty();
            assertThat(r.container()).isNull();
            assertThat(r.action()).isEqualTo("node capacity " + 2 * GI + " bytes (balloon " + 2 * GI + " of "
                    + physical + ")");
            assertThat(r.trigger()).startsWith("the hypervisor's balloon grew by " + 2 * GI + " bytes (50.0 %");
            assertThat(r.result()).isEqualTo("pressure guard on the effective capacity");
        });
        assertThat(logs).anyMatch(l -> l.startsWith("balloon: node: node capacity"));

        NodeStatus.Balloon b = new RunStatus(host, none, loops, null, null).status().node()
                .balloon();
        assertThat(b).isEqualTo(new NodeStatus.Balloon("virtio_balloon", physical, 2 * GI, 2 * GI, 2.0 * GI,
                false, "vmstat balloon_inflate - balloon_deflate", 0));

        now += 1000; // given back: thresholds on the whole node again, no new action
        balloon(physical, 0);
        loops.tick();
        assertThat(loops.guardConfig()).isEqualTo(PressureGuard.Config.defaults(physical));
        assertThat(loops.history()).hasSize(1);
    }

    @Test
    void podRequestsAboveWhatTheHypervisorLeftAreSaidInTheActionTheStatusAndTheMetric() throws IOException {
        long physical = 4 * GI;
        HostFacts host = new HostFacts(CgroupVersion.V1, false, dir.resolve("memory"), dir, null, true, false,
                physical, 0, List.of(), List.of(), null, "test", 4096);
        List<ManagedWorkload.ManagedPod> pods = List.of(
                new ManagedWorkload.ManagedPod(ControlLoopsRoundReadsTest.pod("a", null), podPlan("a", 2 * GI)),
                new ManagedWorkload.ManagedPod(ControlLoopsRoundReadsTest.pod("b", null), podPlan("b", GI + GI / 2)));
        ManagedWorkload requesting = new ManagedWorkload() {
            @Override
            public List<ContainerStatus> snapshot() {
                return List.of();
            }

            @Override
            public List<ManagedPod> pods() {
                return pods;
            }
        };
        balloon(physical, 0);
        ControlLoops loops = loops(host, requesting);
        loops.tick();
        NodeStatus.Balloon fits = new RunStatus(host, requesting, loops, null, null).status().node().balloon();
        assertThat(fits.podRequestsBytes()).isEqualTo(3 * GI + GI / 2);
        assertThat(fits.overcommitBytes()).isZero();

        now += 1000; // half taken: 3.5Gi requested on the 2Gi left
        balloon(physical - 2 * GI, 2 * GI / 4096);
        loops.tick();
        assertThat(loops.history()).singleElement().satisfies(r -> assertThat(r.action()).isEqualTo(
                "node capacity " + 2 * GI + " bytes (balloon " + 2 * GI + " of " + physical + "); the pods here request "
                        + (3 * GI + GI / 2) + " bytes, " + (GI + GI / 2) + " above it"));
        NodeStatus.Balloon over = new RunStatus(host, requesting, loops, null, null).status().node().balloon();
        assertThat(over.overcommitBytes()).isEqualTo(GI + GI / 2);
    }

    static Plan.PodPlan podPlan(String name, long request) {
        return new Plan.PodPlan("ns", name, "Burstable", false, 0, request, Map.of(), List.of(), List.of());
    }

    @Test
    void aConfinedNodeKeepsItsThresholdsButTheBalloonIsStillSeen() throws IOException {
        HostFacts host = new HostFacts(CgroupVersion.V1, false, dir.resolve("memory"), dir, null, true, false,
                4 * GI, 0, List.of(), List.of(), null, "test", 4096);
        balloon(4 * GI, 0);
        loops(host).close(); // the fixture /sys
        Path node = Files.createDirectories(dir.resolve("node"));
        Files.writeString(node.resolve("memory.usage_in_bytes"), 100 * MI + "\n");
        Files.writeString(node.resolve("memory.limit_in_bytes"), GI + "\n");
        Files.writeString(node.resolve("memory.failcnt"), "0\n");
        Files.writeString(node.resolve("memory.oom_control"), "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
        Files.writeString(node.resolve("memory.stat"), "total_inactive_file 0\ntotal_rss " + 100 * MI + "\n");
        Files.writeString(node.resolve("cgroup.procs"), "");
        ControlLoops loops = new ControlLoops(host, none, new LoopOptions(true, false, false, false,
                PressureGuard.Config.defaults(GI), Set.of(), node), () -> now, logs::add)
                .balloonPaths(Balloon.Paths.under(dir.resolve("fake")));
        loops.tick();
        now += 1000;
        balloon(2 * GI, 2 * GI / 4096);
        loops.tick();
        assertThat(loops.guardConfig()).isEqualTo(PressureGuard.Config.defaults(GI));
        assertThat(loops.history()).singleElement().satisfies(r ->
                assertThat(r.result()).isEqualTo("noted (the guard's node is a cgroup)"));
    }
}
