package io.memwarden.bench;

import io.memwarden.cgroup.HostFacts;
import io.memwarden.cgroup.NodeStats;
import io.memwarden.model.Clock;
import io.memwarden.control.PressureGuard;
import io.memwarden.input.KubeletConfigReader;
import io.memwarden.input.PodManifestReader;
import io.memwarden.input.WardenConfigReader;
import io.memwarden.input.YamlDocs;
import io.memwarden.loops.LoopOptions;
import io.memwarden.model.PodSpec;
import io.memwarden.policy.Plan;
import io.memwarden.policy.Planner;
import io.memwarden.loops.ContainerStatus;
import io.memwarden.loops.ControlLoops;
import io.memwarden.model.CgroupVersion;
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
 * {@code memwarden bench offload}: N containers, each with a hot set it touches every 100 ms and a cold set it
 * touched once; every container may swap (memwarden's UnlimitedSwap) and nothing presses on memory. Per policy —
 * {@code none} (no agent: the kernel swaps only under pressure, like the kubelet's LimitedSwap, which swaps only at
 * the limit) and {@code memwarden} (the cold offloader) — it measures from {@code /proc/<pid>/pagemap} how much of the
 * cold and of the hot set is out of RAM, the swap-in rate and node PSI.
 */
public final class OffloadBench {
    private OffloadBench() {}

    /**
     * @param v1Method         how memwarden offloads on cgroup v1: cold ranges (madvise) or limit probing
     * @param v2Method         how memwarden offloads on cgroup v2: cold ranges (madvise) or memory.reclaim
     * @param separateMappings the workload loads a module between its hot and cold allocations, so the kernel cannot
     *                         merge them into one mapping (by default they share one, as allocations usually do)
     */
    public record Options(int workloads, int hotMiB, int coldMiB, Duration duration, List<String> policies, Path out,
                          LoopOptions.V1Offload v1Method, LoopOptions.V2Offload v2Method, boolean separateMappings) {}

    static String pods(Options o) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < o.workloads(); i++) {
            b.append("""
                    apiVersion: v1
                    kind: Pod
                    metadata: {name: w%d, namespace: bench}
                    spec:
                      containers:
                        - name: app
                          command: [perl, -e, '$| = 1; $hot = "\\x01" x (HOT * 1024 * 1024); SEPARATE$cold = "\\x02" x (COLD * 1024 * 1024); printf "sets %%d %%d %%d %%d\\n", unpack("Q", pack("p", $hot)), length($hot), unpack("Q", pack("p", $cold)), length($cold); while (1) { for ($i = 0; $i < length($hot); $i += 4096) { vec($hot, $i, 8) = 1 } select(undef, undef, undef, 0.1) }']
                          resources: {requests: {memory: 64Mi}, limits: {memory: 1Gi}}
                    ---
                    """.formatted(i).replace("HOT", Integer.toString(o.hotMiB())).replace("COLD",
                    Integer.toString(o.coldMiB())).replace("SEPARATE", o.separateMappings() ? "require POSIX; " : ""));
        }
        return b.toString();
    }

    public static Map<String, Object> run(HostFacts host, Options o, PrintWriter progress) throws Exception {
        Files.createDirectories(o.out());
        var manifests = PodManifestReader.parse("bench", YamlDocs.readAll("bench", pods(o)));
        Plan plan = new Planner(host.toNodeFacts(),
                KubeletConfigReader.parse("k", YamlDocs.readAll("k", "kind: KubeletConfiguration\nfailSwapOn: false\n").getFirst()),
                WardenConfigReader.parse("c", YamlDocs.readAll("c", "swap: {behavior: UnlimitedSwap}\n").getFirst()))
                .plan(manifests.pods(), null, List.of());
        if (plan.hasErrors()) {
            throw new IllegalStateException(plan.errors().toString());
        }
        List<Map<String, Object>> per = new ArrayList<>();
        List<Series> series = new ArrayList<>();
        for (String policy : o.policies()) {
            Series s = new Series(policy + " cold MiB out of RAM");
            per.add(once(host, plan, manifests.pods(), o, policy, s, progress));
            series.add(s);
        }
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("scenario", "offload");
        report.put("cgroupVersion", host.memoryController().number());
        report.put("workloads", o.workloads());
        report.put("hotMiBEach", o.hotMiB());
        report.put("coldMiBEach", o.coldMiB());
        if (host.memoryController() == CgroupVersion.V1) {
            report.put("v1Method", o.v1Method().name().toLowerCase(java.util.Locale.ROOT));
        } else {
            report.put("v2Method", o.v2Method().name().toLowerCase(java.util.Locale.ROOT));
        }
        report.put("layout", o.separateMappings() ? "separate" : "merged");
        report.put("policies", per);
        Charts.png(o.out().resolve("offload.png"), "bench offload: cold bytes out of RAM", "MiB", series);
        return report;
    }

    /** The 1, 5 and 15 minute load averages (/proc/loadavg), to judge a run on a shared machine. */
    static String loadAverage() throws IOException {
        String[] f = Files.readString(Path.of("/proc/loadavg")).strip().split("\\s+");
        return f[0] + " " + f[1] + " " + f[2];
    }

    /** Anonymous refaults of the workloads' own cgroups (memory.stat), the per-container promotion count. */
    static long containerRefaults(StandaloneRunner runner) {
        long n = 0;
        for (ContainerStatus s : runner.snapshot()) {
            if (s.usage() != null) {
                n += s.usage().stat().getOrDefault("total_workingset_refault_anon",
                        s.usage().stat().getOrDefault("workingset_refault_anon", 0L));
            }
        }
        return n;
    }

    private record Sets(long pid, long hotAddr, long hotLen, long coldAddr, long coldLen) {}

    private static Map<String, Object> once(HostFacts host, Plan plan, List<PodSpec> pods, Options o, String policy,
                                            Series coldOut, PrintWriter progress) throws Exception {
        Path logs = Files.createTempDirectory("memwarden-bench-logs-");
        try (StandaloneRunner runner = new StandaloneRunner(host, plan, pods, logs)) {
            runner.start();
            List<Sets> sets = new ArrayList<>();
            long wait = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (sets.size() < pods.size() && System.nanoTime() < wait) {
                sets.clear();
                for (ContainerStatus s : runner.snapshot()) {
                    Path log = runner.logOf(s.pod(), s.container());
                    if (Files.exists(log)) {
                        for (String line : Files.readAllLines(log)) {
                            if (line.startsWith("sets ")) {
                                String[] f = line.split(" ");
                                sets.add(new Sets(s.pid(), Long.parseLong(f[1]), Long.parseLong(f[2]),
                                        Long.parseLong(f[3]), Long.parseLong(f[4])));
                            }
                        }
                    }
                }
                Thread.sleep(100);
            }
            if (sets.size() < pods.size()) {
                throw new IOException("the workloads did not report their memory sets within 60 s");
            }
            List<String> loopLog = java.util.Collections.synchronizedList(new ArrayList<>());
            long t0 = System.nanoTime();
            ControlLoops loops = policy.equals("memwarden") ? new ControlLoops(host, runner.workload(),
                    new LoopOptions(false, false, true, false, PressureGuard.Config.defaults(host.memTotal()),
                            Set.of(), null, o.v1Method(), o.v2Method()), Clock.SYSTEM,
                    line -> loopLog.add(String.format("%.1f s %s", (System.nanoTime() - t0) / 1e9, line))) : null;
            try {
            String load0 = loadAverage();
            long coldTotal = sets.stream().mapToLong(Sets::coldLen).sum();
            long hotTotal = sets.stream().mapToLong(Sets::hotLen).sum();
            long start = System.nanoTime();
            long swapIn0 = NodeStats.read(host).swapInPages();
            long refault0 = containerRefaults(runner);
            Long secondsTo90 = null;
            double psiMax = 0;
            long coldOutBytes = 0;
            long hotOutBytes = 0;
            long lastTick = -1_000_000;
            while (System.nanoTime() - start < o.duration().toNanos()) {
                long t = (System.nanoTime() - start) / 1_000_000;
                if (loops != null && t - lastTick >= 500) {
                    loops.tick();
                    lastTick = t;
                }
                coldOutBytes = 0;
                hotOutBytes = 0;
                for (Sets s : sets) {
                    coldOutBytes += PageMap.read(s.pid(), s.coldAddr(), s.coldLen(), host.pageSize()).swappedBytes();
                    hotOutBytes += PageMap.read(s.pid(), s.hotAddr(), s.hotLen(), host.pageSize()).swappedBytes();
                }
                coldOut.add(t, coldOutBytes / 1048576.0);
                NodeStats n = NodeStats.read(host);
                if (n.psi() != null) {
                    psiMax = Math.max(psiMax, n.psi().someAvg10());
                }
                if (secondsTo90 == null && coldOutBytes >= coldTotal * 9 / 10) {
                    secondsTo90 = t / 1000;
                }
                Thread.sleep(1000);
            }
            double minutes = (System.nanoTime() - start) / 60e9;
            long swapIns = NodeStats.read(host).swapInPages() - swapIn0;
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("policy", policy);
            r.put("coldBytes", coldTotal);
            r.put("offloadedColdBytes", coldOutBytes);
            r.put("offloadRatio", Math.round(1000.0 * coldOutBytes / coldTotal) / 1000.0);
            r.put("hotBytes", hotTotal);
            r.put("offloadedHotBytesAtEnd", hotOutBytes);
            r.put("hotPromotionPerMinutePercent", Math.round(10000.0 * swapIns * host.pageSize() / hotTotal / minutes) / 100.0);
            r.put("containerRefaultsPerMinutePercent", Math.round(10000.0 * (containerRefaults(runner) - refault0)
                    * host.pageSize() / hotTotal / minutes) / 100.0);
            r.put("psiSomeAvg10Max", psiMax);
            r.put("secondsToNinetyPercent", secondsTo90);
            r.put("actions", loops == null ? 0 : loops.history().size());
            r.put("loadAverageAtStart", load0);
            r.put("loadAverageAtEnd", loadAverage());
            if (loops != null) {
                Files.write(o.out().resolve("offload-" + policy + "-actions.log"), List.copyOf(loopLog));
            }
            progress.println("offload " + policy + ": " + r);
            progress.flush();
            return r;
            } finally {
                if (loops != null) {
                    loops.close();
                }
            }
        } finally {
            try (var f = Files.list(logs)) {
                for (Path p : f.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(logs);
        }
    }
}
