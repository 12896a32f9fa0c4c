package io.memwarden.bench;

import io.memwarden.cgroup.HostFacts;
import io.memwarden.model.Clock;
import io.memwarden.control.PressureGuard;
import io.memwarden.input.PodManifestReader;
import io.memwarden.input.WardenConfigReader;
import io.memwarden.input.YamlDocs;
import io.memwarden.loops.LoopOptions;
import io.memwarden.policy.KubeletSettings;
import io.memwarden.policy.Plan;
import io.memwarden.policy.Planner;
import io.memwarden.loops.ContainerStatus;
import io.memwarden.loops.ControlLoops;
import io.memwarden.model.PodSpec;
import io.memwarden.runner.StandaloneRunner;
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
 * {@code memwarden bench throttle}: the memory.high stall. One container with memory.high 64M (an nri memory-qos
 * annotation), a 512Mi limit and no swap allocates 4 MiB every 20 ms up to 384 MiB and reports its progress. Without
 * relief it sits throttled at memory.high (cgroup v2: allocation penalties, no progress; cgroup v1, where memory.high
 * is projected onto the hard limit: it is OOM-killed); with memwarden's throttle relief it keeps allocating.
 */
public final class ThrottleBench {
    private ThrottleBench() {}

    static final String POD = """
            apiVersion: v1
            kind: Pod
            metadata:
              name: stall
              namespace: bench
              annotations: {memory.high.memory-qos.nri.io: "67108864"}
            spec:
              containers:
                - name: alloc
                  command: [perl, -e, '$| = 1; @a = (); for $k (1 .. 96) { $x = "\\x01" x (4 * 1024 * 1024); push @a, \\$x; undef *x; print "allocated ", $k * 4, "\\n"; select(undef, undef, undef, 0.02) } print "done\\n"; sleep 3600']
                  resources: {requests: {memory: 32Mi}, limits: {memory: 512Mi}}
            """;
    static final String CONFIG = "memoryQos: {unifiedannotations: [memory.high]}\n";

    public record Options(Duration duration, List<String> policies, Path out) {}

    public static Map<String, Object> run(HostFacts host, Options o, PrintWriter progress) throws Exception {
        Files.createDirectories(o.out());
        var manifests = PodManifestReader.parse("bench", YamlDocs.readAll("bench", POD));
        Plan plan = new Planner(host.toNodeFacts(), KubeletSettings.DEFAULTS,
                WardenConfigReader.parse("cfg", YamlDocs.readAll("cfg", CONFIG).getFirst()))
                .plan(manifests.pods(), null, List.of());
        if (plan.hasErrors()) {
            throw new IllegalStateException(plan.errors().toString());
        }
        List<Map<String, Object>> per = new ArrayList<>();
        List<Series> series = new ArrayList<>();
        for (String policy : o.policies()) {
            Series s = new Series(policy + " MiB allocated");
            Map<String, Object> r = once(host, plan, manifests.pods(), o, policy, s);
            series.add(s);
            per.add(r);
            progress.println("throttle " + policy + ": " + r);
            progress.flush();
        }
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("scenario", "throttle");
        report.put("cgroupVersion", host.memoryController().number());
        report.put("durationSeconds", o.duration().toSeconds());
        report.put("policies", per);
        Charts.png(o.out().resolve("throttle.png"), "bench throttle: allocation progress at memory.high 64M",
                "MiB allocated", series);
        return report;
    }

    private static Map<String, Object> once(HostFacts host, Plan plan, List<PodSpec> pods, Options o,
                                            String policy, Series progress) throws Exception {
        Path logs = Files.createTempDirectory("memwarden-bench-logs-");
        long start = System.nanoTime();
        try (StandaloneRunner runner = new StandaloneRunner(host, plan, pods, logs)) {
            runner.start();
            ControlLoops loops = policy.equals("memwarden") ? new ControlLoops(host, runner.workload(),
                    new LoopOptions(false, true, false, false, PressureGuard.Config.defaults(host.memTotal()),
                            Set.of(), null), Clock.SYSTEM, line -> { }) : null;
            Path log = runner.logOf("bench/stall", "alloc");
            long end = start + o.duration().toNanos();
            long lastTick = 0;
            int mib = 0;
            boolean done = false;
            ContainerStatus s;
            do {
                long t = (System.nanoTime() - start) / 1_000_000;
                if (loops != null && t - lastTick >= 500) {
                    loops.tick();
                    lastTick = t;
                }
                mib = allocated(log);
                done = Files.exists(log) && Files.readString(log).contains("done");
                progress.add(t, mib);
                Thread.sleep(100);
                s = runner.snapshot().getFirst();
            } while (!done && s.running() && System.nanoTime() < end);
            long seconds = Math.max(1, (System.nanoTime() - start) / 1_000_000_000L);
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("policy", policy);
            r.put("allocatedMiB", mib);
            r.put("finished", done);
            r.put("secondsToFinish", done ? seconds : null);
            r.put("state", s.running() ? "running" : s.oomKilled() ? "OOM-killed" : "exited " + s.exitCode());
            r.put("memoryHighEvents", s.usage() == null ? null : s.usage().events().getOrDefault("high",
                    s.usage().events().get("failcnt")));
            r.put("actions", loops == null ? 0 : loops.history().size());
            return r;
        } finally {
            try (var f = Files.list(logs)) {
                for (Path p : f.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(logs);
        }
    }

    private static int allocated(Path log) throws java.io.IOException {
        if (!Files.exists(log)) {
            return 0;
        }
        int last = 0;
        for (String line : Files.readAllLines(log)) {
            if (line.startsWith("allocated ")) {
                last = Integer.parseInt(line.substring(10).strip());
            }
        }
        return last;
    }
}
