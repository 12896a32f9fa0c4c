package io.memwarden.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * Renders the Helm chart with test/helm/render (Go text/template + sprig, as `helm template` renders; built from
 * Debian packages by test/nri/setup.sh and test/helm/build.sh) and checks the result: with the defaults it must be
 * deploy/manifests/memwarden.yaml byte for byte (regenerate with {@code -Dmemwarden.golden.update=true}), and
 * value overrides must render schema-valid objects that carry the overridden values.
 */
@Tag("interop")
class HelmChartInteropTest {

    static final boolean UPDATE = Boolean.getBoolean("memwarden.golden.update");

    static Path renderer;

    @TempDir
    Path tmp;

    record Run(int code, String out, String err) {}

    @BeforeAll
    static void build(@TempDir Path dir) throws Exception {
        Run setup = exec(dir, 900, List.of(Manifests.ROOT.resolve("test/nri/setup.sh").toString()));
        assertThat(setup.code()).as("test/nri/setup.sh failed:\n%s", setup.err()).isZero();
        Run build = exec(dir, 600, List.of(Manifests.ROOT.resolve("test/helm/build.sh").toString()));
        assertThat(build.code()).as("test/helm/build.sh failed:\n%s", build.err()).isZero();
        renderer = Path.of(build.out().strip().lines().reduce((a, b) -> b).orElseThrow()).resolve("helm-render");
        assertThat(renderer).isExecutable();
    }

