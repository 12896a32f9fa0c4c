package io.memwarden.bench;

import io.memwarden.cgroup.CgroupWriter;
import io.memwarden.cgroup.HostFacts;
import io.memwarden.cgroup.NodeStats;
import io.memwarden.control.PressureGuard;
import io.memwarden.input.InputException;
import io.memwarden.input.KubeletConfigReader;
import io.memwarden.input.PodManifestReader;
import io.memwarden.input.WardenConfigReader;
import io.memwarden.input.YamlDocs;
import io.memwarden.loops.ContainerStatus;
import io.memwarden.loops.ControlLoops;
import io.memwarden.loops.LoopOptions;
import io.memwarden.model.CgroupFiles;
import io.memwarden.model.CgroupVersion;
import io.memwarden.model.Clock;
import io.memwarden.model.NodeFacts;
import io.memwarden.model.PodSpec;
import io.memwarden.policy.KubeletSettings;
import io.memwarden.policy.Plan;
import io.memwarden.policy.Planner;
import io.memwarden.policy.WardenConfig;
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
 * {@code memwarden bench density}: how many replicas of a workload with a hot set (touched in a loop) and a cold set
 * (written once, then idle) a confined "node" cgroup holds at an SLO, per policy. Replicas start one by one; after
 * each start and a settle time every replica's hot-loop rate (pages touched per second, the loop's 100 ms think time
 * included; the median of 0.5 s intervals) is measured against a solo run; the SLO breaks at the first kernel OOM kill,
 * lost replica, or replica below {@code sloRate} × solo in two windows in a row. Policies:
 * <ul>
 *   <li>{@code none}: no swap (each container memsw = its limit, the node memsw = its memory);</li>
 *   <li>{@code limitedswap}: the kubelet's LimitedSwap proportional limit per container, request / node memory ×
 *       node swap, computed by memwarden's planner for a cgroup v2 node of this size (on v1 the kubelet demotes it to
 *       NoSwap: here it is rendered as memory + that swap), no offload;</li>
 *   <li>{@code memwarden}: memwarden's swap class for these Burstable pods (UnlimitedSwap, bounded by the node's swap),
 *       the cold offload loop and the pressure guard, through {@link ControlLoops}.</li>
 * </ul>
 */
public final class DensityBench {
    private DensityBench() {}

    public static final List<String> POLICIES = List.of("none", "limitedswap", "memwarden");

    /** What perl itself takes besides the two sets (interpreter, stack, the hot loop's bookkeeping), in MiB. */
    static final int OVERHEAD_MIB = 6;

    /**
     * @param nodeBytes     the confined node's memory limit
     * @param nodeSwapBytes swap the node may use (its memsw = memory + this; LimitedSwap's SwapCapacity)
     * @param maxPods       most replicas per policy (0: the physical bound)
     * @param step          one step: settle 40 %, then measure 60 %
     */
    public record Options(long nodeBytes, long nodeSwapBytes, int hotMiB, int coldMiB, double sloRate,
                          List<String> policies, int maxPods, Duration step, Path out) {
        public Options {
            if (hotMiB < 1 || coldMiB < 1 || nodeBytes <= 0 || nodeSwapBytes < 0 || maxPods < 0) {
                throw new IllegalArgumentException("sizes must be positive");
            }
            if (!(sloRate > 0 && sloRate <= 1)) {
                throw new IllegalArgumentException("--slo-rate must be in (0, 1], got " + sloRate);
            }
        }

        long hotBytes() {
            return (long) hotMiB << 20;
        }

        /** The container's memory request: its working set, the hot set and perl's own ({@link #OVERHEAD_MIB}). */
        long requestBytes() {
            return (long) (hotMiB + OVERHEAD_MIB) << 20;
        }

        /** The container's memory limit: twice everything it holds (request ≠ limit: a Burstable pod). */
        long limitBytes() {
            return 2L * ((long) (hotMiB + coldMiB + OVERHEAD_MIB) << 20);
        }

        int podLimit() {
            return maxPods > 0 ? maxPods : (int) Math.max(1, physicalBound(nodeBytes, hotBytes()));
        }
    }

