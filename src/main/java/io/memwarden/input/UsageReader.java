package io.memwarden.input;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/** Reads USAGE.yaml: {@code pods: [{namespace, name, workingSet}]} → namespace/name → working set bytes. */
public final class UsageReader {
    private UsageReader() {}

    public static Map<String, Long> read(Path path) throws InputException {
        return parse(path.toString(), YamlDocs.readOne(path));
    }

    public static Map<String, Long> parse(String f, JsonNode n) throws InputException {
        YamlDocs.onlyKnown(f, "", n, "pods");
        JsonNode pods = n.get("pods");
        if (pods == null || !pods.isArray()) {
            throw InputException.field(f, "pods", "expected a list of {namespace, name, workingSet}");
        }
        Map<String, Long> out = new LinkedHashMap<>();
        int i = 0;
        for (JsonNode p : pods.values()) {
            String where = "pods[" + i++ + "]";
            YamlDocs.onlyKnown(f, where + ".", p, "namespace", "name", "workingSet");
            String ns = YamlDocs.string(f, where + ".namespace", p.get("namespace"));
            String name = YamlDocs.string(f, where + ".name", p.get("name"));
            if (name == null || name.isEmpty()) {
                throw InputException.field(f, where + ".name", "is required");
            }
            Long ws = YamlDocs.quantity(f, where + ".workingSet", p.get("workingSet"));
            if (ws == null) {
                throw InputException.field(f, where + ".workingSet", "is required");
            }
            String key = (ns == null || ns.isEmpty() ? "default" : ns) + "/" + name;
            if (out.put(key, ws) != null) {
                throw InputException.field(f, where, "duplicate entry for pod " + key);
            }
        }
        return out;
    }
}
