package io.memwarden.api;

import io.memwarden.model.Pressure;
import io.memwarden.loops.NodeStatus;
import io.memwarden.loops.OomKillSeries;
import io.memwarden.policy.Plan;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Fixed node statuses for the api tests. */
final class Statuses {
    private Statuses() {}

    static final long MI = 1024 * 1024;

    static NodeStatus.Node node() {
        return new NodeStatus.Node(4096 * MI, 1024 * MI, 2048 * MI, 1536 * MI, 4242,
                new Pressure(12.5, 3.0, 1.0, 2_500_000, 2.5, 0.5, 0.1, 500_000));
    }

    static NodeStatus.Container v2Container() {
        Map<String, Long> events = new LinkedHashMap<>();
        events.put("low", 0L);
        events.put("high", 7L);
        events.put("max", 3L);
        events.put("oom", 1L);
        events.put("oom_kill", 1L);
        events.put("oom_group_kill", 0L);
        return new NodeStatus.Container("shop", "web-0", "app", false, "Burstable", "LimitedSwap", true, null,
                new NodeStatus.Memory(2, 100 * MI, 80 * MI, 5 * MI, 128 * MI, 32 * MI, -1, events), null,
                new Plan.ContainerPlan("app", false, "LimitedSwap", 999, Map.of("memory.max", "134217728"),
                        List.of("memory.max = limits.memory (kubelet)")), null);
    }

    static NodeStatus.Container v1Container() {
        Map<String, Long> events = new LinkedHashMap<>();
        events.put("failcnt", 12L);
        events.put("memsw_failcnt", 0L);
        events.put("oom_kill", 0L);
        events.put("under_oom", 0L);
        return new NodeStatus.Container("default", "batch", "worker", false, "BestEffort", "NoSwap", true, null,
                new NodeStatus.Memory(1, 50 * MI, 40 * MI, 0, -1, -1, -1, events), null, null, null);
    }

    static NodeStatus.Container goneContainer() {
        return new NodeStatus.Container("default", "batch", "init", true, "BestEffort", "NoSwap", false, 0, null,
                null, null, null);
    }

    static NodeStatus.LoopAction action(String loop, String action, String result) {
        return new NodeStatus.LoopAction(1000, loop, "shop", "web-0", "app", action, "test trigger", result);
    }

    static NodeStatus status(List<NodeStatus.LoopAction> actions) {
        return new NodeStatus(1_700_000_000_000L, node(), List.of(v2Container(), v1Container(), goneContainer()),
                actions, new NodeStatus.OomKills(1, 2, List.of(
                        new OomKillSeries.Series("cgroup", "", "", "", "", 1),
                        new OomKillSeries.Series("cgroup", "shop", "web-0", "app", "perl", 1),
                        new OomKillSeries.Series("system", "", "", "", "", 1))));
    }
}
