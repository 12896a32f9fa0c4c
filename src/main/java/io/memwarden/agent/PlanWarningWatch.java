package io.memwarden.agent;

import io.memwarden.k8s.ClusterActions;
import io.memwarden.model.NodeFacts;
import io.memwarden.model.PodSpec;
import io.memwarden.policy.KubeletSettings;
import io.memwarden.policy.PlanWarnings;
import io.memwarden.policy.Planner;
import io.memwarden.policy.WardenConfig;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The agent's warnings before surprises ({@link PlanWarnings}, issue #18 item 2): re-evaluated when the node's pods
 * or its swap total change (each loop round asks; an unchanged round costs a comparison), each new warning logged
 * and sent as a Warning event on the Node (reason from its kind, e.g. {@code MemwardenSwapUnavailable}) once per
 * change: a warning still standing is not said again; one that went away and comes back is. The current warnings by
 * kind are the gauge {@code memwarden_warnings{kind}}.
 */
final class PlanWarningWatch {
    private final ClusterActions cluster;
    private final Consumer<String> log;
    private Object lastInput;
    private Set<String> standing = Set.of();
    private volatile List<PlanWarnings.Warning> current = List.of();

    PlanWarningWatch(ClusterActions cluster, Consumer<String> log) {
        this.cluster = cluster;
        this.log = log;
    }

    /**
     * Evaluates the warnings for these pods on this node with this swap total, when any of them changed since the
     * last call; says the new ones.
     *
     * @param swapTotal the node's swap total now (bytes), replacing the one the agent started with
     * @param events    whether to send Kubernetes events (config kubernetes.events)
     * @return the warnings said by this call (new since the last evaluation)
     */
    synchronized List<PlanWarnings.Warning> check(NodeFacts node, KubeletSettings kubelet, WardenConfig policy,
                                                  List<PodSpec> pods, long swapTotal, boolean events) {
        Object input = List.of(node, kubelet, policy, pods, swapTotal);
        if (input.equals(lastInput)) {
            return List.of();
        }
        lastInput = input;
        NodeFacts now = new NodeFacts(node.memoryCapacity(), Math.max(0, swapTotal), node.cgroupVersion(),
                node.swapControllerAvailable(), node.pageSize(), node.allocatableMemory(), node.kernelVersion(),
                node.architecture());
        Planner planner = new Planner(now, kubelet, policy);
        List<PlanWarnings.Warning> all = planner.warnings(pods.stream().map(planner::planPod).toList());
        List<PlanWarnings.Warning> fresh = new ArrayList<>();
        Set<String> messages = new HashSet<>();
        for (PlanWarnings.Warning w : all) {
            messages.add(w.message());
            if (!standing.contains(w.message())) {
                fresh.add(w);
            }
        }
        standing = messages;
        current = List.copyOf(all);
        for (PlanWarnings.Warning w : fresh) {
            log.accept("warning: " + w.message());
            if (events) {
                cluster.nodeEvent("Warning", w.kind().reason(), w.message());
            }
        }
        return fresh;
    }

    /** The standing warnings by kind, every kind present (0 when none). */
    Map<PlanWarnings.Kind, Integer> counts() {
        Map<PlanWarnings.Kind, Integer> m = new EnumMap<>(PlanWarnings.Kind.class);
        for (PlanWarnings.Kind k : PlanWarnings.Kind.values()) {
            m.put(k, 0);
        }
        for (PlanWarnings.Warning w : current) {
            m.merge(w.kind(), 1, Integer::sum);
        }
        return m;
    }
}
