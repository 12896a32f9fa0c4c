package io.memwarden.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.memwarden.cgroup.HostFacts;
import io.memwarden.cgroup.HostProbe;
import io.memwarden.cgroup.KernelAssumptions;
import io.memwarden.runner.TemporarySwap;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code bench density} end to end on this kernel, bounded: a 256 MiB node with 256 MiB of swap, replicas of 16 MiB
 * hot + 32 MiB cold, at most 6 per policy, 3 s steps (about a minute). Sane results, never timing or the ratio.
 */
@Tag("kernel")
@ExtendWith(TemporarySwap.class)
class DensityBenchKernelTest {
    static final long MI = 1L << 20;
    HostFacts host;

    @AfterEach
    void noLeftovers() throws Exception {
        KernelAssumptions.noRunnerLeftovers(null, host);
    }

    @Test
    @SuppressWarnings("unchecked")
    void everyPolicyPlacesPodsAndNoneStaysWithinTheBound() throws Exception {
        KernelAssumptions.requireMemoryCgroup();
        host = HostProbe.probe();
        assumeTrue(host.swapAccounting(), "needs swap accounting");
        assumeTrue(host.swapTotal() >= 256 * MI, "needs the test's swap on");
        Path out = Files.createTempDirectory("memwarden-test-density-");
        try {
            DensityBench.Options o = new DensityBench.Options(256 * MI, 256 * MI, 16, 32, 0.95,
                    DensityBench.POLICIES, 6, Duration.ofSeconds(3), out);
            StringWriter progress = new StringWriter();
            Map<String, Object> r = DensityBench.run(host, o, new PrintWriter(progress, true));
            assertThat(progress.toString()).contains("density: solo hot-loop rate").contains("density none");
            assertThat((long) r.get("soloRatePagesPerSecond")).isPositive();
            long physical = (long) r.get("physicalBound");
            assertThat(physical).isEqualTo(16);
            List<Map<String, Object>> policies = (List<Map<String, Object>>) r.get("policies");
            assertThat(policies).extracting(p -> p.get("policy")).containsExactly("none", "limitedswap", "memwarden");
            for (Map<String, Object> p : policies) {
                int atSlo = (int) p.get("podsAtSlo");
                assertThat(atSlo).as(p.get("policy") + " places a pod").isBetween(1, 6);
                List<Map<String, Object>> steps = (List<Map<String, Object>>) p.get("steps");
                assertThat(steps).isNotEmpty();
                assertThat(steps.getFirst().get("rssBytes")).isInstanceOf(Long.class);
                assertThat((long) steps.getFirst().get("rssBytes")).isGreaterThan(16 * MI);
            }
            Map<String, Object> none = policies.getFirst();
            assertThat((int) none.get("podsAtSlo")).isLessThanOrEqualTo((int) physical);
            // without swap the node cannot hold more replicas than fit whole in it (256 / (16 + 32 + perl's own))
            assertThat((int) none.get("podsAtSlo")).isLessThanOrEqualTo(5);
            for (Map<String, Object> s : (List<Map<String, Object>>) none.get("steps")) {
                assertThat((long) s.get("swapBytes")).isLessThan(4 * MI);
            }
            assertThat(out.resolve("density.png")).isNotEmptyFile();
        } finally {
            try (var f = Files.list(out)) {
                for (Path p : f.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(out);
        }
    }
}