    // ------------------------------------------------------------------ pure parts

    /** The physical bound: replicas whose hot sets alone fill the node (node size / hot set, floored). */
    public static long physicalBound(long nodeBytes, long hotBytes) {
        return nodeBytes / hotBytes;
    }

    /**
     * The bounds a run is read against, in replicas (floored), for a replica footprint F = hot + cold + perl's own:
     * <ul>
     *   <li>{@code physical}: node / hot (the bound: the hot sets alone fill the node);</li>
     *   <li>{@code ram}: node / (hot + perl's own): every cold byte out, nothing else in RAM;</li>
     *   <li>{@code swap}: (node + swap) / F: every replica's bytes somewhere;</li>
     *   <li>{@code none}: node / F: no swap;</li>
     *   <li>{@code limitedSwapV2}: with swap at most S per container (cgroup v2 memory.swap.max), each replica keeps
     *       F − S in RAM: min(node / max(F − S, hot + perl's own), swap bound).</li>
     * </ul>
     */
    public static Map<String, Long> bounds(Options o, long limitedSwapBytes) {
        long mib = 1L << 20;
        long node = o.nodeBytes();
        long f = (long) (o.hotMiB() + o.coldMiB() + OVERHEAD_MIB) * mib;
        long resident = (long) (o.hotMiB() + OVERHEAD_MIB) * mib;
        long swapBound = (node + o.nodeSwapBytes()) / f;
        Map<String, Long> b = new LinkedHashMap<>();
        b.put("physical", physicalBound(node, o.hotBytes()));
        b.put("ram", node / resident);
        b.put("swap", swapBound);
        b.put("none", node / f);
        b.put("limitedSwapV2", Math.min(swapBound, node / Math.max(f - limitedSwapBytes, resident)));
        return b;
    }

    /** One step's measurements (a replica's rate is null when it printed too few samples in the window). */
    public record Step(int pods, List<Double> rates, long oomKills, int lost, long rssBytes, long swapBytes,
                       Double psiSomeAvg10, double seconds, long refaultPages, int loopActions, String load) {}

    /** The judgement of a step: null when it meets the SLO, else why not (one line). */
    public static String breach(Step s, double soloRate, double sloRate) {
        if (s.oomKills() > 0) {
            return s.oomKills() + " kernel OOM kill(s)";
        }
        if (s.lost() > 0) {
            return s.lost() + " replica(s) not running";
        }
        double floor = sloRate * soloRate;
        for (int i = 0; i < s.rates().size(); i++) {
            Double r = s.rates().get(i);
            if (r == null || r < floor) {
                return "replica " + (i + 1) + " at " + (r == null ? "no samples" : String.format("%.0f pages/s (%.1f %%"
                        + " of solo)", r, 100 * r / soloRate)) + ", below " + Math.round(100 * sloRate) + " % of solo";
            }
        }
        return null;
    }

    /** The SLO metric of a step: the slowest replica's rate as a share of solo (0 when a replica has no rate). */
    public static double worstShare(Step s, double soloRate) {
        double worst = Double.MAX_VALUE;
        for (Double r : s.rates()) {
            worst = Math.min(worst, r == null ? 0 : r / soloRate);
        }
        return s.rates().isEmpty() ? 0 : worst;
    }

    /** Pods at SLO: the pod count of the last step before the first breach (steps in order, one pod more each). */
    public static int podsAtSlo(List<Step> steps, double soloRate, double sloRate) {
        int ok = 0;
        for (Step s : steps) {
            if (breach(s, soloRate, sloRate) != null) {
                break;
            }
            ok = s.pods();
        }
        return ok;
    }

