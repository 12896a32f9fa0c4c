package io.memwarden.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.cgroup.CgroupTree;
import io.memwarden.cgroup.HostFacts;
import io.memwarden.cgroup.KernelAssumptions;
import io.memwarden.nri.FakeRuntime;
import io.memwarden.nri.api.ConfigureRequest;
import io.memwarden.nri.api.ConfigureResponse;
import io.memwarden.nri.api.Container;
import io.memwarden.nri.api.ContainerState;
import io.memwarden.nri.api.CreateContainerRequest;
import io.memwarden.nri.api.CreateContainerResponse;
import io.memwarden.nri.api.LinuxContainer;
import io.memwarden.nri.api.LinuxMemory;
import io.memwarden.nri.api.LinuxResources;
import io.memwarden.nri.api.OptionalInt64;
import io.memwarden.nri.api.PodSandbox;
import io.memwarden.nri.api.SynchronizeRequest;
import io.memwarden.nri.api.SynchronizeResponse;
import io.memwarden.nri.api.UpdateContainerRequest;
import io.memwarden.nri.api.UpdateContainerResponse;
import io.memwarden.nri.wire.WireFormat;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node agent's footprint (issue: 200 containers, all loops at a 1 s period): {@code bin/memwarden agent} as its
 * own process, connected to a runtime (our codec's fake runtime) that synchronizes 200 containers in 20 pods whose
 * cgroups are real (created below this JVM's memory cgroup, so the loops read real kernel files every second), and
 * scraped every 10 s like Prometheus would. Prints start → registered, RSS and CPU; asserts nothing about them
 * (a benchmark, tag bench, not in CI). Run:
 * {@code mvn test -Dtest=AgentFootprintBenchTest -Dmemwarden.test.groups=bench -Dmemwarden.test.excludedGroups=none
 * [-Dmemwarden.bench.seconds=60]}; needs root and a cgroup memory controller.
 */
@Tag("bench")
class AgentFootprintBenchTest {
    static final int PODS = 20;
    static final int PER_POD = 10;

    @TempDir
    Path dir;

    @Test
    void twoHundredContainersAllLoopsAtOneSecond() throws Exception {
        HostFacts h = KernelAssumptions.requireMemoryCgroup();
        int seconds = Integer.getInteger("memwarden.bench.seconds", 60);
        String period = System.getProperty("memwarden.bench.period", "1s");
        Path project = Path.of("").toAbsolutePath();
        try (CgroupTree tree = KernelAssumptions.newTree(h); FakeRuntime rt = new FakeRuntime(dir)) {
            StringBuilder pods = new StringBuilder();
            List<PodSandbox> sandboxes = new ArrayList<>();
            List<Container> containers = new ArrayList<>();
            for (int p = 0; p < PODS; p++) {
                String uid = String.format(Locale.ROOT, "00000000-0000-4000-8000-%012d", p);
                pods.append("---\napiVersion: v1\nkind: Pod\nmetadata: {name: app-").append(p)
                        .append(", namespace: bench, uid: ").append(uid).append("}\nspec:\n  containers:\n");
                sandboxes.add(PodSandbox.newBuilder().setId("sb" + p).setNamespace("bench").setName("app-" + p)
                        .setUid(uid).build());
                for (int c = 0; c < PER_POD; c++) {
                    String qos = p % 2 == 0 ? "burstable" : "besteffort";
                    pods.append("  - name: c").append(c).append('\n');
                    if (p % 2 == 0) {
                        pods.append("    resources: {requests: {memory: 64Mi}, limits: {memory: 256Mi}}\n");
                    }
                    Path cg = tree.mkdirs("kubepods/" + qos + "/pod" + uid + "/ctr" + p + "-" + c);
                    String rel = "/" + h.memoryMount().relativize(cg);
                    LinuxResources.Builder res = LinuxResources.newBuilder();
                    if (p % 2 == 0) {
                        res.setMemory(LinuxMemory.newBuilder().setLimit(OptionalInt64.newBuilder()
                                .setValue(256L << 20)));
                    }
                    containers.add(Container.newBuilder().setId("ctr" + p + "-" + c).setPodSandboxId("sb" + p)
                            .setName("c" + c).setState(ContainerState.CONTAINER_RUNNING)
                            .setLinux(LinuxContainer.newBuilder().setCgroupsPath(rel).setResources(res)).build());
                }
            }
            Path podsFile = Files.writeString(dir.resolve("pods.yaml"), pods);
            Path cfg = Files.writeString(dir.resolve("memwarden.yaml"), """
                    agent: {failSwapOn: warn}
                    loops: {period: %s}
                    kubernetes: {enabled: false}
                    """.formatted(period));
            int port = 19000 + (int) (ProcessHandle.current().pid() % 500);
            long t0 = System.nanoTime();
            Process agent = new ProcessBuilder(project.resolve("bin/memwarden").toString(), "agent", "--config",
                    cfg.toString(), "--nri-socket", rt.socket.toString(), "--pods", podsFile.toString(), "--listen",
                    "127.0.0.1:" + port, "--kube", "off").redirectErrorStream(true)
                    .redirectOutput(dir.resolve("agent.log").toFile()).start();
            try {
                FakeRuntime.Session s = rt.accept().autoRegister();
                s.callOk("Configure", ConfigureRequest.newBuilder().setRuntimeName("containerd").build(),
                        ConfigureResponse.parser());
                double registered = (System.nanoTime() - t0) / 1e9;
                long s0 = System.nanoTime();
                var raw = s.callRaw(WireFormat.PLUGIN_SERVICE, "Synchronize",
                        SynchronizeRequest.newBuilder().addAllPods(sandboxes).addAllContainers(containers).build()
                                .toByteArray()).get(60, java.util.concurrent.TimeUnit.SECONDS);
                assertThat(raw.hasStatus() && raw.getStatus().getCode() != 0).as("Synchronize failed").isFalse();
                SynchronizeResponse sync = SynchronizeResponse.parseFrom(raw.getPayload());
                double syncCall = (System.nanoTime() - s0) / 1e9;
                double synced = (System.nanoTime() - t0) / 1e9;
                // the runtime applies the sync's updates; then 2000 more calls (resizes) as a busy node would make
                for (int i = 0; i < 2000; i++) {
                    Container c = containers.get(i % containers.size());
                    s.callOk("UpdateContainer", UpdateContainerRequest.newBuilder()
                            .setPod(sandboxes.get(i % containers.size() / PER_POD)).setContainer(c)
                            .setLinuxResources(c.getLinux().getResources()).build(), UpdateContainerResponse.parser());
                }
                HttpClient http = HttpClient.newHttpClient();
                long pid = agent.pid();
                long[] cpu0 = cpuTicks(pid);
                long w0 = System.nanoTime();
                long rssMax = 0;
                String status = "";
                for (int t = 0; t < seconds; t++) {
                    Thread.sleep(1000);
                    rssMax = Math.max(rssMax, rssKb(pid));
                    if (t % 10 == 9) {
                        http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                                HttpResponse.BodyHandlers.ofString());
                        status = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/status"))
                                .build(), HttpResponse.BodyHandlers.ofString()).body();
                    }
                }
                long[] cpu1 = cpuTicks(pid);
                double wall = (System.nanoTime() - w0) / 1e9;
                double cpuPct = ((cpu1[0] + cpu1[1]) - (cpu0[0] + cpu0[1])) / 100.0 / wall * 100;
                double userPct = (cpu1[0] - cpu0[0]) / 100.0 / wall * 100;
                long rss = rssKb(pid);
                String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                        + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
                String ticks = metrics.lines().filter(l -> l.startsWith("memwarden_loop_tick_duration_seconds_"))
                        .filter(l -> l.contains("_sum") || l.contains("_count")).reduce("", (a, b) -> a + b + "; ");
                System.out.printf(Locale.ROOT, "agent footprint: %d containers in %d pods, loops every %s, %d s:"
                        + " start->registered %.2f s, Synchronize call %.2f s, start->synchronized %.2f s (%d"
                        + " updates), RSS %d MiB (max %d MiB), CPU %.2f %% of a core (user %.2f %%); %s%n",
                        containers.size(), PODS, period, seconds, registered, syncCall, synced, sync.getUpdateCount(),
                        rss / 1024, rssMax / 1024, cpuPct, userPct, ticks);
                assertThat(status).contains("\"pod\" : \"app-19\"");
                assertThat(sync.getUpdateCount()).isPositive();
            } finally {
                agent.destroy();
                agent.waitFor();
                System.out.println("agent log tail: " + String.join(" | ", Files.readAllLines(dir.resolve("agent.log"))
                        .stream().filter(l -> !l.contains("UpdateContainer")).limit(12).toList()));
            }
        }
    }

    static long rssKb(long pid) throws Exception {
        for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (l.startsWith("VmRSS:")) {
                return Long.parseLong(l.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }

    /** utime, stime in clock ticks (100 Hz). */
    static long[] cpuTicks(long pid) throws Exception {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return new long[] {Long.parseLong(f[11]), Long.parseLong(f[12])};
    }
}
