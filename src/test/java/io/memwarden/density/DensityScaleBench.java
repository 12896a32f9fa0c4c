package io.memwarden.density;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.model.ClusterNode;
import io.memwarden.model.ContainerKind;
import io.memwarden.model.ContainerSpec;
import io.memwarden.model.KubeQuantity;
import io.memwarden.model.PodSpec;
import io.memwarden.model.Resources;
import io.memwarden.model.Scheduling;
import io.memwarden.model.Usage;
import io.memwarden.model.WorkloadSpec;
import io.memwarden.policy.KubeVirtConfig;
import io.memwarden.policy.KubeletSettings;
import io.memwarden.policy.WardenConfig;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The planner at scale: 5 000 nodes (hostname labels, 4 zones, 2 pools of 16 and 48 GiB, a tainted tenth), 150 000 pods from 1 500
 * Deployments of 100 replicas (zone selectors, pool affinity, tolerations, sidecars) with usage for all, so the
 * requested and right-sized scenarios are both packed. Prints wall time and heap for docs/density.md; no timing
 * asserts. Run: {@code mvn test -Dtest=DensityScaleBench -Dmemwarden.test.excludedGroups=none}.
 */
@Tag("bench")
class DensityScaleBench {
    static final long MI = 1L << 20;

    @Test
    void fiveThousandNodesOneHundredFiftyThousandPods() {
        List<ClusterNode> nodes = new ArrayList<>();
        for (int i = 0; i < 5000; i++) {
            String name = String.format("node-%05d", i);
            Map<String, String> labels = Map.of("kubernetes.io/hostname", name, "zone", "z" + i % 4,
                    "pool", i % 2 == 0 ? "general" : "memory");
            List<Scheduling.Taint> taints = i % 10 == 0 ? List.of(new Scheduling.Taint("dedicated", "batch",
                    Scheduling.TaintEffect.NoSchedule)) : List.of();
            long mem = (i % 2 == 0 ? 16L : 48L) << 30;
            nodes.add(new ClusterNode(name, labels, taints, mem - (2L << 30), 15_500, 110, mem, 8L << 30, "amd64",
                    null));
        }
        List<WorkloadSpec> workloads = new ArrayList<>();
        Map<String, Usage.PodUsage> usage = new LinkedHashMap<>();
        for (int w = 0; w < 1500; w++) {
            long req = (128 + (w * 37L) % 2048) * MI;
            PodSpec t = new PodSpec("ns" + w % 50, "d" + w, null, Map.of(), null, null, null, null, null, List.of(
                    new ContainerSpec("proxy", ContainerKind.SIDECAR, new Resources(KubeQuantity.parse("50m"), null,
                            64 * MI, 128 * MI)),
                    new ContainerSpec("app", ContainerKind.REGULAR, new Resources(KubeQuantity.parse("100m"), null,
                            req, 2 * req))));
            Scheduling s = switch (w % 4) {
                case 0 -> new Scheduling(null, Map.of("zone", "z" + w % 3), null, null, false);
                case 1 -> new Scheduling(null, null, List.of(new Scheduling.Term(List.of(new Scheduling.Requirement(
                        "pool", Scheduling.Operator.In, List.of("memory"))), null)), null, false);
                case 2 -> new Scheduling(null, null, null, List.of(new Scheduling.Toleration("dedicated", false,
                        "batch", Scheduling.TaintEffect.NoSchedule)), false);
                default -> Scheduling.NONE;
            };
            workloads.add(new WorkloadSpec("Deployment", "ns" + w % 50, "d" + w, t, s, 100));
            long ws = req * 6 / 10;
            usage.put("ns" + w % 50 + "/d" + w, new Usage.PodUsage(ws + 40 * MI, ws / 3, Map.of(
                    "app", new Usage.ContainerUsage(ws, ws / 3), "proxy", new Usage.ContainerUsage(40 * MI, null))));
        }
        DensityPlanner.Inputs in = new DensityPlanner.Inputs(nodes, workloads, List.of(), new Usage(usage),
                KubeletSettings.DEFAULTS, WardenConfig.DEFAULTS, KubeVirtConfig.DEFAULTS, 15, 150);
        var mx = ManagementFactory.getMemoryMXBean();
        for (int round = 0; round < 3; round++) {
            System.gc();
            long heap0 = mx.getHeapMemoryUsage().getUsed();
            long t0 = System.nanoTime();
            DensityReport r = DensityPlanner.plan(in);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            long heap1 = mx.getHeapMemoryUsage().getUsed();
            System.gc();
            long retained = mx.getHeapMemoryUsage().getUsed() - heap0;
            System.out.printf("density bench round %d: %d ms for 5000 nodes x 150000 pods, 2 scenarios;"
                            + " requested placed %d unplaced %d, right-sized placed %d unplaced %d (gain %.3f);"
                            + " heap grew %d MiB during, report retains %d MiB%n", round, ms,
                    r.scenarios().get(0).placed(), r.scenarios().get(0).unplaced().size(),
                    r.scenarios().get(1).placed(), r.scenarios().get(1).unplaced().size(), r.scenarios().get(1).gain(),
                    (heap1 - heap0) >> 20, retained >> 20);
            assertThat(r.scenarios().get(0).placed() + r.scenarios().get(0).unplaced().size()).isEqualTo(150_000);
        }
    }
}