    /**
     * The hot-loop rate from a replica's log lines {@code hot <epoch seconds> <cumulative pages>}: the median of the
     * rates between consecutive samples inside [from, to] (epoch seconds), so one scheduling hiccup on a busy machine
     * does not count as a slow replica while a sustained slowdown (refaults) does; null with fewer than two samples.
     */
    public static Double rate(List<String> lines, double from, double to) {
        List<double[]> samples = new ArrayList<>();
        for (String line : lines) {
            if (!line.startsWith("hot ")) {
                continue;
            }
            String[] f = line.split(" ");
            if (f.length != 3) {
                continue;
            }
            double t;
            long n;
            try {
                t = Double.parseDouble(f[1]);
                n = Long.parseLong(f[2]);
            } catch (NumberFormatException e) {
                continue; // a line cut short by a kill
            }
            if (t >= from && t <= to) {
                samples.add(new double[] {t, n});
            }
        }
        List<Double> rates = new ArrayList<>();
        for (int i = 1; i < samples.size(); i++) {
            double dt = samples.get(i)[0] - samples.get(i - 1)[0];
            if (dt > 0) {
                rates.add((samples.get(i)[1] - samples.get(i - 1)[1]) / dt);
            }
        }
        if (rates.isEmpty()) {
            return null;
        }
        rates.sort(Double::compare);
        int m = rates.size();
        return m % 2 == 1 ? rates.get(m / 2) : (rates.get(m / 2 - 1) + rates.get(m / 2)) / 2;
    }

    /**
     * Two measurements of one step combined: per replica the better rate (a replica is slow only when it was slow in
     * both windows: a rate breach must be confirmed), kills and losses of the later one.
     */
    public static Step confirm(Step first, Step second) {
        List<Double> rates = new ArrayList<>();
        for (int i = 0; i < second.rates().size(); i++) {
            Double a = i < first.rates().size() ? first.rates().get(i) : null;
            Double b = second.rates().get(i);
            rates.add(a == null ? b : b == null ? a : Math.max(a, b));
        }
        return new Step(second.pods(), rates, Math.max(first.oomKills(), second.oomKills()), second.lost(),
                second.rssBytes(), second.swapBytes(), second.psiSomeAvg10(), first.seconds() + second.seconds(),
                first.refaultPages() + second.refaultPages(), first.loopActions() + second.loopActions(),
                second.load());
    }

    /**
     * The kubelet's LimitedSwap limit for one replica's container on a cgroup v2 node of {@code nodeBytes} memory and
     * {@code nodeSwapBytes} swap, as memwarden's planner computes it (kubelet-semantics §1:
     * int64(request / MemoryCapacity × SwapCapacity)).
     */
    public static long limitedSwapBytes(Options o, long pageSize) throws InputException {
        NodeFacts v2 = new NodeFacts(o.nodeBytes(), o.nodeSwapBytes(), CgroupVersion.V2, true, pageSize, null, "");
        KubeletSettings limited = KubeletConfigReader.parse("density", YamlDocs.readAll("density",
                "kind: KubeletConfiguration\nfailSwapOn: false\nmemorySwap: {swapBehavior: LimitedSwap}\n").getFirst());
        Plan plan = new Planner(v2, limited, WardenConfig.DEFAULTS).plan(pods(o, 1), null, List.of());
        if (plan.hasErrors()) {
            throw new IllegalStateException(plan.errors().toString());
        }
        String max = plan.pods().getFirst().containers().getFirst().cgroup().get(CgroupFiles.MEMORY_SWAP_MAX);
        if (max == null || max.equals("max")) {
            throw new IllegalStateException("the planner gave no LimitedSwap limit: " + max);
        }
        return Long.parseLong(max);
    }

