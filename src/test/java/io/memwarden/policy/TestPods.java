package io.memwarden.policy;

import io.memwarden.model.CgroupVersion;
import io.memwarden.model.ContainerKind;
import io.memwarden.model.ContainerSpec;
import io.memwarden.model.KubeQuantity;
import io.memwarden.model.NodeFacts;
import io.memwarden.model.PodSpec;
import io.memwarden.model.Resources;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Test fixtures: a small builder for pod views and nodes. Quantities are Kubernetes strings ("512Mi"). */
final class TestPods {
    private TestPods() {}

    static final long GI = 1L << 30;
    static final long MI = 1L << 20;

    static NodeFacts v2Node(long mem, long swap) {
        return new NodeFacts(mem, swap, CgroupVersion.V2, true, 4096, null, "6.12.0");
    }

    static NodeFacts v1Node(long mem, long swap) {
        return new NodeFacts(mem, swap, CgroupVersion.V1, true, 4096, null, "6.18.0");
    }

    static Resources res(String cpuReq, String cpuLim, String memReq, String memLim) {
        return new Resources(q(cpuReq), q(cpuLim), bytes(memReq), bytes(memLim));
    }

    static Resources mem(String memReq, String memLim) {
        return res(null, null, memReq, memLim);
    }

    static KubeQuantity q(String s) {
        return s == null ? null : KubeQuantity.parse(s);
    }

    static Long bytes(String s) {
        return s == null ? null : KubeQuantity.parse(s).bytes();
    }

    static Builder pod(String name) {
        return new Builder(name);
    }

    static final class Builder {
        private final String name;
        private String namespace = "default";
        private final Map<String, String> annotations = new LinkedHashMap<>();
        private Integer priority;
        private String priorityClassName;
        private Long overhead;
        private Resources podResources = Resources.NONE;
        private final List<ContainerSpec> containers = new ArrayList<>();

        Builder(String name) {
            this.name = name;
        }

        Builder ns(String ns) {
            this.namespace = ns;
            return this;
        }

        Builder annotation(String k, String v) {
            annotations.put(k, v);
            return this;
        }

        Builder priority(int p) {
            this.priority = p;
            return this;
        }

        Builder priorityClass(String c) {
            this.priorityClassName = c;
            return this;
        }

        Builder overhead(String q) {
            this.overhead = bytes(q);
            return this;
        }

        Builder podResources(Resources r) {
            this.podResources = r;
            return this;
        }

        Builder container(String n, Resources r) {
            containers.add(new ContainerSpec(n, ContainerKind.REGULAR, r));
            return this;
        }

        Builder init(String n, Resources r) {
            containers.add(new ContainerSpec(n, ContainerKind.INIT, r));
            return this;
        }

        Builder sidecar(String n, Resources r) {
            containers.add(new ContainerSpec(n, ContainerKind.SIDECAR, r));
            return this;
        }

        PodSpec build() {
            return new PodSpec(namespace, name, "uid-" + name, annotations, priority, priorityClassName, null,
                    overhead, podResources, containers);
        }
    }
}
