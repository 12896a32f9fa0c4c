package io.memwarden.runner;

import io.memwarden.cgroup.CgroupWriteException;
import io.memwarden.cgroup.HostFacts;
import io.memwarden.loops.ContainerStatus;
import io.memwarden.model.PodSpec;
import io.memwarden.policy.NriMemoryQos;
import io.memwarden.policy.Plan;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The seed's KubeCon swap demo made real: three containers of one pod, each holding ~80 MiB of touched anonymous
 * memory under a 100M limit, in three swap classes (bronze, silver, no swap). Runs them with the
 * {@link StandaloneRunner}, waits until each holds its memory, measures VmRSS/VmSwap, and judges: the no-swap
 * container has no swap, bronze swaps more than silver.
 */
public final class SwapDemo {
    private SwapDemo() {}

    public static final String NO_SWAP = "c2-noswap";
    public static final String BRONZE = "c0-lowprio";
    public static final String SILVER = "c1-normal";

    /** One container's measurement. */
    public record Row(String container, String memoryQosClass, String swapBehavior, Map<String, String> cgroup,
                      long rssBytes, long swapBytes, String state) {}

    public record Result(List<Row> rows, List<String> verdicts, boolean holds) {}

    /** Judges measured rows (pure). */
    public static Result judge(List<Row> rows) {
        List<String> v = new ArrayList<>();
        boolean ok = true;
        Row none = find(rows, NO_SWAP);
        Row bronze = find(rows, BRONZE);
        Row silver = find(rows, SILVER);
        for (Row r : rows) {
            if (!r.state().startsWith("running")) {
                v.add("FAIL " + r.container() + " is not running (" + r.state() + ")");
                ok = false;
            }
        }
        if (none == null || bronze == null || silver == null) {
            v.add("FAIL the demo pod needs containers " + BRONZE + ", " + SILVER + " and " + NO_SWAP);
            return new Result(rows, v, false);
        }
        if (none.swapBytes() == 0) {
            v.add("PASS " + NO_SWAP + " (no swap) holds its memory with 0 bytes in swap");
        } else {
            v.add("FAIL " + NO_SWAP + " has " + RunView.size(none.swapBytes()) + " in swap");
            ok = false;
        }
        if (bronze.swapBytes() > silver.swapBytes() && silver.swapBytes() > 0) {
            v.add("PASS bronze " + BRONZE + " swaps more (" + RunView.size(bronze.swapBytes()) + ") than silver "
                    + SILVER + " (" + RunView.size(silver.swapBytes()) + ")");
        } else {
            v.add("FAIL expected bronze " + BRONZE + " (" + RunView.size(bronze.swapBytes()) + ") to swap more than silver "
                    + SILVER + " (" + RunView.size(silver.swapBytes()) + "), and silver to swap some");
            ok = false;
        }
        return new Result(rows, v, ok);
    }

    private static Row find(List<Row> rows, String name) {
        return rows.stream().filter(r -> r.container().equals(name)).findFirst().orElse(null);
    }

    /**
     * Runs the demo pod and measures it. The caller owns swap; this method owns cgroups and processes and removes
     * them before returning. {@code onCreate} receives the runner before it starts (for a Ctrl-C cleanup hook).
     */
    public static Result run(HostFacts host, Plan plan, PodSpec pod, Duration timeout, PrintWriter progress,
                             java.util.function.Consumer<StandaloneRunner> onCreate)
            throws IOException, CgroupWriteException, InterruptedException {
        Path logs = Files.createTempDirectory("memwarden-demo-logs-");
        try (StandaloneRunner runner = new StandaloneRunner(host, plan, List.of(pod), logs)) {
            onCreate.accept(runner);
            runner.start();
            progress.println("started 3 containers under " + runner.root());
            progress.flush();
            long end = System.nanoTime() + timeout.toNanos();
            List<String> waiting = new ArrayList<>(List.of(BRONZE, SILVER, NO_SWAP));
            while (!waiting.isEmpty() && System.nanoTime() < end) {
                waiting.removeIf(c -> holding(runner.logOf(pod.key(), c)));
                boolean anyExited = runner.snapshot().stream().anyMatch(s -> !s.running());
                if (anyExited) {
                    break;
                }
                Thread.sleep(100);
            }
            Thread.sleep(500); // let the last pages settle
            List<Row> rows = new ArrayList<>();
            for (ContainerStatus s : runner.snapshot()) {
                long rss = s.process() == null ? 0 : s.process().rssBytes();
                long swap = s.process() == null ? 0 : s.process().swapBytes();
                rows.add(new Row(s.container(), NriMemoryQos.classOf(pod, s.container()), s.swapBehavior(),
                        s.applied(), rss, swap, RunView.state(s)));
            }
            if (!waiting.isEmpty()) {
                progress.println("warning: " + waiting + " did not report holding their memory within " + timeout);
            }
            return judge(rows);
        } finally {
            try (var files = Files.list(logs)) {
                for (Path p : files.toList()) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(logs);
        }
    }

    private static boolean holding(Path log) {
        try {
            return Files.exists(log) && Files.readString(log).contains("holding");
        } catch (IOException e) {
            return false;
        }
    }
}
