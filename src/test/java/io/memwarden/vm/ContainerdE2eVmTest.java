package io.memwarden.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.TestFactory;

/**
 * The NRI end-to-end proof (vm tier): in the cgroup v2 VM, containerd with runc runs pods created through CRI by a
 * test-only client, and memwarden is connected as an external NRI plugin. One boot, two passes of the guest script
 * test/vm/guest/containerd-e2e.sh one after the other: containerd 1.7.24 (NRI v0.6.1) and containerd 2.1.x (NRI
 * v0.8.0: split sync, the oom_score_adj adjustment). The script compares the containers' real cgroup files and
 * oom_score_adj with {@code memwarden plan} for the same pods on the guest's node, runs a memory hog in a NoSwap
 * container, then {@code memwarden agent}; each of its {@code CHECK <containerd-version>/<name>} lines becomes one
 * dynamic test here.
 *
 * <p>Inputs: system properties {@code memwarden.vm.containerd} and {@code memwarden.vm.containerd2} (the trees
 * {@code test/vm/fetch-containerd.sh} and {@code test/vm/fetch-containerd.sh --line 2.1} print) and
 * {@code memwarden.vm.criclient} (the cri-client binary test/nri/build.sh builds); when unset the scripts run here.
 */
@Tag("vm")
class ContainerdE2eVmTest {
    static final List<String> CHECKS = List.of(
            "containerd_cri",   // containerd starts in the guest (tmpfs state) and answers CRI Version
            "nri_registered",   // memwarden nri registers with containerd's NRI and is synchronized
            "plan_silver",      // Burstable container, nri memory-qos class silver: cgroup files = memwarden plan
            "plan_noswap",      // Burstable container under NoSwap: cgroup files = memwarden plan
            "noswap_hog",       // 200 MiB hog at a 64Mi limit: never swaps, OOM-killed (oom_kill grows)
            "nri_stop_keeps_values", // memwarden nri stops on SIGTERM; the containers keep their values
            "agent_registered", // memwarden agent (mock Kubernetes API) registers and is synchronized
            "agent_status",     // /status lists the running containers, planned from the API's pod specs
            "agent_node_marked",   // the Node gets memwarden.io/swap label and taint
            "agent_throttle_relief", // a throttled container (memory.high, no swap) finishes: relief raised it
            "agent_events",     // the relief is an event on the pod in the API
            "limitedswap_swap_max", // LimitedSwap container: numeric memory.swap.max = plan = the kubelet's formula
            "plan_limitedswap", // the LimitedSwap container's cgroup files = memwarden plan
            "oom_score_adj",    // Burstable/Guaranteed/BestEffort processes: oom_score_adj = plan (NRI v0.7+)
            "noswap_tmpfs",     // the LimitedSwap container's tmpfs /dev mounted noswap (NRI mount adjustment),
                                //   the NoSwap one's not; its /dev/shm bind of a host tmpfs reported
            "agent_metrics",    // /metrics: the container's memory.high, NRI latency, loop actions
            "agent_lifecycle",  // CRI stop + remove of a pod reach the agent (StopContainer, StateChange)
            "agent_shutdown",   // SIGTERM: the agent stops, the raised memory.high stays
            "script");          // the script reached its end without an unexpected command error

    /** The checks of runtimes with NRI v0.7+ only. */
    static final List<String> CHECKS_NRI_V07 = List.of(
            "nri_split_sync");  // 20 pods of 240 KiB annotations: memwarden joined a split Synchronize

    /**
     * Both passes took 762-878 s from boot to poweroff on 2 cores under TCG with a load average of 8-11 from other
     * jobs (2026-12-07: 325-368 s for 1.7.24, 428-497 s for 2.1.9); the limit leaves room for slower hosts.
     */
    static final Duration TIMEOUT = Duration.ofMinutes(25);

    private static final Pattern VERSION = Pattern.compile("(\\d+)\\.(\\d+)\\.(\\d+)");

