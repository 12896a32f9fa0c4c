package io.memwarden.nri;

import io.memwarden.input.InputException;
import io.memwarden.input.KubeletConfigReader;
import io.memwarden.input.PodManifestReader;
import io.memwarden.input.WardenConfigReader;
import io.memwarden.input.YamlDocs;
import io.memwarden.model.CgroupVersion;
import io.memwarden.model.NodeFacts;
import io.memwarden.model.PodSpec;
import io.memwarden.nri.api.Container;
import io.memwarden.nri.api.ContainerState;
import io.memwarden.nri.api.LinuxContainer;
import io.memwarden.nri.api.LinuxMemory;
import io.memwarden.nri.api.LinuxPodSandbox;
import io.memwarden.nri.api.LinuxResources;
import io.memwarden.nri.api.OptionalInt64;
import io.memwarden.nri.api.PodSandbox;
import io.memwarden.policy.KubeletSettings;
import io.memwarden.policy.WardenConfig;
import java.util.List;
import java.util.Map;

/** Shared test inputs: a swap-enabled cgroup v2 node with LimitedSwap, a memory-qos config, a manifest pod. */
final class NriFixtures {
    private NriFixtures() {}

    static final long GI = 1L << 30;
    static final long MI = 1L << 20;

    static final NodeFacts V2 = new NodeFacts(16 * GI, 4 * GI, CgroupVersion.V2, true, 4096, null, "6.12.0");
    static final NodeFacts V1 = new NodeFacts(16 * GI, 4 * GI, CgroupVersion.V1, true, 4096, null, "6.1.0");

    static final String KUBELET = """
            apiVersion: kubelet.config.k8s.io/v1beta1
            kind: KubeletConfiguration
            failSwapOn: false
            memorySwap: {swapBehavior: LimitedSwap}
            """;

    static final String CONFIG = """
            memoryQos:
              classes:
                - {name: bronze, swaplimitratio: 0.5}
              unifiedannotations: [memory.swap.max, memory.high]
            """;

    static final String PODS = """
            apiVersion: v1
            kind: Pod
            metadata: {name: web, namespace: shop, uid: uid-web}
            spec:
              containers:
                - name: app
                  resources:
                    requests: {memory: 1Gi, cpu: 100m}
                    limits: {memory: 2Gi}
            ---
            apiVersion: v1
            kind: Pod
            metadata:
              name: qos
              namespace: shop
              annotations: {class.memory-qos.nri.io: bronze}
            spec:
              containers:
                - name: app
                  resources:
                    requests: {memory: 512Mi}
                    limits: {memory: 1Gi}
            ---
            apiVersion: v1
            kind: Pod
            metadata:
              name: bad
              namespace: shop
              annotations: {class.memory-qos.nri.io/app: gold}
            spec:
              containers:
                - name: app
                  resources:
                    limits: {memory: 1Gi}
                - name: side
                  resources:
                    limits: {memory: 1Gi}
            """;

    static KubeletSettings kubelet() {
        try {
            return KubeletConfigReader.parse("kubelet.yaml", YamlDocs.readAll("kubelet.yaml", KUBELET).getFirst());
        } catch (InputException e) {
            throw new AssertionError(e);
        }
    }

    static WardenConfig config() {
        try {
            return WardenConfigReader.parse("config.yaml", YamlDocs.readAll("config.yaml", CONFIG).getFirst());
        } catch (InputException e) {
            throw new AssertionError(e);
        }
    }

    static List<PodSpec> pods() {
        try {
            PodManifestReader.Result r = PodManifestReader.parse("pods.yaml", YamlDocs.readAll("pods.yaml", PODS));
            if (!r.errors().isEmpty()) {
                throw new AssertionError(r.errors());
            }
            return r.pods();
        } catch (InputException e) {
            throw new AssertionError(e);
        }
    }

    static PodSpec pod(String name) {
        return pods().stream().filter(p -> p.name().equals(name)).findFirst().orElseThrow();
    }

    static PodSandbox sandbox(String id, String ns, String name, String uid, Map<String, String> annotations,
                              String cgroupParent) {
        return PodSandbox.newBuilder().setId(id).setNamespace(ns).setName(name).setUid(uid)
                .putAllAnnotations(annotations)
                .putLabels("io.kubernetes.pod.name", name)
                .setLinux(LinuxPodSandbox.newBuilder().setCgroupParent(cgroupParent)).build();
    }

    static Container container(String id, String podId, String name, Long limit, ContainerState state) {
        LinuxMemory.Builder mem = LinuxMemory.newBuilder();
        if (limit != null) {
            mem.setLimit(OptionalInt64.newBuilder().setValue(limit));
        }
        return Container.newBuilder().setId(id).setPodSandboxId(podId).setName(name).setState(state)
                .setLinux(LinuxContainer.newBuilder().setResources(LinuxResources.newBuilder().setMemory(mem))
                        .setCgroupsPath("kubepods-burstable-pod" + podId + ".slice:cri-containerd:" + id))
                .build();
    }
}
