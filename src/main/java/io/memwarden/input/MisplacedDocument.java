package io.memwarden.input;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * The likely fix for a document given to the wrong option: a KubeletConfiguration, memwarden config, node facts,
 * usage file, KubeVirt CR or Node passed as {@code -f} (or Pods passed as {@code --nodes}) names the option it
 * belongs to. Recognised by {@code kind}, or, for memwarden's own files that have none, by their top-level fields.
 */
final class MisplacedDocument {
    private MisplacedDocument() {}

    /** Top-level fields of memwarden's config file (docs/configuration.md; the agent's sections included). */
    private static final Set<String> CONFIG_FIELDS = Set.of("memoryQos", "swap", "annotations", "agent", "loops",
            "kubernetes");
    /** Top-level fields of a node facts file. */
    private static final Set<String> NODE_FACT_FIELDS = Set.of("memoryCapacity", "swapCapacity", "cgroupVersion",
            "swapControllerAvailable", "allocatableMemory");

    /**
     * "; this is a KubeletConfiguration: pass it with --kubelet-config" and the like, for the option that reads
     * {@code doc} ({@code nodesOption}: how the command takes Nodes, e.g. "--node" or "--nodes"); "" when the
     * document is none of them.
     */
    static String hint(JsonNode doc, String nodesOption) {
        if (doc == null || !doc.isObject()) {
            return "";
        }
        String kind = doc.path("kind").asString("");
        return switch (kind) {
            case "KubeletConfiguration" -> "; this is a KubeletConfiguration: pass it with --kubelet-config";
            case "KubeVirt" -> "; this is the KubeVirt CR: pass it with --kubevirt-config";
            case "Node", "NodeList" -> "; this is a " + kind + ": pass "
                    + (nodesOption.equals("--node") ? "node facts with --node (memoryCapacity, swapCapacity, ...;"
                    + " docs/configuration.md), or Nodes to memwarden density --nodes"
                    : "it with " + nodesOption);
            case "" -> byFields(doc);
            default -> "";
        };
    }

    private static String byFields(JsonNode doc) {
        List<String> fields = new ArrayList<>();
        for (String name : doc.propertyNames()) {
            fields.add(name);
        }
        if (!fields.isEmpty() && fields.stream().allMatch(CONFIG_FIELDS::contains)) {
            return "; this looks like a memwarden config (" + String.join(", ", fields) + "): pass it with --config";
        }
        if (fields.stream().anyMatch(NODE_FACT_FIELDS::contains)) {
            return "; this looks like node facts (" + String.join(", ", fields.stream()
                    .filter(NODE_FACT_FIELDS::contains).toList()) + "): pass it with --node";
        }
        if (fields.equals(List.of("pods")) && doc.path("pods").isArray()) {
            return "; this looks like a usage file (pods: namespace, name, workingSet): pass it with --usage";
        }
        return "";
    }
}
