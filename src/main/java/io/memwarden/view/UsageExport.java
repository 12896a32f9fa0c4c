package io.memwarden.view;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A running node's observed use as a USAGE.yaml for {@code memwarden density --usage} and {@code plan --usage}
 * (docs/density.md): per running container its {@code workingSet} — the kubelet's working set (usage − inactive file)
 * plus what is in swap, i.e. what the container holds wherever it is — and its {@code coldBytes}: what is in swap
 * plus, when memwarden's offload loop has estimated the container's hot working set, the resident part above that
 * estimate. Init containers and ended containers are left out. Pure formatting: the caller fetches {@code /status}.
 */
public final class UsageExport {
    private UsageExport() {}

    /** One container's exported numbers. */
    public record Entry(String namespace, String pod, String container, long workingSet, long coldBytes) {}

    /** The entries of {@code d}, in the status's order; {@code namespace} null for all. */
    public static List<Entry> entries(StatusDoc d, String namespace) {
        List<Entry> out = new ArrayList<>();
        for (StatusDoc.Container c : d.containers()) {
            if (c.init() || !c.running() || c.memory() == null
                    || (namespace != null && !namespace.equals(c.namespace()))) {
                continue;
            }
            long swap = Math.max(0, c.memory().swapBytes());
            long resident = Math.max(0, c.memory().workingSetBytes());
            long coldResident = 0;
            if (c.offload() != null && c.offload().workingSetEstimateBytes() != null) {
                coldResident = Math.max(0, resident - c.offload().workingSetEstimateBytes());
            }
            out.add(new Entry(c.namespace(), c.pod(), c.container(), resident + swap, swap + coldResident));
        }
        return out;
    }

    /** The USAGE.yaml text: a comment saying where and when it was taken, then {@code pods:}. */
    public static String yaml(StatusDoc d, String namespace, String server) {
        Map<String, List<Entry>> byPod = new LinkedHashMap<>();
        for (Entry e : entries(d, namespace)) {
            byPod.computeIfAbsent(e.namespace() + "/" + e.pod(), k -> new ArrayList<>()).add(e);
        }
        StringBuilder b = new StringBuilder();
        b.append("# Observed use from memwarden at ").append(server).append(", ")
                .append(Instant.ofEpochMilli(d.atMillis())).append(" (memwarden top --usage; docs/density.md):\n")
                .append("# workingSet = working set + swap, coldBytes = swap + resident above the offload loop's estimate\n");
        if (byPod.isEmpty()) {
            return b.append("pods: []\n").toString();
        }
        b.append("pods:\n");
        for (List<Entry> pod : byPod.values()) {
            Entry first = pod.getFirst();
            b.append("- namespace: ").append(quote(first.namespace())).append('\n')
                    .append("  name: ").append(quote(first.pod())).append('\n')
                    .append("  containers:\n");
            for (Entry e : pod) {
                b.append("  - {name: ").append(quote(e.container())).append(", workingSet: ").append(e.workingSet())
                        .append(", coldBytes: ").append(e.coldBytes()).append("}\n");
            }
        }
        return b.toString();
    }

    /** A YAML double-quoted scalar (names come from the API: quoted whatever they hold). */
    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char ch : s.toCharArray()) {
            switch (ch) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> {
                    if (ch < 0x20 || ch == 0x7f) {
                        b.append(String.format("\\x%02x", (int) ch));
                    } else {
                        b.append(ch);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}
