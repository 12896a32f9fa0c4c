package io.memwarden.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.memwarden.agent.AgentConfig;
import io.memwarden.agent.AgentConfigReader;
import io.memwarden.cli.Main;
import io.memwarden.input.InputException;
import io.memwarden.input.WardenConfigReader;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Validates the committed plain manifests (deploy/manifests/memwarden.yaml, the chart rendered with its defaults)
 * without Go or helm: a strict schema check of every document against fabric8's model, the agent's command line
 * against memwarden's own picocli model, the config against memwarden's config reader, and the host access, the
 * privileges and the RBAC rules documented in docs/deploy.md and docs/kubernetes.md.
 */
class DeployManifestsTest {

    static String text;
    static List<HasMetadata> objects;
    static DaemonSet ds;
    static PodSpec pod;
    static Container agent;

    @BeforeAll
    static void load() throws Exception {
        text = Files.readString(Manifests.RENDERED);
        objects = Manifests.documents(text).stream().map(Manifests::bind).toList();
        ds = Manifests.only(objects, DaemonSet.class);
        pod = ds.getSpec().getTemplate().getSpec();
        assertThat(pod.getContainers()).hasSize(1);
        agent = pod.getContainers().getFirst();
    }

    @Test
    void everyDocumentMatchesItsSchema() {
        assertThat(text).startsWith(Manifests.HEADER);
        assertThat(objects).extracting(HasMetadata::getKind)
                .containsExactly("NetworkPolicy", "ServiceAccount", "ConfigMap", "ClusterRole", "ClusterRoleBinding",
                        "DaemonSet");
        for (HasMetadata o : objects) {
            assertThat(o.getMetadata().getName()).as(o.getKind()).isEqualTo("memwarden");
            if (!(o instanceof ClusterRole || o instanceof ClusterRoleBinding)) {
                assertThat(o.getMetadata().getNamespace()).as(o.getKind()).isEqualTo("kube-system");
            }
        }
    }

    @Test
    void theNetworkPolicyLetsOnlyTheScrapersReachTheApiPortAndStatusStaysOnLoopback() {
        NetworkPolicy np = Manifests.only(objects, NetworkPolicy.class);
        assertThat(np.getSpec().getPodSelector().getMatchLabels())
                .isEqualTo(ds.getSpec().getSelector().getMatchLabels());
        assertThat(np.getSpec().getPolicyTypes()).as("egress (API server, NRI) is not restricted")
                .containsExactly("Ingress");
        assertThat(np.getSpec().getIngress()).singleElement().satisfies(rule -> {
            assertThat(rule.getPorts()).singleElement().satisfies(p -> {
                assertThat(p.getPort().getStrVal()).isEqualTo("http");
                assertThat(p.getProtocol()).isEqualTo("TCP");
            });
            assertThat(agent.getPorts()).extracting(p -> p.getName()).containsExactly("http");
            assertThat(rule.getFrom()).as("a rule without peers would admit everyone").singleElement()
                    .satisfies(peer -> {
                        assertThat(peer.getIpBlock()).isNull();
                        assertThat(peer.getNamespaceSelector().getMatchLabels()).containsExactly(
                                Map.entry("kubernetes.io/metadata.name", "monitoring"));
                    });
        });
        // the probes ask /healthz, which is served on the pod IP; /status (every pod's plan) is not by default
        assertThat(agent.getArgs()).doesNotContain("--status-from-network");
    }

    @Test
    void theSchemaCheckRejectsUnknownFieldsAndWrongVersions() {
        ObjectNode doc = (ObjectNode) Manifests.documents(text).stream()
                .filter(d -> d.path("kind").asString("").equals("DaemonSet")).findFirst().orElseThrow();
        ObjectNode typo = doc.deepCopy();
        ((ObjectNode) typo.path("spec").path("template").path("spec")).put("hostPid", true);
        assertThatThrownBy(() -> Manifests.bind(typo)).hasMessageContaining("hostPid")
                .hasMessageContaining("DaemonSet memwarden");
        ObjectNode misplaced = doc.deepCopy();
        ((ObjectNode) misplaced.path("spec").path("template").path("spec").path("containers").get(0))
                .putObject("hostPath").put("path", "/");
        assertThatThrownBy(() -> Manifests.bind(misplaced)).hasMessageContaining("hostPath");
        ObjectNode oldApi = doc.deepCopy().put("apiVersion", "extensions/v1beta1");
        assertThatThrownBy(() -> Manifests.bind(oldApi)).hasMessageContaining("expected \"apps/v1\"");
        ObjectNode crd = doc.deepCopy().put("kind", "Frobnicator");
        assertThatThrownBy(() -> Manifests.bind(crd)).hasMessageContaining("Frobnicator");
    }

