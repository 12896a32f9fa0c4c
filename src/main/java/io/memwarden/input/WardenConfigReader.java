package io.memwarden.input;

import io.memwarden.model.KubeQuantity;
import io.memwarden.model.SwapBehavior;
import io.memwarden.model.CgroupFiles;
import io.memwarden.policy.CgroupValues;
import io.memwarden.policy.WardenAnnotations;
import io.memwarden.policy.WardenConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * Reads memwarden's own config file (docs/configuration.md). Top-level, {@code swap} and {@code annotations} keys
 * are strict (an unknown key is an error: it is most likely a typo). The {@code memoryQos} section is the nri
 * memory-qos plugin's config format and is read with that plugin's rules: keys case-insensitive, unknown keys
 * ignored, {@code swaplimitratio} a JSON number read as float32.
 */
public final class WardenConfigReader {
    private WardenConfigReader() {}

    public static WardenConfig read(Path path) throws InputException {
        return parse(path.toString(), YamlDocs.readOne(path));
    }

    public static WardenConfig parse(String f, JsonNode n) throws InputException {
        // agent, loops, kubernetes: the node agent's sections, read by io.memwarden.agent.AgentConfigReader
        YamlDocs.onlyKnown(f, "", n, "memoryQos", "swap", "annotations", "agent", "loops", "kubernetes");
        WardenConfig.MemoryQosConfig mq = null;
        JsonNode mqn = n.get("memoryQos");
        if (mqn != null && !mqn.isNull()) {
            mq = memoryQos(f, mqn);
        }
        WardenConfig.SwapConfig swap = WardenConfig.SwapConfig.DEFAULTS;
        JsonNode sw = n.get("swap");
        YamlDocs.requireObject(f, "swap", sw);
        if (sw != null && sw.isObject()) {
            YamlDocs.onlyKnown(f, "swap.", sw, "behavior", "maxPerContainer", "maxPerPod", "nodeCap",
                    "systemReserved");
            SwapBehavior b = null;
            String bs = YamlDocs.string(f, "swap.behavior", sw.get("behavior"));
            if (bs != null) {
                try {
                    b = SwapBehavior.parse(bs);
                } catch (IllegalArgumentException e) {
                    throw InputException.field(f, "swap.behavior", e.getMessage());
                }
            }
            swap = new WardenConfig.SwapConfig(b, cap(f, "swap.maxPerContainer", sw.get("maxPerContainer")),
                    cap(f, "swap.maxPerPod", sw.get("maxPerPod")), cap(f, "swap.nodeCap", sw.get("nodeCap")),
                    reserved(f, sw.get("systemReserved")));
        }
        WardenConfig.AnnotationPolicy ap = WardenConfig.AnnotationPolicy.DEFAULTS;
        JsonNode an = n.get("annotations");
        YamlDocs.requireObject(f, "annotations", an);
        if (an != null && an.isObject()) {
            YamlDocs.onlyKnown(f, "annotations.", an, "allowed", "allowedSwapBehaviors", "namespaces");
            List<String> allowed = YamlDocs.strings(f, "annotations.allowed", an.get("allowed"));
            for (String a : allowed) {
                if (!WardenAnnotations.KEYS.contains(a)) {
                    throw InputException.field(f, "annotations.allowed", "unknown annotation key \"" + a
                            + "\" (known: swap-behavior, swap-max, pod-swap-max)");
                }
            }
            Set<SwapBehavior> behaviors = new LinkedHashSet<>();
            for (String s : YamlDocs.strings(f, "annotations.allowedSwapBehaviors", an.get("allowedSwapBehaviors"))) {
                try {
                    behaviors.add(SwapBehavior.parse(s));
                } catch (IllegalArgumentException e) {
                    throw InputException.field(f, "annotations.allowedSwapBehaviors", e.getMessage());
                }
            }
            ap = new WardenConfig.AnnotationPolicy(new LinkedHashSet<>(allowed), behaviors,
                    new LinkedHashSet<>(YamlDocs.strings(f, "annotations.namespaces", an.get("namespaces"))));
        }
        return new WardenConfig(mq, swap, ap);
    }

    /** {@code swap.systemReserved}: a quantity ("512Mi"), not a percentage. */
    private static Long reserved(String f, JsonNode n) throws InputException {
        String field = "swap.systemReserved";
        WardenConfig.SwapCap c = cap(f, field, n);
        if (c == null) {
            return null;
        }
        if (c.bytes() == null) {
            throw InputException.field(f, field, "expected a quantity (512Mi), got the percentage \"" + c.text() + "\"");
        }
        return c.bytes();
    }

