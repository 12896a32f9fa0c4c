package io.memwarden.bench;

import io.memwarden.cgroup.HostFacts;
import io.memwarden.cgroup.NodeStats;
import io.memwarden.model.Clock;
import io.memwarden.control.PressureGuard;
import io.memwarden.input.PodManifestReader;
import io.memwarden.input.YamlDocs;
import io.memwarden.model.CgroupFiles;
import io.memwarden.loops.ActionRecord;
import io.memwarden.loops.LoopOptions;
import io.memwarden.model.CgroupVersion;
import io.memwarden.policy.KubeletSettings;
import io.memwarden.policy.Plan;
import io.memwarden.policy.Planner;
import io.memwarden.policy.WardenConfig;
import io.memwarden.loops.ContainerStatus;
import io.memwarden.loops.ControlLoops;
import io.memwarden.model.PodSpec;
import io.memwarden.runner.StandaloneRunner;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code memwarden bench pressure}: a protected Guaranteed service (100 MiB) next to a BestEffort hog that ramps its
 * allocation until the node would OOM, in a confined "node" cgroup, repeated per policy:
 * <ul>
 *   <li>{@code none}: no agent — the kernel OOM killer decides;</li>
 *   <li>{@code kubelet}: kubelet-like — memory.available only (swap ignored), hard threshold 100Mi, a 10 s period;</li>
 *   <li>{@code memwarden}: the pressure guard with its defaults, a 200 ms period.</li>
 * </ul>
 * A 20 ms sampler records memory.available; the action latency is the time from the first sample below the policy's
 * hard threshold to the policy's kill.
 */
public final class PressureBench {
    private PressureBench() {}

    static final String PODS = """
            apiVersion: v1
            kind: Pod
            metadata: {name: svc, namespace: bench}
            spec:
              containers:
                - name: app
                  command: [perl, -e, '$| = 1; $n = 100 * 1024 * 1024; $x = ""; vec($x, $n - 1, 8) = 0; for ($i = 0; $i < $n; $i += 4096) { vec($x, $i, 8) = 1 } print "holding\\n"; sleep 3600']
                  resources: {limits: {cpu: 100m, memory: 150Mi}}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: hog, namespace: bench}
            spec:
              containers:
                - name: grow
                  command: [perl, -e, '$| = 1; sleep 1; @a = (); for $k (1 .. 512) { $x = "\\x01" x (STEP * 1024 * 1024); push @a, \\$x; undef *x; select(undef, undef, undef, 0.05) } sleep 3600']
            """;

    public record Options(int runs, long nodeBytes, int stepMiB, List<String> policies, Path out) {}

    /** One run's outcome. */
    public record Run(String policy, int run, long kernelOomKills, boolean protectedKilled, boolean hogKilledByAgent,
                      Long crossingMillis, Long actionMillis) {}

    public static Map<String, Object> run(HostFacts host, Options o, PrintWriter progress) throws Exception {
        Files.createDirectories(o.out());
        var manifests = PodManifestReader.parse("bench", YamlDocs.readAll("bench",
                PODS.replace("STEP", Integer.toString(o.stepMiB()))));
        Plan plan = new Planner(host.toNodeFacts(), KubeletSettings.DEFAULTS, WardenConfig.DEFAULTS)
                .plan(manifests.pods(), null, List.of());
        if (plan.hasErrors()) {
            throw new IllegalStateException(plan.errors().toString());
        }
        List<Run> runs = new ArrayList<>();
        List<Series> charts = new ArrayList<>();
        for (String policy : o.policies()) {
            for (int i = 1; i <= o.runs(); i++) {
                Series available = new Series(policy + " memory.available (MiB)");
                Run r = once(host, plan, manifests.pods(), o, policy, i, available);
                runs.add(r);
                if (i == 1) {
                    charts.add(available);
                }
                progress.printf("pressure %-9s run %2d/%d: kernel OOM kills %d, protected killed %s, agent killed hog %s,"
                                + " action latency %s%n", policy, i, o.runs(), r.kernelOomKills(), r.protectedKilled(),
                        r.hogKilledByAgent(), r.actionMillis() == null || r.crossingMillis() == null ? "-"
                                : (r.actionMillis() - r.crossingMillis()) + " ms");
                progress.flush();
            }
        }
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("scenario", "pressure");
        report.put("nodeBytes", o.nodeBytes());
        report.put("hogStepMiBPer50ms", o.stepMiB());
        report.put("cgroupVersion", host.memoryController().number());
        List<Map<String, Object>> per = new ArrayList<>();
        for (String policy : o.policies()) {
            List<Run> mine = runs.stream().filter(r -> r.policy().equals(policy)).toList();
            List<Long> lat = new ArrayList<>();
            for (Run r : mine) {
                if (r.actionMillis() != null && r.crossingMillis() != null) {
                    lat.add(r.actionMillis() - r.crossingMillis());
                }
            }
            lat.sort(Long::compare);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("policy", policy);
            m.put("runs", mine.size());
            m.put("kernelOomKills", mine.stream().mapToLong(Run::kernelOomKills).sum());
            m.put("runsWithKernelOomKill", mine.stream().filter(r -> r.kernelOomKills() > 0).count());
            m.put("protectedKilled", mine.stream().filter(Run::protectedKilled).count());
            m.put("hogKilledByAgent", mine.stream().filter(Run::hogKilledByAgent).count());
            m.put("actionLatencyMillisP50", lat.isEmpty() ? null : lat.get((lat.size() - 1) / 2));
            m.put("actionLatencyMillisMax", lat.isEmpty() ? null : lat.getLast());
            per.add(m);
        }
        report.put("policies", per);
        report.put("runs", runs);
        Charts.png(o.out().resolve("pressure.png"), "bench pressure: memory.available (first run per policy)",
                "MiB available", charts);
        return report;
    }