    @Test
    void rbacIsExactlyTheDocumentedMinimum() {
        ClusterRole role = Manifests.only(objects, ClusterRole.class);
        List<String> rules = role.getRules().stream().map(DeployManifestsTest::rule).toList();
        assertThat(rules).containsExactlyInAnyOrder(
                "[\"\"] pods: get,list,watch",
                "[\"\"] pods/eviction: create",
                "[\"\"] events: create,patch",
                "[\"\"] nodes: get,patch",
                "[\"kubevirt.io\"] virtualmachineinstances: get",
                "[\"kubevirt.io\"] kubevirts: list");
        for (PolicyRule r : role.getRules()) {
            assertThat(r.getResourceNames()).isNullOrEmpty();
            assertThat(r.getNonResourceURLs()).isNullOrEmpty();
        }
        ClusterRoleBinding binding = Manifests.only(objects, ClusterRoleBinding.class);
        ServiceAccount sa = Manifests.only(objects, ServiceAccount.class);
        assertThat(binding.getRoleRef().getKind()).isEqualTo("ClusterRole");
        assertThat(binding.getRoleRef().getName()).isEqualTo(role.getMetadata().getName());
        assertThat(binding.getSubjects()).singleElement().satisfies(s -> {
            assertThat(s.getKind()).isEqualTo("ServiceAccount");
            assertThat(s.getName()).isEqualTo(sa.getMetadata().getName());
            assertThat(s.getNamespace()).isEqualTo(sa.getMetadata().getNamespace());
        });
        assertThat(pod.getServiceAccountName()).isEqualTo(sa.getMetadata().getName());
    }

    private static String rule(PolicyRule r) {
        return r.getApiGroups().stream().map(g -> "\"" + g + "\"").collect(Collectors.joining(",", "[", "]"))
                + " " + String.join(",", r.getResources()) + ": " + String.join(",", r.getVerbs());
    }

    @Test
    void hostAccessIsAsDocumented() {
        assertThat(pod.getHostPID()).as("hostPID (pidfd kills, per-process offload, the host's /proc)").isTrue();
        assertThat(pod.getHostNetwork()).as("pod network, not hostNetwork").isFalse();
        assertThat(pod.getHostIPC()).isNull();
        assertThat(agent.getSecurityContext().getPrivileged()).isTrue();
        assertThat(agent.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
        assertThat(pod.getPriorityClassName()).isEqualTo("system-node-critical");
        assertThat(pod.getTolerations()).as("tolerates every taint, its own swap taint too")
                .extracting(Toleration::getOperator, Toleration::getKey, Toleration::getEffect)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("Exists", null, null));

        Map<String, Volume> volumes = pod.getVolumes().stream()
                .collect(Collectors.toMap(Volume::getName, v -> v, (a, b) -> a, LinkedHashMap::new));
        // host path -> "rw" or "ro", as mounted into the container at the same path
        Map<String, String> host = new LinkedHashMap<>();
        for (VolumeMount m : agent.getVolumeMounts()) {
            Volume v = volumes.get(m.getName());
            assertThat(v).as("volume of mount %s", m.getName()).isNotNull();
            if (v.getHostPath() != null) {
                assertThat(m.getMountPath()).as("host path %s mounted at the same path", v.getHostPath().getPath())
                        .isEqualTo(v.getHostPath().getPath());
                host.put(v.getHostPath().getPath() + " " + v.getHostPath().getType(),
                        Boolean.TRUE.equals(m.getReadOnly()) ? "ro" : "rw");
            }
        }
        assertThat(host).containsExactlyInAnyOrderEntriesOf(Map.of(
                "/sys/fs/cgroup Directory", "rw",
                "/var/run/nri DirectoryOrCreate", "rw",
                "/dev/kmsg CharDevice", "ro",
                "/var/lib/kubelet/config.yaml File", "ro"));
        assertThat(volumes.values().stream().filter(v -> v.getHostPath() != null).count())
                .as("every hostPath volume is mounted").isEqualTo(host.size());
        Volume tmp = volumes.get("tmp");
        assertThat(tmp.getEmptyDir().getMedium()).isEqualTo("Memory");
    }

