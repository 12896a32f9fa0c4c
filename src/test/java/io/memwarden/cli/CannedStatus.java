package io.memwarden.cli;

import io.memwarden.loops.NodeStatus;
import io.memwarden.model.Pressure;
import io.memwarden.input.KubeletConfigReader;
import io.memwarden.input.PodManifestReader;
import io.memwarden.input.WardenConfigReader;
import io.memwarden.input.NodeFactsReader;
import io.memwarden.policy.Plan;
import io.memwarden.policy.Planner;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A node status for the top/explain tests, built from the real plan of the bundled examples (examples/pods.yaml on
 * the 16 GiB cgroup v2 node of examples/node.yaml with examples/kubelet-config.yaml and examples/memwarden.yaml):
 * each container's live limits are its plan's values, except where a loop action below changed memory.high.
 */
final class CannedStatus {
    private CannedStatus() {}

    static final long MI = 1024L * 1024;
    static final long GI = 1024 * MI;
    /** 2026-09-21 14:13:20 UTC */
    static final long AT = 1_790_000_000_000L;

    static Plan plan() throws Exception {
        PodManifestReader.Result pods = PodManifestReader.read(Path.of("examples/pods.yaml"));
        Planner planner = new Planner(NodeFactsReader.read(Path.of("examples/node.yaml")),
                KubeletConfigReader.read(Path.of("examples/kubelet-config.yaml")),
                WardenConfigReader.read(Path.of("examples/memwarden.yaml")));
        Plan plan = planner.plan(pods.pods(), null, pods.errors());
        if (plan.hasErrors()) {
            throw new IllegalStateException("the bundled examples no longer plan cleanly: " + plan.errors());
        }
        return plan;
    }

    static List<NodeStatus.LoopAction> actions() {
        return List.of(
                new NodeStatus.LoopAction(AT - 120_000, "guard", "batch", "report-builder", "render",
                        "reclaim 104857600 bytes", "memory.available 480Mi below the soft threshold 500Mi",
                        "reclaimed 98304000 bytes"),
                new NodeStatus.LoopAction(AT - 90_000, "guard", "shop", "web", "app", "memory.high=943718400",
                        "node PSI some avg10 42.0% above 40%", "ok"),
                new NodeStatus.LoopAction(AT - 60_000, "guard", "dev", "scratch", null,
                        "evict: BestEffort pod dev/scratch ranks first", "memory.available 180Mi below the hard"
                        + " threshold 200Mi", "killed 1 process(es) with SIGKILL via pidfd (standalone: no Eviction"
                        + " API)"),
                new NodeStatus.LoopAction(AT - 30_000, "throttle-relief", "shop", "web", "log-shipper",
                        "memory.high=134217728", "memory.events high +25 in 2s", "ok"));
    }

    /** The status at {@link #AT} + {@code laterMillis}. */
    static NodeStatus status(Plan plan, long laterMillis) {
        List<NodeStatus.LoopAction> actions = actions();
        List<NodeStatus.Container> cs = new ArrayList<>();
        cs.add(container(plan, actions, "shop", "web", "app", true, null, 900 * MI, 850 * MI, 40 * MI, 943718400L, 12));
        cs.add(container(plan, actions, "shop", "web", "log-shipper", true, null, 60 * MI, 50 * MI, 2 * MI,
                134217728L, 31));
        cs.add(container(plan, actions, "shop", "postgres", "db", true, null, 3 * GI, 2560 * MI, 0, null, 0));
        cs.add(container(plan, actions, "kube-system", "coredns-7db6d8ff4d-x2x9q", "coredns", true, null, 40 * MI,
                30 * MI, 0, null, 0));
        cs.add(container(plan, actions, "batch", "report-builder", "fetch", false, 0, -1, 0, 0, null, 0));
        cs.add(container(plan, actions, "batch", "report-builder", "render", true, null, 1536 * MI, 1229 * MI,
                300 * MI, null, 3));
        cs.add(container(plan, actions, "batch", "report-builder", "compress", true, null, 200 * MI, 180 * MI,
                500 * MI, null, 0));
        cs.add(container(plan, actions, "dev", "scratch", "shell", false, 137, 10 * MI, 9 * MI, 0, null, 0));
        return new NodeStatus(AT + laterMillis, new NodeStatus.Node(16 * GI, 5 * GI, 4 * GI, 3 * GI + 205 * MI,
                123_456, new Pressure(42.1, 20.5, 5.25, 9_000_000, 7.3, 3.1, 0.8, 1_500_000)), cs, actions,
                new NodeStatus.OomKills(0, 1));
    }

    /**
     * @param usage -1: the cgroup is gone (memory null)
     * @param high  live memory.high when a loop changed it; null: as planned
     */
    private static NodeStatus.Container container(Plan plan, List<NodeStatus.LoopAction> actions, String ns,
                                                  String pod, String name, boolean running, Integer exitCode,
                                                  long usage, long workingSet, long swap, Long high, long highEvents) {
        Plan.PodPlan pp = plan.pods().stream().filter(p -> p.namespace().equals(ns) && p.name().equals(pod))
                .findFirst().orElseThrow();
        Plan.ContainerPlan cp = pp.containers().stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow();
        NodeStatus.Memory m = null;
        if (usage >= 0) {
            Map<String, Long> events = new LinkedHashMap<>();
            events.put("low", 0L);
            events.put("high", highEvents);
            events.put("max", 0L);
            events.put("oom", 0L);
            events.put("oom_kill", 0L);
            m = new NodeStatus.Memory(2, usage, workingSet, swap, bytes(cp.cgroup().get("memory.max")),
                    bytes(cp.cgroup().get("memory.swap.max")),
                    high != null ? high : bytes(cp.cgroup().get("memory.high")), events);
        }
        NodeStatus.LoopAction last = null;
        for (NodeStatus.LoopAction a : actions) {
            if (a.namespace().equals(ns) && a.pod().equals(pod) && (a.container() == null || a.container().equals(name))) {
                last = a;
            }
        }
        return new NodeStatus.Container(ns, pod, name, cp.init(), pp.qosClass(), cp.swapBehavior(), running, exitCode,
                m, last, cp, null);
    }

    private static long bytes(String v) {
        return v == null || v.equals("max") ? -1 : Long.parseLong(v);
    }
}