    /** The replicas' manifests: Burstable, request = working set, limit = twice what each holds. */
    static List<PodSpec> pods(Options o, int n) throws InputException {
        StringBuilder b = new StringBuilder();
        for (int i = 1; i <= n; i++) {
            b.append("""
                    apiVersion: v1
                    kind: Pod
                    metadata: {name: r%02d, namespace: density}
                    spec:
                      containers:
                        - name: app
                          command: [perl, -e, 'use Time::HiRes qw(time); $| = 1; $hot = ""; vec($hot, HOT * 1048576 - 1, 8) = 0; for ($i = 0; $i < length($hot); $i += 4096) { vec($hot, $i, 8) = 1 } $cold = ""; vec($cold, COLD * 1048576 - 1, 8) = 0; for ($i = 0; $i < length($cold); $i += 4096) { vec($cold, $i, 8) = 2 } print "ready\\n"; $n = 0; $last = 0; while (1) { for ($i = 0; $i < length($hot); $i += 4096) { vec($hot, $i, 8) = 1 } $n += length($hot) / 4096; $t = time; if ($t - $last >= 0.5) { printf "hot %%.3f %%d\\n", $t, $n; $last = $t } select(undef, undef, undef, 0.1) }']
                          resources: {requests: {memory: REQ}, limits: {memory: LIM}}
                    ---
                    """.formatted(i).replace("HOT", Integer.toString(o.hotMiB()))
                    .replace("COLD", Integer.toString(o.coldMiB()))
                    .replace("REQ", Long.toString(o.requestBytes())).replace("LIM", Long.toString(o.limitBytes())));
        }
        return PodManifestReader.parse("density", YamlDocs.readAll("density", b.toString())).pods();
    }

    /** The plan a policy runs on this host (cgroup v1 or v2): its swap settings, nothing else differs. */
    static Plan plan(NodeFacts node, Options o, String policy, int n) throws InputException {
        String swap = switch (policy) {
            case "none" -> "swap: {behavior: NoSwap}\n";
            case "limitedswap" -> "swap: {behavior: UnlimitedSwap, maxPerContainer: "
                    + limitedSwapBytes(o, node.pageSize()) + "}\n";
            case "memwarden" -> "swap: {behavior: UnlimitedSwap}\n";
            default -> throw new IllegalArgumentException("unknown policy " + policy);
        };
        Plan plan = new Planner(node,
                KubeletConfigReader.parse("k", YamlDocs.readAll("k", "kind: KubeletConfiguration\nfailSwapOn: false\n")
                        .getFirst()),
                WardenConfigReader.parse("c", YamlDocs.readAll("c", swap).getFirst())).plan(pods(o, n), null, List.of());
        if (plan.hasErrors()) {
            throw new IllegalStateException(plan.errors().toString());
        }
        return plan;
    }

    /** The report (density.json) of a run: per policy its pods at SLO, what broke it and every step's series. */
    public static Map<String, Object> report(Options o, int cgroupVersion, double soloRate, long limitedSwapBytes,
                                             Map<String, List<Step>> runs) {
        List<Map<String, Object>> per = new ArrayList<>();
        for (var e : runs.entrySet()) {
            String policy = e.getKey();
            List<Step> steps = e.getValue();
            int atSlo = podsAtSlo(steps, soloRate, o.sloRate());
            List<Map<String, Object>> series = new ArrayList<>();
            String brokeBy = null;
            for (Step st : steps) {
                String why = breach(st, soloRate, o.sloRate());
                if (why != null && brokeBy == null) {
                    brokeBy = st.pods() + " pods: " + why;
                }
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("pods", st.pods());
                m.put("worstRateShare", Math.round(1000 * worstShare(st, soloRate)) / 1000.0);
                m.put("hotRatesPagesPerSecond", st.rates().stream().map(r -> r == null ? null : (Object) Math.round(r))
                        .toList());
                m.put("rssBytes", st.rssBytes());
                m.put("swapBytes", st.swapBytes());
                m.put("kernelOomKills", st.oomKills());
                m.put("lostReplicas", st.lost());
                m.put("psiSomeAvg10", st.psiSomeAvg10());
                m.put("refaultPagesInWindow", st.refaultPages());
                m.put("loopActionsInWindow", st.loopActions());
                m.put("loadAverage1m", st.load());
                m.put("seconds", Math.round(st.seconds() * 10) / 10.0);
                m.put("atSlo", why == null);
                series.add(m);
            }
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("policy", policy);
            r.put("podsAtSlo", atSlo);
            r.put("sloBrokenBy", brokeBy);
            if (policy.equals("limitedswap")) {
                r.put("limitedSwapBytesPerContainer", limitedSwapBytes);
            }
            r.put("steps", series);
            per.add(r);
        }
        int none = per.stream().filter(p -> p.get("policy").equals("none")).mapToInt(p -> (int) p.get("podsAtSlo"))
                .findFirst().orElse(0);
        for (Map<String, Object> p : per) {
            p.put("gainOverNone", none == 0 ? null : Math.round(100.0 * (int) p.get("podsAtSlo") / none) / 100.0);
        }
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("scenario", "density");
        report.put("cgroupVersion", cgroupVersion);
        report.put("nodeBytes", o.nodeBytes());
        report.put("nodeSwapBytes", o.nodeSwapBytes());
        report.put("hotMiBEach", o.hotMiB());
        report.put("coldMiBEach", o.coldMiB());
        report.put("requestBytesEach", o.requestBytes());
        report.put("limitBytesEach", o.limitBytes());
        report.put("sloRate", o.sloRate());
        report.put("stepSeconds", o.step().toSeconds());
        report.put("soloRatePagesPerSecond", Math.round(soloRate));
        report.put("physicalBound", physicalBound(o.nodeBytes(), o.hotBytes()));
        report.put("bounds", bounds(o, limitedSwapBytes));
        report.put("policies", per);
        return report;
    }