    @Test
    void resourcesProbesAndEnvironment() {
        assertThat(agent.getResources().getRequests()).containsEntry("memory", new Quantity("96Mi"));
        assertThat(agent.getResources().getLimits()).containsEntry("memory", new Quantity("192Mi"));
        assertThat(agent.getResources().getLimits()).doesNotContainKey("cpu");
        assertThat(agent.getPorts()).singleElement().satisfies(p -> {
            assertThat(p.getName()).isEqualTo("http");
            assertThat(p.getContainerPort()).isEqualTo(9767);
            assertThat(p.getHostPort()).isNull();
        });
        for (var probe : List.of(agent.getLivenessProbe(), agent.getReadinessProbe())) {
            assertThat(probe.getHttpGet().getPath()).isEqualTo("/healthz");
            assertThat(probe.getHttpGet().getPort().getStrVal()).isEqualTo("http");
        }
        assertThat(agent.getEnv()).anySatisfy(e -> {
            assertThat(e.getName()).isEqualTo("NODE_NAME");
            assertThat(e.getValueFrom().getFieldRef().getFieldPath()).isEqualTo("spec.nodeName");
        });
        assertThat(agent.getArgs()).startsWith("agent").contains("--listen=0.0.0.0:9767",
                "--nri-socket=/var/run/nri/nri.sock", "--kubelet-config=/var/lib/kubelet/config.yaml",
                "--config=/etc/memwarden/memwarden.yaml", "--node=auto", "--kube=auto");
        assertThat(agent.getCommand()).as("the image's entrypoint runs the JVM").isNullOrEmpty();
        // the NRI socket is inside the mounted NRI directory, the config inside the ConfigMap's mount
        assertThat(agent.getVolumeMounts()).anySatisfy(m -> assertThat(m.getMountPath()).isEqualTo("/var/run/nri"));
        assertThat(agent.getVolumeMounts()).anySatisfy(m -> {
            assertThat(m.getMountPath()).isEqualTo("/etc/memwarden");
            assertThat(m.getName()).isEqualTo("config");
        });
        ConfigMap cm = Manifests.only(objects, ConfigMap.class);
        assertThat(pod.getVolumes()).anySatisfy(v -> assertThat(v.getConfigMap().getName())
                .isEqualTo(cm.getMetadata().getName()));
        assertThat(cm.getData()).containsOnlyKeys("memwarden.yaml");
    }

    @Test
    void theAgentsArgumentsParseWithMemwardensCommandLine() {
        CommandLine cl = Main.commandLine();
        assertThat(cl.getSubcommands()).containsKey("agent");
        CommandLine.ParseResult r = cl.parseArgs(agent.getArgs().toArray(String[]::new));
        assertThat(r.hasSubcommand()).isTrue();
        CommandLine.ParseResult sub = r.subcommand();
        assertThat(sub.commandSpec().name()).isEqualTo("agent");
        assertThat(sub.unmatched()).as("arguments picocli did not match").isEmpty();
        assertThat(sub.matchedOption("--listen").originalStringValues()).containsExactly("0.0.0.0:9767");
        assertThat(sub.matchedOption("--nri-socket").originalStringValues()).containsExactly("/var/run/nri/nri.sock");
        assertThat(sub.matchedOption("--config").originalStringValues())
                .containsExactly("/etc/memwarden/memwarden.yaml");
    }

    @Test
    void theConfigParsesWithTheAgentsConfigReader() throws Exception {
        ConfigMap cm = Manifests.only(objects, ConfigMap.class);
        String yaml = cm.getData().get("memwarden.yaml");
        JsonNode config = Manifests.YAML.readTree(yaml);
        assertThat(config.isObject()).isTrue();
        AgentConfig c = AgentConfigReader.parse("ConfigMap memwarden.yaml",
                config);
        assertThat(config.path("agent").has("listen")).as("--listen on the command line decides").isFalse();
        assertThat(c.kubernetes().evictions()).isTrue();
        assertThat(c.loops().period()).isEqualTo(java.time.Duration.ofSeconds(1));
    }
}
