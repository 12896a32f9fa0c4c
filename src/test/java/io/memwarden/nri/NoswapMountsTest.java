package io.memwarden.nri;

import static io.memwarden.nri.NriFixtures.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.model.CgroupVersion;
import io.memwarden.nri.api.Container;
import io.memwarden.nri.api.ContainerAdjustment;
import io.memwarden.nri.api.ContainerState;
import io.memwarden.nri.api.CreateContainerResponse;
import io.memwarden.nri.api.Mount;
import io.memwarden.nri.api.PodSandbox;
import io.memwarden.policy.Plan.ContainerPlan;
import io.memwarden.policy.WardenConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Memory-backed volumes of containers that may swap (KEP-2400): tmpfs mounts replaced with noswap through the NRI
 * mount adjustment, over the wire against the fake runtime; bind mounts of a host tmpfs and kernels without noswap
 * reported.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class NoswapMountsTest {
    @TempDir
    Path dir;
    FakeRuntime rt;
    NriPlugin plugin;
    Thread runner;
    final List<String> observed = new ArrayList<>();

    static final PodSandbox WEB = sandbox("pod-web", "shop", "web", "uid-web", Map.of(),
            "kubepods-burstable-poduid_web.slice");
    static final Mount DEV = Mount.newBuilder().setDestination("/dev").setType("tmpfs").setSource("tmpfs")
            .addAllOptions(List.of("nosuid", "strictatime", "mode=755", "size=65536k")).build();
    static final Mount SCRATCH = Mount.newBuilder().setDestination("/scratch").setType("tmpfs").setSource("tmpfs")
            .addAllOptions(List.of("rw", "noswap", "size=1m")).build();
    static final Mount CACHE = Mount.newBuilder().setDestination("/cache").setType("bind")
            .setSource("/var/lib/kubelet/pods/uid-web/volumes/kubernetes.io~empty-dir/cache")
            .addAllOptions(List.of("rbind", "rprivate", "rw")).build();
    static final Mount HOSTS = Mount.newBuilder().setDestination("/etc/hosts").setType("bind")
            .setSource("/var/lib/containerd/sandboxes/pod-web/hosts").addAllOptions(List.of("rbind", "rw")).build();
    static final Mount PROC = Mount.newBuilder().setDestination("/proc").setType("proc").setSource("proc").build();

    @AfterEach
    void stop() throws Exception {
        if (plugin != null) {
            plugin.stop();
        }
        if (runner != null) {
            runner.join(5000);
        }
        if (rt != null) {
            rt.close();
        }
    }

    FakeRuntime.Session start(MemoryBackedVolumes volumes) throws Exception {
        rt = new FakeRuntime(dir);
        plugin = new NriPlugin(NriPlugin.Options.DEFAULTS, V2, kubelet(), WardenConfig.DEFAULTS,
                new ManifestPodSource("pods.yaml", pods()))
                .memoryBackedVolumes(volumes)
                .onMounts((pod, c, n, unprotected) -> {
                    synchronized (observed) {
                        observed.add(pod + ":" + c + " noswap=" + n + " unprotected=" + unprotected.size());
                    }
                });
        runner = Thread.ofPlatform().daemon().start(() -> {
            try {
                plugin.runExternal(rt.socket);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        FakeRuntime.Session s = rt.accept().autoRegister();
        NriPluginTest.configure(s, "");
        return s;
    }

    static Container withMounts(Container c, Mount... mounts) {
        return c.toBuilder().addAllMounts(List.of(mounts)).build();
    }

    static MemoryBackedVolumes supported() {
        return new MemoryBackedVolumes(true, "a test tmpfs mount with noswap succeeded",
                source -> source.contains("kubernetes.io~empty-dir"));
    }

    @Test
    void aSwappingContainersTmpfsIsReplacedWithNoswapOverTheWire() throws Exception {
        FakeRuntime.Session s = start(supported());
        Container app = withMounts(container("ctr-app", "pod-web", "app", 2 * GI, ContainerState.CONTAINER_CREATED),
                PROC, DEV, SCRATCH, CACHE, HOSTS);
        CreateContainerResponse resp = NriPluginTest.create(s, WEB, app);

        // LimitedSwap (256Mi): /dev removed and added again with every option kept, noswap appended; /scratch
        // already noswap; bind mounts and /proc untouched
        assertThat(resp.getAdjust().getMountsList()).containsExactly(
                Mount.newBuilder().setDestination("-/dev").build(),
                DEV.toBuilder().addOptions("noswap").build());
        assertThat(resp.getAdjust().getMounts(1).getOptionsList())
                .containsExactly("nosuid", "strictatime", "mode=755", "size=65536k", "noswap");
        assertThat(resp.getAdjust().getLinux().getResources().getUnifiedMap())
                .containsEntry("memory.swap.max", Long.toString(256 * MI));
        // the emptyDir of medium Memory (a host tmpfs) is reported: in the plan's reasons and to the observer
        ContainerPlan plan = plugin.managed().getFirst().plan();
        assertThat(plan.reasons()).anySatisfy(r -> assertThat(r).startsWith("tmpfs /dev mounted noswap"));
        assertThat(plan.reasons()).anySatisfy(r -> assertThat(r).startsWith("bind mount /cache from host tmpfs"
                + " /var/lib/kubelet/pods/uid-web/volumes/kubernetes.io~empty-dir/cache may be swapped"));
        synchronized (observed) {
            assertThat(observed).containsExactly("shop/web:app noswap=1 unprotected=1");
        }
    }

    @Test
    void withoutKernelSupportTmpfsIsReportedNotAdjusted() throws Exception {
        FakeRuntime.Session s = start(new MemoryBackedVolumes(false, "a test tmpfs mount with noswap failed",
                source -> false));
        Container app = withMounts(container("ctr-app", "pod-web", "app", 2 * GI, ContainerState.CONTAINER_CREATED),
                DEV);
        CreateContainerResponse resp = NriPluginTest.create(s, WEB, app);
        assertThat(resp.getAdjust().getMountsList()).isEmpty();
        assertThat(plugin.managed().getFirst().plan().reasons()).anySatisfy(r -> assertThat(r)
                .isEqualTo("tmpfs /dev may be swapped: a test tmpfs mount with noswap failed, so it cannot be mounted"
                        + " noswap [KEP-2400; kubelet-semantics §1]"));
        synchronized (observed) {
            assertThat(observed).containsExactly("shop/web:app noswap=0 unprotected=1");
        }
    }

    @Test
    void theAdjustmentsMountEntriesOnTheWire() {
        ContainerAdjustment a = ContainerAdjustment.newBuilder()
                .addMounts(Mount.newBuilder().setDestination("-/d"))
                .addMounts(Mount.newBuilder().setDestination("/d").setType("tmpfs").setSource("t").addOptions("noswap"))
                .build();
        // ContainerAdjustment.mounts = 3 (tag 0x1a); Mount destination=1, type=2, source=3, options=4
        // (nri-protocol.md §4)
        assertThat(HexFormat.of().formatHex(a.toByteArray())).isEqualTo(
                "1a05" + "0a032d2f64"
                + "1a16" + "0a022f64" + "1205746d706673" + "1a0174" + "22066e6f73776170");
    }

    @Test
    void aContainerThatCannotSwapKeepsItsMounts() {
        ContainerPlan noSwap = new ContainerPlan("app", false, "NoSwap", 0,
                Map.of("memory.max", "1073741824", "memory.swap.max", "0"), List.of());
        Container c = withMounts(Container.newBuilder().setName("app").build(), DEV);
        assertThat(NoswapMounts.decide(CgroupVersion.V2, noSwap, c, supported())).isEqualTo(NoswapMounts.Outcome.NONE);
        ContainerPlan v1NoSwap = new ContainerPlan("app", false, "NoSwap", 0,
                Map.of("memory.limit_in_bytes", "1073741824", "memory.memsw.limit_in_bytes", "1073741824"), List.of());
        assertThat(NoswapMounts.decide(CgroupVersion.V1, v1NoSwap, c, supported())).isEqualTo(NoswapMounts.Outcome.NONE);
        ContainerPlan v1Swap = new ContainerPlan("app", false, "LimitedSwap", 0,
                Map.of("memory.limit_in_bytes", "1073741824", "memory.memsw.limit_in_bytes", "2147483648"), List.of());
        assertThat(NoswapMounts.decide(CgroupVersion.V1, v1Swap, c, supported()).adjust()).hasSize(2);
    }
}
