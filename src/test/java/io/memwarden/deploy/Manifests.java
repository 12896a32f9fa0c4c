package io.memwarden.deploy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.MappingIterator;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.cfg.MapperConfig;
import tools.jackson.databind.introspect.Annotated;
import tools.jackson.databind.introspect.JacksonAnnotationIntrospector;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * The schema check of the deployment's manifests: every document binds to the fabric8 model class of its kind, and
 * a field the model does not know fails. fabric8's classes collect unknown fields in {@code additionalProperties}
 * (a Jackson any-setter); this mapper switches any-setters off and fails on unknown properties, so a typo such as
 * {@code hostPid} or a field at the wrong level is an error naming the field and its path.
 */
final class Manifests {
    private Manifests() {}

    static final Path ROOT = Path.of(System.getProperty("memwarden.project.dir", "."));
    static final Path CHART = ROOT.resolve("deploy/helm/memwarden");
    static final Path RENDERED = ROOT.resolve("deploy/manifests/memwarden.yaml");

    /** The comment at the head of deploy/manifests/memwarden.yaml; the rest is the renderer's output. */
    static final String HEADER = """
            # memwarden: the Helm chart deploy/helm/memwarden rendered with its default values, as
            #   helm template memwarden deploy/helm/memwarden --namespace kube-system
            # Generated: edit the chart, then regenerate (docs/deploy.md, "Plain manifests").
            """;

    static final ObjectMapper YAML = YAMLMapper.builder().build();

    static final ObjectMapper STRICT = YAMLMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .annotationIntrospector(new JacksonAnnotationIntrospector() {
                @Override
                public Boolean hasAnySetter(MapperConfig<?> config, Annotated a) {
                    return Boolean.FALSE;
                }
            })
            .build();

    /** The kinds the chart renders that fabric8's model covers, by kind name. */
    static final Map<String, Class<? extends HasMetadata>> KINDS = Map.of(
            "NetworkPolicy", io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy.class,
            "ServiceAccount", ServiceAccount.class,
            "ConfigMap", ConfigMap.class,
            "ClusterRole", ClusterRole.class,
            "ClusterRoleBinding", ClusterRoleBinding.class,
            "Service", Service.class,
            "DaemonSet", DaemonSet.class);

    /** The YAML documents of a stream, empty documents skipped. */
    static List<JsonNode> documents(String yaml) {
        List<JsonNode> out = new ArrayList<>();
        try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(yaml)) {
            while (it.hasNextValue()) {
                JsonNode n = it.nextValue();
                if (n != null && !n.isNull() && !n.isMissingNode()) {
                    out.add(n);
                }
            }
        }
        return out;
    }

    /**
     * Binds a document to its kind's fabric8 class strictly; the apiVersion must be the class's group/version.
     * Throws {@link AssertionError} naming the document for an unknown kind, a wrong apiVersion or an unknown field.
     */
    static HasMetadata bind(JsonNode doc) {
        String kind = doc.path("kind").asString("");
        String where = kind + " " + doc.path("metadata").path("name").asString("?");
        Class<? extends HasMetadata> type = KINDS.get(kind);
        if (type == null) {
            throw new AssertionError(where + ": kind \"" + kind + "\" has no fabric8 model here (known: "
                    + KINDS.keySet() + ")");
        }
        String apiVersion = HasMetadata.getApiVersion(type);
        if (!apiVersion.equals(doc.path("apiVersion").asString(""))) {
            throw new AssertionError(where + ": apiVersion \"" + doc.path("apiVersion").asString("")
                    + "\", expected \"" + apiVersion + "\"");
        }
        try {
            return STRICT.treeToValue(doc, type);
        } catch (RuntimeException e) {
            throw new AssertionError(where + ": does not match the " + type.getSimpleName() + " schema: "
                    + e.getMessage(), e);
        }
    }

    static <T extends HasMetadata> T only(List<HasMetadata> objects, Class<T> type) {
        List<T> of = objects.stream().filter(type::isInstance).map(type::cast).toList();
        if (of.size() != 1) {
            throw new AssertionError("expected exactly one " + type.getSimpleName() + ", found " + of.size());
        }
        return of.getFirst();
    }
}