    @TestFactory
    Stream<DynamicTest> containerdWithMemwardenAsNriPlugin() throws Exception {
        List<String> trees = List.of(property("memwarden.vm.containerd", "test/vm/fetch-containerd.sh"),
                property("memwarden.vm.containerd2", "test/vm/fetch-containerd.sh", "--line", "2.1"));
        Map<String, List<String>> expected = new LinkedHashMap<>();
        for (String tree : trees) {
            int[] v = containerdVersion(tree);
            List<String> names = new ArrayList<>(CHECKS);
            // NRI v0.7+ from containerd 1.7.26 and 2.0 on (nri-protocol.md §5)
            if (v[0] >= 2 || (v[0] == 1 && v[1] == 7 && v[2] >= 26)) {
                names.addAll(CHECKS_NRI_V07);
            }
            expected.put("containerd-" + v[0] + "." + v[1] + "." + v[2], names);
        }
        String criClient = System.getProperty("memwarden.vm.criclient", "");
        if (criClient.isBlank()) {
            script("test/nri/setup.sh");
            criClient = script("test/nri/build.sh") + "/nri-criclient";
        }
        VmRun run = VmRun.run(List.of(
                "--swap", "1G",
                "--env", "MW_JAVA=" + Path.of(System.getProperty("java.home"), "bin", "java"),
                "--env", "MW_CONTAINERD_ROOTS=" + String.join(":", trees),
                "--env", "MW_CRI_CLIENT=" + criClient,
                "--env", "MW_TEST_CLASSPATH=" + testClasspath()),
                List.of(VmRun.projectDir().resolve("test/vm/guest/containerd-e2e.sh").toString()), TIMEOUT);
        System.out.println(run.summary());

        Map<String, VmRun.Check> checks = run.checks();
        List<DynamicTest> tests = new ArrayList<>();
        tests.add(dynamicTest("the VM boots and runs the e2e script", () -> assertThat(run.exitCode())
                .as("run-in-vm.sh failed to run the guest script:%n%s", run.summary())
                .isNotEqualTo(VmRun.HARNESS_FAILURE)));
        List<String> all = new ArrayList<>();
        expected.forEach((tag, names) -> {
            for (String name : names) {
                String key = tag + "/" + name;
                all.add(key);
                tests.add(dynamicTest(tag + ": " + name, () -> {
                    VmRun.Check c = checks.get(key);
                    assertThat(c).as("no CHECK line for %s in the guest's output (logs in %s)", key, run.dir()).isNotNull();
                    assertThat(c.passed()).as("%s: %s (logs in %s)", key, c.detail(), run.dir()).isTrue();
                }));
            }
        });
        tests.add(dynamicTest("no unexpected checks", () ->
                assertThat(checks.keySet()).as("CHECK lines").isSubsetOf(all)));
        return tests.stream();
    }

    /** major, minor, patch of {@code TREE/usr/bin/containerd --version} (the guest script tags its checks so). */
    static int[] containerdVersion(String tree) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(Path.of(tree, "usr/bin/containerd").toString(), "--version")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(1, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IllegalStateException(tree + "/usr/bin/containerd --version failed: " + out);
        }
        Matcher m = VERSION.matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("no version in: " + out);
        }
        return new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3))};
    }

    /**
     * This JVM's class path (test classes and every dependency), for the guest's mock API server; surefire may run
     * the tests from a manifest-only jar whose Class-Path holds the real entries.
     */
    static String testClasspath() throws IOException {
        String cp = System.getProperty("java.class.path");
        if (!cp.contains(java.io.File.pathSeparator) && cp.endsWith(".jar")) {
            Path jar = Path.of(cp).toAbsolutePath();
            try (java.util.jar.JarFile j = new java.util.jar.JarFile(jar.toFile())) {
                String entries = j.getManifest() == null ? null
                        : j.getManifest().getMainAttributes().getValue("Class-Path");
                if (entries != null) {
                    List<String> out = new ArrayList<>();
                    for (String e : entries.trim().split("\\s+")) {
                        out.add(Path.of(jar.getParent().toUri().resolve(e)).toString());
                    }
                    cp = String.join(java.io.File.pathSeparator, out);
                }
            }
        }
        List<String> abs = new ArrayList<>();
        for (String e : cp.split(java.io.File.pathSeparator)) {
            abs.add(Path.of(e).toAbsolutePath().toString());
        }
        return String.join(java.io.File.pathSeparator, abs);
    }

    private static String property(String name, String script, String... args) throws IOException, InterruptedException {
        String v = System.getProperty(name, "");
        return v.isBlank() ? script(script, args) : v;
    }

    /** Runs a project script; returns the last line of its stdout (stderr goes to ours). */
    private static String script(String path, String... args) throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>();
        argv.add(VmRun.projectDir().resolve(path).toString());
        argv.addAll(List.of(args));
        Process p = new ProcessBuilder(argv).directory(VmRun.projectDir().toFile())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IllegalStateException(path + " failed");
        }
        return out.substring(out.lastIndexOf('\n') + 1);
    }
}
