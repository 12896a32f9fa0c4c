package io.memwarden.runner;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.cgroup.CgroupTree;
import io.memwarden.cgroup.HostFacts;
import io.memwarden.cgroup.KernelAssumptions;
import io.memwarden.cli.CliProcess;
import io.memwarden.cli.Main;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@code memwarden run} killed with SIGKILL: its container's first process dies with it (parent-death signal), a
 * process the container started itself stays in the run's cgroups, and the next run reclaims both the process and
 * the cgroups while a run that is still going keeps everything; that run then stops on SIGTERM with exit code 0 and
 * leaves nothing. Every run is a real process started in a cgroup of this test's own ({@code memwarden-test-*}), so
 * the runs look for leftovers there and nowhere else.
 */
@Tag("kernel")
class LeftoversKernelTest {
    private static final Duration START = Duration.ofSeconds(90);
    private static final Duration STOP = Duration.ofSeconds(30);
    private static final Pattern ROOT = Pattern.compile("memwarden run: cgroups under (\\S+), logs in");

    @TempDir
    Path dir;

    @Test
    void theNextRunReclaimsAKilledRunsCgroupsAndProcessesAndLeavesALiveRunAlone() throws Exception {
        HostFacts h = KernelAssumptions.requireMemoryCgroup();
        Path pod = dir.resolve("pod.yaml");
        // the container's first process (sh, then the exec'd sleep) and one it starts itself (the background sleep)
        Files.writeString(pod, """
                apiVersion: v1
                kind: Pod
                metadata: {name: sleeper, namespace: t}
                spec:
                  containers:
                  - name: app
                    command: ["/bin/sh", "-c", "sleep 600 & exec sleep 600"]
                    resources: {limits: {memory: 64Mi}}
                """);
        CgroupTree test = KernelAssumptions.newTree(h);
        List<CliProcess> runs = new ArrayList<>();
        List<Path> roots = new ArrayList<>();
        try {
            CliProcess live = run(test, "live", pod, runs);
            Path liveRoot = rootOf(live, roots);
            Set<Long> livePids = pids(liveRoot);
            CliProcess victim = run(test, "victim", pod, runs);
            Path victimRoot = rootOf(victim, roots);
            await(() -> pids(victimRoot).size() == 2, "the victim's container runs two processes");
            assertThat(livePids).hasSize(2);

            victim.signal("KILL");
            victim.process.waitFor();
            assertThat(victim.process.exitValue()).isEqualTo(128 + 9);
            // the container's first process dies with the run (setpriv --pdeathsig KILL); the one it started stays
            if (StandaloneRunner.parentDeathSignal()) {
                await(() -> pids(victimRoot).size() == 1, "only the container's own child is left");
            }
            Set<Long> left = pids(victimRoot);
            assertThat(left).isNotEmpty();
            assertThat(victimRoot).isDirectory();

            CliProcess next = run(test, "next", pod, runs, "--duration", "1s");
            assertThat(next.exitCode(START)).as(next.output()).isZero();
            long victimPid = victim.process.pid();
            assertThat(next.output()).contains("memwarden run: reclaimed the cgroups " + victimRoot
                    + " of an earlier run (pid " + victimPid + ", no longer running): killed " + left.size()
                    + " leftover process" + (left.size() == 1 ? "" : "es") + ", removed them");
            assertThat(victimRoot).doesNotExist();
            for (long pid : left) {
                await(() -> !Files.exists(Path.of("/proc", Long.toString(pid))), "leftover pid " + pid + " gone");
            }
            // the live run: untouched
            assertThat(next.output()).doesNotContain(liveRoot.toString());
            assertThat(live.process.isAlive()).isTrue();
            assertThat(liveRoot).isDirectory();
            assertThat(pids(liveRoot)).isEqualTo(livePids);
            // ... and its own orderly stop: exit 0, everything it made gone
            live.process.destroy();
            assertThat(live.exitCode(STOP)).as(live.output()).isZero();
            assertThat(live.output()).contains("memwarden run: SIGTERM received: stopping",
                    "memwarden run: stopped by SIGTERM: every process it started killed, every cgroup it created"
                            + " removed");
            assertThat(liveRoot).doesNotExist();
            for (long pid : livePids) {
                await(() -> !Files.exists(Path.of("/proc", Long.toString(pid))), "live run's pid " + pid + " gone");
            }
            try (var s = Files.list(test.root())) {
                assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("memwarden-run-"));
            }
        } finally {
            for (CliProcess r : runs) {
                r.close();
            }
            for (Path r : roots) {
                if (Files.isDirectory(r)) {
                    CgroupTree.removeAbandoned(r, false, Duration.ofSeconds(10));
                }
            }
            test.close();
        }
    }

    /** {@code memwarden run} as a process that enters the test's cgroup before the JVM starts. */
    private CliProcess run(CgroupTree test, String name, Path pod, List<CliProcess> runs, String... more)
            throws IOException {
        List<String> args = new ArrayList<>(List.of("run", "-f", pod.toString(), "--loops", "none", "--interval",
                "1s", "--logs", dir.resolve("logs-" + name).toString()));
        args.addAll(List.of(more));
        CliProcess p = CliProcess.start(dir.resolve(name + ".log"), List.of("/bin/sh", "-c",
                "echo $$ > \"$0\" && exec \"$@\"", test.root().resolve("cgroup.procs").toString()),
                Main.class.getName(), args.toArray(String[]::new));
        runs.add(p);
        return p;
    }

    private static Path rootOf(CliProcess run, List<Path> roots) throws Exception {
        Matcher m = ROOT.matcher(run.await("memwarden run: cgroups under", START));
        assertThat(m.find()).isTrue();
        Path root = Path.of(m.group(1));
        roots.add(root);
        assertThat(root.getFileName().toString()).isEqualTo(
                new RunOwner(run.process.pid(), RunOwner.startTicks(Path.of("/proc"), run.process.pid()).orElseThrow())
                        .name(Leftovers.RUN_PREFIX));
        await(() -> pids(root).size() >= 1, "the run's container started");
        return root;
    }

    /** Every pid in the tree below {@code root}. */
    private static Set<Long> pids(Path root) throws IOException {
        Set<Long> out = new TreeSet<>();
        if (!Files.isDirectory(root)) {
            return out;
        }
        try (var walk = Files.walk(root)) {
            for (Path d : walk.filter(Files::isDirectory).toList()) {
                try {
                    for (String l : Files.readAllLines(d.resolve("cgroup.procs"))) {
                        if (!l.isBlank()) {
                            out.add(Long.parseLong(l.strip()));
                        }
                    }
                } catch (java.nio.file.NoSuchFileException gone) {
                    // removed meanwhile
                }
            }
        } catch (java.io.UncheckedIOException gone) {
            // removed meanwhile
        }
        return out;
    }

    interface Check {
        boolean holds() throws IOException;
    }

    private static void await(Check c, String what) throws Exception {
        long end = System.nanoTime() + START.toNanos();
        while (!c.holds()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(50);
        }
    }
}