    private static Run once(HostFacts host, Plan plan, List<PodSpec> pods, Options o, String policy,
                            int i, Series available) throws Exception {
        Path logs = Files.createTempDirectory("memwarden-bench-logs-");
        long start = System.nanoTime();
        PressureGuard.Config cfg = switch (policy) {
            case "memwarden" -> PressureGuard.Config.defaults(o.nodeBytes());
            // kubelet: memory.available < 100Mi, swap ignored (never "room"), no PSI, evict at once
            case "kubelet" -> new PressureGuard.Config(100L << 20, Duration.ZERO, 100L << 20, 101, 101, 2.0, 0,
                    Duration.ZERO, 0.05);
            default -> null;
        };
        long tickMillis = policy.equals("kubelet") ? 10_000 : 200;
        try (StandaloneRunner runner = new StandaloneRunner(host, plan, pods, logs).confineTo(o.nodeBytes())) {
            runner.start();
            Long[] crossing = {null};
            long hard = cfg == null ? o.nodeBytes() / 10 : cfg.hardAvailableBytes();
            Thread sampler = Thread.ofPlatform().daemon().start(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    try {
                        NodeStats n = NodeStats.ofCgroup(host, runner.root());
                        long t = (System.nanoTime() - start) / 1_000_000;
                        available.add(t, n.memoryAvailable() / 1048576.0);
                        if (crossing[0] == null && n.memoryAvailable() < hard) {
                            crossing[0] = t;
                        }
                        Thread.sleep(20);
                    } catch (InterruptedException e) {
                        return;
                    } catch (IOException | RuntimeException e) {
                        // cgroup going away at the end
                    }
                }
            });
            ControlLoops loops = cfg == null ? null : new ControlLoops(host, runner.workload(),
                    new LoopOptions(true, false, false, false, cfg, Set.of("bench/svc"), runner.root()),
                    Clock.SYSTEM, line -> { });
            long end = System.nanoTime() + Duration.ofSeconds(40).toNanos();
            long nextTick = 0;
            ContainerStatus hog;
            do {
                long now = (System.nanoTime() - start) / 1_000_000;
                if (loops != null && now >= nextTick) {
                    loops.tick();
                    nextTick = now + tickMillis;
                }
                Thread.sleep(20);
                hog = runner.snapshot().stream().filter(s -> s.pod().equals("bench/hog")).findFirst().orElseThrow();
            } while (hog.running() && System.nanoTime() < end);
            Thread.sleep(300);
            sampler.interrupt();
            List<ContainerStatus> last = runner.snapshot();
            long oom = 0;
            for (ContainerStatus s : last) {
                if (s.usage() != null) {
                    oom += s.usage().events().getOrDefault("oom_kill", 0L);
                }
            }
            String root = Files.readString(runner.root().resolve(host.memoryController() == CgroupVersion.V1
                    ? CgroupFiles.V1_OOM_CONTROL : CgroupFiles.MEMORY_EVENTS));
            for (String line : root.split("\n")) {
                if (line.startsWith("oom_kill ")) {
                    oom += Long.parseLong(line.substring(9).strip());
                }
            }
            ContainerStatus svc = last.stream().filter(s -> s.pod().equals("bench/svc")).findFirst().orElseThrow();
            Long action = null;
            if (loops != null) {
                for (ActionRecord r : loops.history()) {
                    if (r.action().startsWith("evict") && r.pod().equals("bench/hog")) {
                        action = r.atMillis() - start / 1_000_000;
                        break;
                    }
                }
            }
            return new Run(policy, i, oom, !svc.running(), action != null, crossing[0], action);
        } finally {
            try (var s = Files.list(logs)) {
                for (Path p : s.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(logs);
        }
    }
}
