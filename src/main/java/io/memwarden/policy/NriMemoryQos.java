package io.memwarden.policy;

import io.memwarden.model.CgroupFiles;
import io.memwarden.model.PodSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The nri-plugins memory-qos plugin's annotation semantics, reproduced exactly (nri-protocol.md §6): pod annotations
 * {@code <key>.memory-qos.nri.io} (pod-wide) and {@code <key>.memory-qos.nri.io/<container>} (overrides the pod-wide
 * value for that key); {@code class} selects a configured class, any key listed in {@code unifiedannotations} is
 * copied verbatim into the container's unified cgroup v2 files and beats a class-derived value; anything else fails
 * the container with the plugin's error text.
 * <p>
 * One departure, on purpose: the plugin copies an annotation's value verbatim and leaves parsing to the kernel at the
 * runtime's write; memwarden reads it as the kernel would ({@link CgroupValues}) and plans the canonical value, so
 * that swap caps hold for every spelling ({@code "100G"}, {@code " 0x40000000"}) and cgroup v1 and v2 agree; a value
 * the kernel would refuse fails the container here, with the annotation named, instead of at the runtime's write.
 */
public final class NriMemoryQos {
    private NriMemoryQos() {}

    public static final String SUFFIX = ".memory-qos.nri.io";

    /** The unified files the plugin would add, with reasons. */
    public record Result(Map<String, String> unified, List<String> reasons) {}

    /** True when the pod has any memory-qos annotation. */
    public static boolean annotated(PodSpec pod) {
        return pod.annotations().keySet().stream().anyMatch(k -> k.endsWith(SUFFIX) || k.contains(SUFFIX + "/"));
    }

    /** The memory-qos class a container's annotations select, or null. */
    public static String classOf(PodSpec pod, String container) {
        String[] v = effective(pod, container).get("class");
        return v == null ? null : v[0];
    }

    /** The effective annotations (key prefix → value, with source key) for one container. */
    static Map<String, String[]> effective(PodSpec pod, String container) {
        Map<String, String[]> eff = new TreeMap<>();
        String ctrSuffix = SUFFIX + "/" + container;
        for (var e : new TreeMap<>(pod.annotations()).entrySet()) {
            String key = e.getKey();
            if (key.endsWith(ctrSuffix)) {
                eff.put(key.substring(0, key.length() - ctrSuffix.length()), new String[] {e.getValue(), key});
            }
        }
        for (var e : new TreeMap<>(pod.annotations()).entrySet()) {
            String key = e.getKey();
            if (key.endsWith(SUFFIX)) {
                eff.putIfAbsent(key.substring(0, key.length() - SUFFIX.length()), new String[] {e.getValue(), key});
            }
        }
        return eff;
    }

    /**
     * Applies the plugin's rules to one container.
     *
     * @param runtimeLimit the memory limit the runtime sees (the kubelet's memory_limit_in_bytes; 0 = absent)
     * @param pageSize     the node's page size (the kernel clamps byte values at PAGE_COUNTER_MAX pages)
     * @throws PolicyException with the plugin's error text, or naming the annotation and value the kernel would not
     *                         take (the plugin copies it verbatim and the runtime's write fails later)
     */
    public static Result apply(WardenConfig.MemoryQosConfig cfg, PodSpec pod, String container, long runtimeLimit,
                               long pageSize) throws PolicyException {
        Map<String, String[]> eff = effective(pod, container);
        Map<String, String> unified = new LinkedHashMap<>();
        List<String> why = new ArrayList<>();
        if (eff.isEmpty()) {
            return new Result(unified, why);
        }
        String ppName = pod.namespace() + "/" + pod.name() + ":" + container;
        // Listed unified keys first: they always beat class-derived values (the plugin's associate(..., false)).
        for (var e : eff.entrySet()) {
            String prefix = e.getKey();
            if (prefix.equals("class")) {
                continue;
            }
            if (cfg.unifiedAnnotations().contains(prefix)) {
                String raw = e.getValue()[0];
                String value;
                try {
                    value = CgroupValues.canonical(prefix, raw, pageSize);
                } catch (IllegalArgumentException ex) {
                    throw new PolicyException(container, "annotation " + e.getValue()[1] + ": " + ex.getMessage());
                }
                unified.put(prefix, value);
                why.add(prefix + "=" + value + ": nri memory-qos annotation " + e.getValue()[1]
                        + (value.equals(raw) ? "" : "=\"" + CgroupValues.printable(raw) + "\", read as the kernel reads it")
                        + " (listed in unifiedannotations) [nri-protocol §6]");
            } else {
                throw new PolicyException(container,
                        "CreateContainer " + ppName + ": invalid annotation: \"" + prefix + "\"");
            }
        }
        String[] cls = eff.get("class");
        if (cls != null) {
            String name = cls[0];
            WardenConfig.MemoryQosClass found = null;
            for (WardenConfig.MemoryQosClass c : cfg.classes()) {
                if (c.name().equals(name)) {
                    found = c;
                    break;
                }
            }
            if (found == null) {
                throw new PolicyException(container, "cannot apply memory QoS class \"" + name
                        + "\": class not found in plugin configuration");
            }
            if (found.swapLimitRatio() > 0) {
                if (runtimeLimit == 0) {
                    throw new PolicyException(container, "cannot apply memory QoS class \"" + name
                            + "\": missing container memory limit");
                }
                long high = highFor(runtimeLimit, found.swapLimitRatio());
                if (unified.putIfAbsent(CgroupFiles.MEMORY_HIGH, Long.toString(high)) == null) {
                    why.add("memory.high=" + high + ": nri memory-qos class " + name + " (" + cls[1]
                            + "), swaplimitratio " + found.swapLimitRatio() + ": float32(limit " + runtimeLimit
                            + " × (1 − " + found.swapLimitRatio() + ")) [nri-protocol §6]");
                }
                if (unified.putIfAbsent(CgroupFiles.MEMORY_SWAP_MAX, "max") == null) {
                    why.add("memory.swap.max=max: nri memory-qos class " + name + " (" + cls[1] + ") [nri-protocol §6]");
                }
            } else {
                why.add("nri memory-qos class " + name + " (" + cls[1] + ") has swaplimitratio "
                        + found.swapLimitRatio() + " <= 0: adds nothing [nri-protocol §6]");
            }
        }
        return new Result(unified, why);
    }

    /** {@code int64(float32(limit) * (1.0 - ratio))} in IEEE float32, as the plugin computes it. */
    public static long highFor(long limit, float ratio) {
        float f = (float) limit * (1.0f - ratio);
        return (long) f;
    }
}
