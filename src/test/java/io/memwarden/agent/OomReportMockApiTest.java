package io.memwarden.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.memwarden.k8s.KubeCluster;
import io.memwarden.kernel.KmsgRecord;
import io.memwarden.kernel.OomParser;
import io.memwarden.loops.ContainerStatus;
import io.memwarden.loops.OomAttribution;
import io.memwarden.model.Clock;
import io.memwarden.model.OomEvent;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The pod event of a kernel OOM kill ({@link OomReport}) against fabric8's mock API server in CRUD mode: a kill
 * parsed from a cgroup v2 kernel record, attributed to a managed NoSwap container on a node with swap free, becomes
 * one {@code MemwardenOomKill} Warning on the pod (involvedObject with the API's uid) whose message gives the "OOM
 * while swap was free" diagnosis; a system OOM becomes the kubelet's SystemOOM on the Node; with events off nothing
 * reaches the API.
 */
@EnableKubernetesMockClient(crud = true)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class OomReportMockApiTest {
    static final Path ROOT = Path.of("/sys/fs/cgroup");
    static final String POD_CGROUP = "/kubepods.slice/kubepods-burstable.slice/"
            + "kubepods-burstable-pod1f0e2c5a_5b7e_4c43_9d3a_0123456789ab.slice";
    static final String CGROUP = POD_CGROUP + "/cri-containerd-c0ffee.scope";

    KubernetesMockServer server;
    KubernetesClient client;
    KubeCluster cluster;

    @BeforeEach
    void setUp() {
        cluster = new KubeCluster(client, "node-a", KubeCluster.Options.defaults(), Clock.SYSTEM);
    }

    @AfterEach
    void tearDown() {
        cluster.close();
        client.close();
    }

    Pod createPod(String ns, String name) {
        return client.pods().inNamespace(ns).resource(new PodBuilder().withNewMetadata().withNamespace(ns)
                .withName(name).endMetadata().withNewSpec().withNodeName("node-a").addNewContainer().withName("app")
                .withImage("busybox").endContainer().endSpec().build()).create();
    }

    /** A v2 memcg OOM as Debian 13's 6.12 kernel logs it (stats line by line), at the container's limit. */
    static OomEvent v2Kill(String cgroup, long limitKb, long swapLimitKb, long anonBytes) {
        return OomParser.parseAll(Stream.of(
                "4,101,5000000,-;java invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=999",
                "6,102,5000001,-;memory: usage " + limitKb + "kB, limit " + limitKb + "kB, failcnt 0",
                "6,103,5000002,-;swap: usage 0kB, limit " + swapLimitKb + "kB, failcnt 0",
                "6,104,5000003,-;Memory cgroup stats for " + cgroup + ":",
                "6,105,5000004,-;anon " + anonBytes,
                "6,106,5000005,-;file 4096",
                "6,107,5000006,-;Tasks state (memory values in pages):",
                "6,108,5000007,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,"
                        + "oom_memcg=" + cgroup + ",task_memcg=" + cgroup + ",task=java,pid=4242,uid=1000",
                "3,109,5000008,-;Memory cgroup out of memory: Killed process 4242 (java) total-vm:9000000kB,"
                        + " anon-rss:256000kB, file-rss:0kB, shmem-rss:0kB")
                .map(KmsgRecord::parse).toList()).getFirst();
    }

    List<ContainerStatus> managed(String swapBehavior) {
        return List.of(new ContainerStatus("shop/web", "app", false, swapBehavior, ROOT.resolve(CGROUP.substring(1)),
                Map.of(), 0, null, null, null));
    }

    List<Event> events(String ns) {
        return client.v1().events().inNamespace(ns).list().getItems();
    }

    @Test
    void aContainersOomKillIsAWarningOnItsPodWithTheDiagnosis() {
        Pod pod = createPod("shop", "web");
        OomEvent e = v2Kill(CGROUP, 262144, 0, 262_000_000L);
        OomAttribution.Kill k = OomAttribution.kill(e, managed("NoSwap"), Set.of(), ROOT,
                () -> new long[] {2L << 30, 1946L << 20});
        OomReport.send(k, cluster, true, null);
        assertThat(cluster.flush(Duration.ofSeconds(20))).isTrue();

        assertThat(events("shop")).singleElement().satisfies(ev -> {
            assertThat(ev.getType()).isEqualTo("Warning");
            assertThat(ev.getReason()).isEqualTo("MemwardenOomKill");
            assertThat(ev.getInvolvedObject().getKind()).isEqualTo("Pod");
            assertThat(ev.getInvolvedObject().getNamespace()).isEqualTo("shop");
            assertThat(ev.getInvolvedObject().getName()).isEqualTo("web");
            assertThat(ev.getInvolvedObject().getUid()).isEqualTo(pod.getMetadata().getUid());
            assertThat(ev.getMessage()).isEqualTo("container app, pid 4242 (java): OOM-killed at its memory limit"
                    + " 256Mi (anon 249.8Mi) while 1.9Gi of node swap was free: its swap class NoSwap allows none");
            assertThat(ev.getCount()).isEqualTo(1);
        });
        assertThat(events("default")).isEmpty();
        assertThat(cluster.stats().eventsCreated()).isEqualTo(1);
    }

    @Test
    void aLimitedSwapContainerWithItsSwapUsedUpAndAUidFromThePlan() {
        // LimitedSwap with memory.swap.max 64Mi, all of it used at the kill
        OomEvent e = OomParser.parseAll(Stream.of(
                "4,1,100,-;app invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=999",
                "6,2,101,-;memory: usage 131072kB, limit 131072kB, failcnt 3",
                "6,3,102,-;swap: usage 65536kB, limit 65536kB, failcnt 1",
                "6,4,103,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg="
                        + CGROUP + ",task_memcg=" + CGROUP + ",task=app,pid=77,uid=0")
                .map(KmsgRecord::parse).toList()).getFirst();
        OomAttribution.Kill k = OomAttribution.kill(e, managed("LimitedSwap"), Set.of(), ROOT,
                () -> new long[] {4L << 30, 3L << 30});
        OomReport.send(k, cluster, true, "1f0e2c5a-5b7e-4c43-9d3a-0123456789ab");
        assertThat(cluster.flush(Duration.ofSeconds(20))).isTrue();
        assertThat(events("shop")).singleElement().satisfies(ev -> {
            assertThat(ev.getInvolvedObject().getUid()).isEqualTo("1f0e2c5a-5b7e-4c43-9d3a-0123456789ab");
            assertThat(ev.getMessage()).isEqualTo("container app, pid 77 (app): OOM-killed at its memory limit 128Mi"
                    + " while 3Gi of node swap was free: its swap limit 64Mi (LimitedSwap) was used up");
        });
    }

    @Test
    void aSystemOomIsTheKubeletsNodeEventAndEventsOffSendNothing() {
        OomEvent sys = new OomEvent(4242, "java", "/", "/", true, "CONSTRAINT_NONE", 1);
        OomReport.send(OomAttribution.kill(sys, managed("NoSwap"), Set.of(), ROOT, () -> new long[] {0, 0}),
                cluster, false, null);
        OomReport.send(OomAttribution.kill(v2Kill(CGROUP, 1024, 0, 1), managed("NoSwap"), Set.of(), ROOT,
                () -> new long[] {0, 0}), cluster, false, null);
        assertThat(cluster.flush(Duration.ofSeconds(5))).isTrue();
        assertThat(events("default")).isEmpty();
        assertThat(events("shop")).isEmpty();

        OomReport.send(OomAttribution.kill(sys, managed("NoSwap"), Set.of(), ROOT, () -> new long[] {0, 0}),
                cluster, true, null);
        assertThat(cluster.flush(Duration.ofSeconds(20))).isTrue();
        assertThat(events("default")).singleElement().satisfies(ev -> {
            assertThat(ev.getReason()).isEqualTo("SystemOOM");
            assertThat(ev.getInvolvedObject().getKind()).isEqualTo("Node");
            assertThat(ev.getInvolvedObject().getName()).isEqualTo("node-a");
            assertThat(ev.getMessage()).isEqualTo("System OOM encountered, victim process: java, pid: 4242");
        });
        assertThat(events("shop")).as("no pod event for a kill of no managed container").isEmpty();
    }
}
