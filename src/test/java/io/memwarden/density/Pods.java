package io.memwarden.density;

import io.memwarden.model.ClusterNode;
import io.memwarden.model.ContainerKind;
import io.memwarden.model.ContainerSpec;
import io.memwarden.model.KubeQuantity;
import io.memwarden.model.PodSpec;
import io.memwarden.model.Resources;
import io.memwarden.model.Scheduling;
import java.util.List;
import java.util.Map;

/** Small builders for the density tests. */
final class Pods {
    private Pods() {}

    static final long MI = 1L << 20;
    static final long GI = 1L << 30;

    static ContainerSpec c(String name, ContainerKind kind, Long memReq, Long memLim) {
        return new ContainerSpec(name, kind, new Resources(null, null, memReq, memLim));
    }

    static ContainerSpec cpu(String name, ContainerKind kind, String req, Long memReq) {
        return new ContainerSpec(name, kind, new Resources(req == null ? null : KubeQuantity.parse(req), null, memReq,
                null));
    }

    static PodSpec pod(String name, ContainerSpec... cs) {
        return new PodSpec("ns", name, null, Map.of(), null, null, null, null, null, List.of(cs));
    }

    static PodSpec pod(String name, Long overhead, Resources podLevel, ContainerSpec... cs) {
        return new PodSpec("ns", name, null, Map.of(), null, null, null, overhead, podLevel, List.of(cs));
    }

    static ClusterNode node(String name, long mem, long cpuMillis, long pods) {
        return new ClusterNode(name, Map.of(), List.of(), mem, cpuMillis, pods, mem, 0, "amd64", null);
    }

    static ClusterNode node(String name, long mem, Map<String, String> labels, List<Scheduling.Taint> taints) {
        return new ClusterNode(name, labels, taints, mem, 8000, 110, mem, 0, "amd64", null);
    }

    static Packing.PodToPlace place(String name, long mem, long cpu) {
        return place(name, mem, cpu, Scheduling.NONE);
    }

    static Packing.PodToPlace place(String name, long mem, long cpu, Scheduling s) {
        Request r = new Request(mem, cpu);
        return new Packing.PodToPlace("ns", name, s, r, r, null);
    }
}