    static Run exec(Path dir, int timeoutSeconds, List<String> cmd) throws Exception {
        Path out = Files.createTempFile(dir, "out", ".txt");
        Path err = Files.createTempFile(dir, "err", ".txt");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        try {
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                throw new AssertionError("timed out after " + timeoutSeconds + " s: " + String.join(" ", cmd));
            }
            return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            p.destroyForcibly();
        }
    }

    /** helm template memwarden CHART --namespace kube-system [-f VALUES...] */
    Run render(String... valuesYaml) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(renderer.toString(), "--name", "memwarden", "--namespace",
                "kube-system"));
        int i = 0;
        for (String v : valuesYaml) {
            Path f = tmp.resolve("values-" + i++ + ".yaml");
            Files.writeString(f, v);
            cmd.addAll(List.of("-f", f.toString()));
        }
        cmd.add(Manifests.CHART.toString());
        return exec(tmp, 120, cmd);
    }

    List<HasMetadata> renderValid(String... valuesYaml) throws Exception {
        Run r = render(valuesYaml);
        assertThat(r.code()).as("render failed:\n%s", r.err()).isZero();
        List<HasMetadata> out = new ArrayList<>();
        for (JsonNode doc : Manifests.documents(r.out())) {
            if (!doc.path("kind").asString("").equals("ServiceMonitor")) {
                out.add(Manifests.bind(doc));
            }
        }
        return out;
    }

    @Test
    void defaultsRenderTheCommittedManifests() throws Exception {
        Run r = render();
        assertThat(r.code()).as("render failed:\n%s", r.err()).isZero();
        String expected = Manifests.HEADER + r.out();
        if (UPDATE) {
            Files.writeString(Manifests.RENDERED, expected);
        }
        assertThat(Files.readString(Manifests.RENDERED))
                .as("%s is the chart rendered with its defaults (regenerate with -Dmemwarden.golden.update=true)",
                        Manifests.RENDERED)
                .isEqualTo(expected);
    }

    @Test
    void serviceMonitorAndListenPort() throws Exception {
        String values = """
                listen:
                  port: 9100
                serviceMonitor:
                  enabled: true
                  labels: {release: prometheus}
                  interval: 15s
                """;
        List<HasMetadata> objects = renderValid(values);
        DaemonSet ds = Manifests.only(objects, DaemonSet.class);
        Container c = ds.getSpec().getTemplate().getSpec().getContainers().getFirst();
        assertThat(c.getArgs()).contains("--listen=0.0.0.0:9100");
        assertThat(c.getPorts()).singleElement().satisfies(p -> {
            assertThat(p.getContainerPort()).isEqualTo(9100);
            assertThat(p.getName()).isEqualTo("http");
        });
        Service svc = Manifests.only(objects, Service.class);
        assertThat(svc.getSpec().getClusterIP()).isEqualTo("None");
        assertThat(svc.getSpec().getSelector()).isEqualTo(ds.getSpec().getSelector().getMatchLabels());
        assertThat(svc.getSpec().getPorts()).singleElement().satisfies(p -> {
            assertThat(p.getPort()).isEqualTo(9100);
            assertThat(p.getTargetPort().getStrVal()).isEqualTo("http");
            assertThat(p.getName()).isEqualTo("http");
        });

        JsonNode sm = Manifests.documents(render(values).out()).stream()
                .filter(d -> d.path("kind").asString("").equals("ServiceMonitor")).findFirst().orElseThrow();
        assertThat(sm.path("apiVersion").asString()).isEqualTo("monitoring.coreos.com/v1");
        assertThat(sm.path("metadata").path("namespace").asString()).isEqualTo("kube-system");
        assertThat(sm.path("metadata").path("labels").path("release").asString()).isEqualTo("prometheus");
        assertThat(Manifests.YAML.treeToValue(sm.path("spec").path("selector").path("matchLabels"),
                java.util.Map.class)).isEqualTo(svc.getMetadata().getLabels().entrySet().stream()
                        .filter(e -> svc.getSpec().getSelector().containsKey(e.getKey()))
                        .collect(java.util.stream.Collectors.toMap(e -> e.getKey(), e -> e.getValue())));
        assertThat(sm.path("spec").path("namespaceSelector").path("matchNames").get(0).asString())
                .isEqualTo("kube-system");
        JsonNode ep = sm.path("spec").path("endpoints").get(0);
        assertThat(ep.path("port").asString()).isEqualTo("http");
        assertThat(ep.path("path").asString()).isEqualTo("/metrics");
        assertThat(ep.path("interval").asString()).isEqualTo("15s");
        // the ServiceMonitor's spec holds only fields of the prometheus-operator's ServiceMonitor v1 schema
        assertThat(sm.path("spec").propertyNames()).containsExactlyInAnyOrder("selector", "namespaceSelector",
                "endpoints");
        assertThat(ep.propertyNames()).isSubsetOf("port", "path", "interval", "scrapeTimeout", "relabelings");
        // the release is the ServiceMonitor's last document, after the kinds helm installs first
        List<String> kinds = Manifests.documents(render(values).out()).stream()
                .map(d -> d.path("kind").asString()).toList();
        assertThat(kinds).containsExactly("NetworkPolicy", "ServiceAccount", "ConfigMap", "ClusterRole",
                "ClusterRoleBinding", "Service", "DaemonSet", "ServiceMonitor");
    }

    @Test
    void networkPolicyScrapersStatusFromNetworkAndNoPolicy() throws Exception {
        List<HasMetadata> objects = renderValid("""
                listen:
                  statusFromNetwork: true
                networkPolicy:
                  metricsFrom:
                    - namespaceSelector: {matchLabels: {team: observability}}
                      podSelector: {matchLabels: {app.kubernetes.io/name: prometheus}}
                """);
        NetworkPolicy np = Manifests.only(objects, NetworkPolicy.class);
        NetworkPolicyPeer peer = np.getSpec().getIngress().getFirst().getFrom().getFirst();
        assertThat(peer.getNamespaceSelector().getMatchLabels()).containsExactly(java.util.Map.entry("team",
                "observability"));
        assertThat(peer.getPodSelector().getMatchLabels()).containsExactly(java.util.Map.entry(
                "app.kubernetes.io/name", "prometheus"));
        assertThat(Manifests.only(objects, DaemonSet.class).getSpec().getTemplate().getSpec().getContainers()
                .getFirst().getArgs()).contains("--status-from-network");

        NetworkPolicy nobody = Manifests.only(renderValid("networkPolicy: {metricsFrom: []}"), NetworkPolicy.class);
        assertThat(nobody.getSpec().getPolicyTypes()).containsExactly("Ingress");
        assertThat(nobody.getSpec().getIngress()).as("no ingress rule: every client refused").isEmpty();

        assertThat(renderValid("networkPolicy: {enabled: false}")).noneMatch(o -> o instanceof NetworkPolicy);
    }

    @Test
    void protectListAndNodeSelector() throws Exception {
        List<HasMetadata> objects = renderValid("""
                config:
                  agent:
                    protect: ["kube-system/coredns-*", "monitoring/prometheus-*"]
                  swap:
                    maxPerContainer: 25%
                nodeSelector:
                  memwarden.io/enabled: "true"
                """);
        ConfigMap cm = Manifests.only(objects, ConfigMap.class);
        JsonNode config = Manifests.YAML.readTree(cm.getData().get("memwarden.yaml"));
        assertThat(config.path("agent").path("protect").values()).extracting(JsonNode::asString)
                .containsExactly("kube-system/coredns-*", "monitoring/prometheus-*");
        assertThat(config.path("agent").path("failSwapOn").asString()).as("a default kept next to the override")
                .isEqualTo("kubelet");
        assertThat(config.path("swap").path("maxPerContainer").asString()).isEqualTo("25%");
        PodSpec pod = Manifests.only(objects, DaemonSet.class).getSpec().getTemplate().getSpec();
        assertThat(pod.getNodeSelector()).containsExactly(java.util.Map.entry("memwarden.io/enabled", "true"));
        assertThat(pod.getTolerations()).hasSize(1);
    }

    @Test
    void standaloneWithoutKubeletConfigAndDryRun() throws Exception {
        List<HasMetadata> objects = renderValid("""
                nri: {enabled: false}
                kubeletConfig: ""
                dryRun: true
                extraArgs: ["--node-name=worker-1"]
                """);
        PodSpec pod = Manifests.only(objects, DaemonSet.class).getSpec().getTemplate().getSpec();
        Container c = pod.getContainers().getFirst();
        assertThat(c.getArgs()).contains("--standalone", "--dry-run", "--node-name=worker-1")
                .noneMatch(a -> a.startsWith("--nri-socket") || a.startsWith("--kubelet-config"));
        assertThat(pod.getVolumes()).noneMatch(v -> v.getHostPath() != null
                && (v.getHostPath().getPath().equals("/var/run/nri")
                        || v.getHostPath().getPath().endsWith("config.yaml")));
        assertThat(c.getVolumeMounts()).extracting(m -> m.getName()).doesNotContain("nri", "kubelet-config");
    }

    @Test
    void anExistingServiceAccountMustBeNamed() throws Exception {
        Run r = render("serviceAccount: {create: false}\n");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("serviceAccount.name is required when serviceAccount.create is false");
        List<HasMetadata> objects = renderValid("serviceAccount: {create: false, name: node-agents}\n");
        assertThat(objects).noneMatch(o -> o.getKind().equals("ServiceAccount"));
        assertThat(Manifests.only(objects, DaemonSet.class).getSpec().getTemplate().getSpec()
                .getServiceAccountName()).isEqualTo("node-agents");
    }

    @Test
    void notesRender() throws Exception {
        Run r = exec(tmp, 60, List.of(renderer.toString(), "--name", "memwarden", "--namespace", "kube-system",
                "--notes", Manifests.CHART.toString()));
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("kube-system/memwarden", "NRI socket /var/run/nri/nri.sock",
                "curl -s http://127.0.0.1:9767/metrics").doesNotContain("<no value>");
    }
}