    private static List<Series> chart(Options o, double soloRate, Map<String, List<Step>> runs) {
        List<Series> chart = new ArrayList<>();
        for (var e : runs.entrySet()) {
            Series s = new Series(e.getKey() + " (" + podsAtSlo(e.getValue(), soloRate, o.sloRate()) + " at SLO)");
            for (Step st : e.getValue()) {
                s.add(st.pods(), worstShare(st, soloRate));
            }
            chart.add(s);
        }
        Series slo = new Series("SLO " + Math.round(100 * o.sloRate()) + " % of solo");
        slo.add(1, o.sloRate());
        slo.add(o.podLimit(), o.sloRate());
        chart.add(slo);
        return chart;
    }

    // ------------------------------------------------------------------ the run

    public static Map<String, Object> run(HostFacts host, Options o, PrintWriter progress) throws Exception {
        Files.createDirectories(o.out());
        long t0 = System.nanoTime();
        String load0 = OffloadBench.loadAverage();
        progress.printf("density: node %d MiB + %d MiB swap, replicas of %d MiB hot + %d MiB cold, physical bound %d,"
                        + " SLO %.0f %% of solo, step %d s%n", o.nodeBytes() >> 20, o.nodeSwapBytes() >> 20, o.hotMiB(),
                o.coldMiB(), physicalBound(o.nodeBytes(), o.hotBytes()), 100 * o.sloRate(), o.step().toSeconds());
        progress.flush();
        // solo: one replica alone on the node, no swap, the reference every step is judged against
        Step solo = runPolicy(host, o, "none", 1, null, progress).getFirst();
        Double soloRate = solo.rates().getFirst();
        if (soloRate == null || soloRate <= 0) {
            throw new IOException("the solo replica reported no hot-loop rate");
        }
        progress.printf("density: solo hot-loop rate %.0f pages/s%n", soloRate);
        progress.flush();
        Map<String, List<Step>> runs = new LinkedHashMap<>();
        for (String policy : o.policies()) {
            runs.put(policy, runPolicy(host, o, policy, o.podLimit(), soloRate, progress));
        }
        Map<String, Object> report = report(o, host.memoryController().number(), soloRate,
                limitedSwapBytes(o, host.pageSize()), runs);
        Charts.xy(o.out().resolve("density.png"), "bench density: slowest replica's hot-loop rate vs solo (node "
                + (o.nodeBytes() >> 20) + " MiB, physical bound " + physicalBound(o.nodeBytes(), o.hotBytes()) + ")",
                "pods on the node", "share of solo rate", chart(o, soloRate, runs));
        report.put("loadAverageAtStart", load0);
        report.put("loadAverageAtEnd", OffloadBench.loadAverage());
        report.put("seconds", Math.round((System.nanoTime() - t0) / 1e9));
        return report;
    }

