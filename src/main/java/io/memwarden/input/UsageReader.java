package io.memwarden.input;

import io.memwarden.model.Usage;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * Reads USAGE.yaml: {@code pods: [{namespace, name, workingSet, coldBytes, containers: [{name, workingSet,
 * coldBytes}]}]}. A pod needs {@code workingSet} or {@code containers} (its working set is then their sum);
 * {@code coldBytes} is optional everywhere and at most the working set it belongs to.
 */
public final class UsageReader {
    private UsageReader() {}

    /** namespace/name → working set bytes (what {@code plan --usage} ranks evictions by). */
    public static Map<String, Long> read(Path path) throws InputException {
        return workingSets(readUsage(path));
    }

    public static Map<String, Long> parse(String f, JsonNode n) throws InputException {
        return workingSets(parseUsage(f, n));
    }

    public static Usage readUsage(Path path) throws InputException {
        return parseUsage(path.toString(), YamlDocs.readOne(path));
    }

    private static Map<String, Long> workingSets(Usage u) {
        Map<String, Long> out = new LinkedHashMap<>();
        u.pods().forEach((k, p) -> out.put(k, p.workingSet()));
        return out;
    }

    public static Usage parseUsage(String f, JsonNode n) throws InputException {
        YamlDocs.onlyKnown(f, "", n, "pods");
        JsonNode pods = n.get("pods");
        if (pods == null || !pods.isArray()) {
            throw InputException.field(f, "pods", "expected a list of {namespace, name, workingSet}");
        }
        Map<String, Usage.PodUsage> out = new LinkedHashMap<>();
        int i = 0;
        for (JsonNode p : pods.values()) {
            String where = "pods[" + i++ + "]";
            YamlDocs.onlyKnown(f, where + ".", p, "namespace", "name", "workingSet", "coldBytes", "containers");
            String ns = YamlDocs.string(f, where + ".namespace", p.get("namespace"));
            String name = YamlDocs.string(f, where + ".name", p.get("name"));
            if (name == null || name.isEmpty()) {
                throw InputException.field(f, where + ".name", "is required");
            }
            Long ws = YamlDocs.quantity(f, where + ".workingSet", p.get("workingSet"));
            Long cold = YamlDocs.quantity(f, where + ".coldBytes", p.get("coldBytes"));
            Map<String, Usage.ContainerUsage> containers = new LinkedHashMap<>();
            JsonNode cs = p.get("containers");
            if (cs != null && !cs.isNull()) {
                if (!cs.isArray()) {
                    throw InputException.field(f, where + ".containers", "expected a list of {name, workingSet,"
                            + " coldBytes}");
                }
                int j = 0;
                long sumWs = 0;
                long sumCold = 0;
                boolean anyCold = false;
                for (JsonNode c : cs.values()) {
                    String cw = where + ".containers[" + j++ + "]";
                    YamlDocs.onlyKnown(f, cw + ".", c, "name", "workingSet", "coldBytes");
                    String cn = YamlDocs.string(f, cw + ".name", c.get("name"));
                    if (cn == null || cn.isEmpty()) {
                        throw InputException.field(f, cw + ".name", "is required");
                    }
                    Long cws = YamlDocs.quantity(f, cw + ".workingSet", c.get("workingSet"));
                    if (cws == null) {
                        throw InputException.field(f, cw + ".workingSet", "is required");
                    }
                    Long cc = YamlDocs.quantity(f, cw + ".coldBytes", c.get("coldBytes"));
                    if (cc != null && cc > cws) {
                        throw InputException.field(f, cw + ".coldBytes", cc + " exceeds the container's workingSet "
                                + cws);
                    }
                    if (containers.put(cn, new Usage.ContainerUsage(cws, cc)) != null) {
                        throw InputException.field(f, cw + ".name", "duplicate container \"" + cn + "\"");
                    }
                    sumWs = Math.addExact(sumWs, cws);
                    sumCold += cc == null ? 0 : cc;
                    anyCold |= cc != null;
                }
                if (ws == null) {
                    ws = sumWs;
                }
                if (cold == null && anyCold) {
                    cold = sumCold;
                }
            }
            if (ws == null) {
                throw InputException.field(f, where + ".workingSet", "is required (or containers with theirs)");
            }
            if (cold != null && cold > ws) {
                throw InputException.field(f, where + ".coldBytes", cold + " exceeds the pod's workingSet " + ws);
            }
            String key = (ns == null || ns.isEmpty() ? "default" : ns) + "/" + name;
            if (out.put(key, new Usage.PodUsage(ws, cold, containers)) != null) {
                throw InputException.field(f, where, "duplicate entry for pod " + key);
            }
        }
        return new Usage(out);
    }
}