    /** A cap: a quantity ("2Gi") or a percentage of swap capacity ("25%"). */
    private static WardenConfig.SwapCap cap(String f, String field, JsonNode n) throws InputException {
        if (n == null || n.isNull()) {
            return null;
        }
        if (!(n.isString() || n.isNumber())) {
            throw InputException.field(f, field, "expected a quantity (2Gi) or a percentage of swap (25%), got " + n);
        }
        String t = n.asString().strip();
        if (t.endsWith("%")) {
            try {
                double p = Double.parseDouble(t.substring(0, t.length() - 1));
                if (!(p >= 0 && p <= 100)) {
                    throw new NumberFormatException();
                }
                return new WardenConfig.SwapCap(null, p, t);
            } catch (NumberFormatException e) {
                throw InputException.field(f, field, "\"" + t + "\" is not a percentage in [0%, 100%]");
            }
        }
        try {
            KubeQuantity q = KubeQuantity.parse(t);
            if (q.signum() < 0) {
                throw InputException.field(f, field, "\"" + t + "\" must not be negative");
            }
            return new WardenConfig.SwapCap(q.bytes(), null, t);
        } catch (IllegalArgumentException e) {
            throw InputException.field(f, field, e.getMessage());
        }
    }

    /** The nri memory-qos config, with Go encoding/json's case-insensitive field matching. */
    static WardenConfig.MemoryQosConfig memoryQos(String f, JsonNode n) throws InputException {
        if (!n.isObject()) {
            throw InputException.field(f, "memoryQos", "expected a mapping (classes, unifiedannotations), got " + n);
        }
        JsonNode classes = field(n, "Classes");
        JsonNode unified = field(n, "UnifiedAnnotations");
        List<WardenConfig.MemoryQosClass> out = new ArrayList<>();
        if (classes != null && !classes.isNull()) {
            if (!classes.isArray()) {
                throw InputException.field(f, "memoryQos.classes", "expected a list, got " + classes);
            }
            int i = 0;
            for (JsonNode c : classes.values()) {
                String where = "memoryQos.classes[" + i++ + "]";
                if (!c.isObject()) {
                    throw InputException.field(f, where, "expected a mapping with name and swaplimitratio, got " + c);
                }
                JsonNode name = field(c, "Name");
                JsonNode ratio = field(c, "SwapLimitRatio");
                if (name != null && !name.isNull() && !name.isString()) {
                    throw InputException.field(f, where + ".name", "expected a string, got " + name);
                }
                float r = 0;
                if (ratio != null && !ratio.isNull()) {
                    if (!ratio.isNumber()) {
                        throw InputException.field(f, where + ".swaplimitratio", "expected a number, got " + ratio
                                + " (the memory-qos plugin rejects strings here too)");
                    }
                    r = (float) ratio.doubleValue();
                }
                String nm = name == null || name.isNull() ? "" : name.stringValue();
                out.add(new WardenConfig.MemoryQosClass(nm, r));
            }
        }
        List<String> ua = new ArrayList<>();
        if (unified != null && !unified.isNull()) {
            ua = YamlDocs.strings(f, "memoryQos.unifiedannotations", unified);
            for (int i = 0; i < ua.size(); i++) {
                String file = ua.get(i);
                if (!CgroupFiles.V2_SETTINGS.contains(file)) {
                    throw InputException.field(f, "memoryQos.unifiedannotations[" + i + "]", "\""
                            + CgroupValues.printable(file) + "\" is not a memory controller setting of a container's"
                            + " cgroup; allowed: " + new java.util.TreeSet<>(CgroupFiles.V2_SETTINGS)
                            + " (a pod annotation may only set one of these files, never a path or another file)");
                }
            }
        }
        return new WardenConfig.MemoryQosConfig(out, ua);
    }

    /** encoding/json field lookup: exact name first, then case-insensitive. */
    private static JsonNode field(JsonNode obj, String goName) {
        JsonNode exact = obj.get(goName);
        if (exact != null) {
            return exact;
        }
        for (Map.Entry<String, JsonNode> e : obj.properties()) {
            if (e.getKey().equalsIgnoreCase(goName)) {
                return e.getValue();
            }
        }
        return null;
    }
}