    /**
     * One policy: a staged runner confined to the node; start replicas one by one up to {@code maxPods}, measuring
     * after each; stop at the first breach (when {@code soloRate} is null: measure once, with one replica).
     */
    static List<Step> runPolicy(HostFacts host, Options o, String policy, int maxPods, Double soloRate,
                                PrintWriter progress) throws Exception {
        List<PodSpec> pods = pods(o, maxPods);
        Plan plan = plan(host.toNodeFacts(), o, policy, maxPods);
        Path logs = Files.createTempDirectory("memwarden-bench-logs-");
        List<Step> steps = new ArrayList<>();
        try (StandaloneRunner runner = new StandaloneRunner(host, plan, pods, logs).confineTo(o.nodeBytes())) {
            runner.startStaged();
            if (host.memoryController() == CgroupVersion.V1 && host.swapAccounting()) {
                // the node's swap: none for "none", the node's share for the others
                long swap = policy.equals("none") ? 0 : o.nodeSwapBytes();
                new CgroupWriter(CgroupVersion.V1, host.pageSize()).apply(runner.root(),
                        Map.of(CgroupFiles.V1_MEMSW_LIMIT, Long.toString(o.nodeBytes() + swap)));
            } else if (host.memoryController() == CgroupVersion.V2) {
                long swap = policy.equals("none") ? 0 : o.nodeSwapBytes();
                new CgroupWriter(CgroupVersion.V2, host.pageSize()).apply(runner.root(),
                        Map.of(CgroupFiles.MEMORY_SWAP_MAX, Long.toString(swap)));
            }
            ControlLoops loops = policy.equals("memwarden") ? new ControlLoops(host, runner.workload(),
                    new LoopOptions(true, false, true, false, PressureGuard.Config.defaults(o.nodeBytes()), Set.of(),
                            runner.root()), Clock.SYSTEM, line -> { }) : null;
            Ticker ticker = new Ticker(loops);
            try {
                for (int k = 1; k <= maxPods; k++) {
                    long stepStart = System.nanoTime();
                    String key = runner.startNext();
                    if (key == null) {
                        break;
                    }
                    // the new replica built its sets (or died trying)
                    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                    Path log = runner.logOf(key, "app");
                    while (System.nanoTime() < deadline && !ready(log) && alive(runner, key)) {
                        ticker.sleep(100);
                    }
                    ticker.sleep(o.step().toMillis() * 2 / 5);
                    double from = System.currentTimeMillis() / 1000.0;
                    long refaults0 = OffloadBench.containerRefaults(runner);
                    int actions0 = loops == null ? 0 : loops.history().size();
                    ticker.sleep(o.step().toMillis() * 3 / 5);
                    double to = System.currentTimeMillis() / 1000.0;
                    Step s = measure(host, runner, k, from, to, (System.nanoTime() - stepStart) / 1e9,
                            OffloadBench.containerRefaults(runner) - refaults0,
                            loops == null ? 0 : loops.history().size() - actions0);
                    String why = soloRate == null ? null : breach(s, soloRate, o.sloRate());
                    if (why != null && s.oomKills() == 0 && s.lost() == 0) {
                        // a rate breach counts only when a second window confirms it
                        long again = System.nanoTime();
                        from = System.currentTimeMillis() / 1000.0;
                        refaults0 = OffloadBench.containerRefaults(runner);
                        actions0 = loops == null ? 0 : loops.history().size();
                        ticker.sleep(o.step().toMillis() * 3 / 5);
                        to = System.currentTimeMillis() / 1000.0;
                        s = confirm(s, measure(host, runner, k, from, to, (System.nanoTime() - again) / 1e9,
                                OffloadBench.containerRefaults(runner) - refaults0,
                                loops == null ? 0 : loops.history().size() - actions0));
                        why = breach(s, soloRate, o.sloRate());
                    }
                    steps.add(s);
                    progress.printf("density %-11s %2d pods: slowest %s, RSS %d MiB, swap %d MiB, refaults %d,"
                                    + " actions %d, load %s%s%s%n",
                            soloRate == null ? "solo" : policy, k, soloRate == null
                                    ? (s.rates().getFirst() == null ? "no rate" : String.format("%.0f pages/s",
                                    s.rates().getFirst())) : String.format("%.1f %% of solo",
                                    100 * worstShare(s, soloRate)), s.rssBytes() >> 20, s.swapBytes() >> 20,
                            s.refaultPages(), s.loopActions(), s.load(),
                            s.psiSomeAvg10() == null ? "" : String.format(", PSI some %.2f", s.psiSomeAvg10()),
                            (why == null ? "" : " -> SLO broken: " + why)
                                    + (ticker.failedRounds == 0 ? "" : " (loop rounds failed so far: "
                                    + ticker.failedRounds + ")"));
                    progress.flush();
                    if (soloRate == null || why != null) {
                        break;
                    }
                }
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
        return steps;
    }

    /** The loops' period: the agent's default ({@code loops.period}, 1 s; docs/agent.md). */
    static final long LOOP_PERIOD_MILLIS = 1000;

    /** Sleeps, ticking the control loops (if any) every {@link #LOOP_PERIOD_MILLIS} meanwhile. */
    private static final class Ticker {
        private final ControlLoops loops;
        private long last;
        int failedRounds;

        Ticker(ControlLoops loops) {
            this.loops = loops;
        }

        void sleep(long millis) throws IOException, InterruptedException {
            long end = System.nanoTime() / 1_000_000 + millis;
            while (true) {
                long now = System.nanoTime() / 1_000_000;
                if (now >= end) {
                    return;
                }
                if (loops != null && now - last >= LOOP_PERIOD_MILLIS) {
                    try {
                        loops.tick();
                    } catch (IOException | RuntimeException e) {
                        failedRounds++; // as the agent's loop thread: a failed round is not the end of the loops
                    }
                    last = now;
                }
                Thread.sleep(Math.min(100, end - now));
            }
        }
    }

    private static boolean ready(Path log) throws IOException {
        return Files.exists(log) && Files.readString(log).contains("ready");
    }

    private static boolean alive(StandaloneRunner runner, String key) {
        return runner.snapshot().stream().filter(s -> s.pod().equals(key)).allMatch(ContainerStatus::running);
    }

    private static Step measure(HostFacts host, StandaloneRunner runner, int pods, double from, double to,
                                double seconds, long refaults, int actions) throws IOException {
        List<Double> rates = new ArrayList<>();
        long oom = 0;
        int lost = 0;
        long rss = 0;
        long swap = 0;
        for (ContainerStatus s : runner.snapshot()) {
            Path log = runner.logOf(s.pod(), s.container());
            rates.add(Files.exists(log) ? rate(Files.readAllLines(log), from, to) : null);
            if (!s.running()) {
                lost++;
            }
            if (s.usage() != null) {
                oom += s.usage().events().getOrDefault("oom_kill", 0L);
            }
            if (s.process() != null) {
                rss += s.process().rssBytes();
                swap += s.process().swapBytes();
            }
        }
        String root = Files.readString(runner.root().resolve(host.memoryController() == CgroupVersion.V1
                ? CgroupFiles.V1_OOM_CONTROL : CgroupFiles.MEMORY_EVENTS));
        for (String line : root.split("\n")) {
            if (line.startsWith("oom_kill ")) {
                oom = Math.max(oom, Long.parseLong(line.substring(9).strip()));
            }
        }
        NodeStats n = NodeStats.read(host);
        return new Step(pods, rates, oom, lost, rss, swap, n.psi() == null ? null : n.psi().someAvg10(), seconds,
                refaults, actions, OffloadBench.loadAverage().split(" ")[0]);
    }
}
