package io.memwarden.input;

import io.fabric8.kubernetes.api.model.NodeSelectorRequirement;
import io.fabric8.kubernetes.api.model.NodeSelectorTerm;
import io.fabric8.kubernetes.api.model.Pod;
import io.memwarden.model.CgroupVersion;
import io.memwarden.model.ClusterNode;
import io.memwarden.model.KubeQuantity;
import io.memwarden.model.NodeFacts;
import io.memwarden.model.Scheduling;
import io.memwarden.model.VmiSpec;
import io.memwarden.model.WorkloadSpec;
import io.memwarden.policy.Planner;
import io.memwarden.policy.WardenConfig;
import io.memwarden.policy.KubeletSettings;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Reads a cluster for {@code memwarden density}: nodes as {@code kubectl get nodes -o yaml} prints them (v1 Node, v1
 * List / NodeList, multi-document YAML), and workloads (v1 Pod and Lists of them as {@code kubectl get pods -A -o
 * yaml} prints them, apps/v1 Deployment, StatefulSet, ReplicaSet, DaemonSet, batch/v1 Job, kubevirt.io/v1
 * VirtualMachineInstance and VirtualMachine). A bad object is that object's error (named by file, document, object
 * and field); the others are still read.
 */
public final class ClusterReader {
    private ClusterReader() {}

    /** The kubelet's default {@code maxPods}: a node that reports no pod capacity gets it. */
    static final long DEFAULT_MAX_PODS = 110;

    public record Nodes(List<ClusterNode> nodes, List<String> errors) {}

    public record Workloads(List<WorkloadSpec> workloads, List<VmiSpec> vms, List<String> errors) {}

    private static final Set<String> WORKLOAD_KINDS = Set.of("Pod", "Deployment", "StatefulSet", "ReplicaSet",
            "DaemonSet", "Job", "VirtualMachineInstance", "VirtualMachine");

    public static Nodes readNodes(Path path, KubeletSettings kubelet) throws InputException {
        return parseNodes(path.toString(), YamlDocs.readAll(path), kubelet);
    }

    public static Nodes parseNodes(String f, List<JsonNode> docs, KubeletSettings kubelet) throws InputException {
        List<ClusterNode> out = new ArrayList<>();
        List<String> errors = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (Item item : items(f, docs, Set.of("Node"), "Node")) {
            try {
                ClusterNode n = node(item.where(), item.doc(), kubelet);
                if (!seen.add(n.name())) {
                    throw new InputException(item.where() + ": duplicate node " + n.name());
                }
                out.add(n);
            } catch (InputException e) {
                errors.add(e.getMessage());
            }
        }
        return new Nodes(out, errors);
    }

    public static Workloads readWorkloads(Path path) throws InputException {
        return parseWorkloads(path.toString(), YamlDocs.readAll(path));
    }

    public static Workloads parseWorkloads(String f, List<JsonNode> docs) throws InputException {
        List<WorkloadSpec> out = new ArrayList<>();
        List<VmiSpec> vms = new ArrayList<>();
        List<String> errors = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (Item item : items(f, docs, WORKLOAD_KINDS, "workload")) {
            JsonNode d = item.doc();
            String kind = d.path("kind").asString("");
            try {
                JsonNode meta = d.path("metadata");
                String name = text(item.where(), "metadata.name", meta.get("name"));
                if (name == null || name.isEmpty()) {
                    throw new InputException(item.where() + ": " + kind + " metadata.name: is required");
                }
                String ns = text(item.where(), "metadata.namespace", meta.get("namespace"));
                ns = ns == null || ns.isEmpty() ? "default" : ns;
                if (!seen.add(kind + " " + ns + "/" + name)) {
                    throw new InputException(item.where() + ": duplicate " + kind + " " + ns + "/" + name);
                }
                if (VirtualMachineReader.KINDS.contains(kind)) {
                    try {
                        vms.add(VirtualMachineReader.read(d));
                    } catch (VirtualMachineReader.VmError e) {
                        throw new InputException(item.where() + ": " + kind + " " + e.getMessage());
                    }
                    continue;
                }
                out.add(workload(item.where(), kind, ns, name, d));
            } catch (InputException e) {
                errors.add(e.getMessage());
            }
        }
        return new Workloads(out, vms, errors);
    }

    private record Item(String where, JsonNode doc) {}

    /** Every object of the wanted kinds: documents, and the items of List (and {@code <Kind>List}) documents. */
    private static List<Item> items(String f, List<JsonNode> docs, Set<String> kinds, String what)
            throws InputException {
        List<Item> out = new ArrayList<>();
        int docNo = 0;
        for (JsonNode doc : docs) {
            String where = f + " document " + ++docNo;
            if (!doc.isObject()) {
                throw new InputException(where + ": expected a Kubernetes object");
            }
            String kind = doc.path("kind").asString("");
            if (kinds.contains(kind)) {
                out.add(new Item(where, doc));
            } else if (kind.equals("List") || (kind.endsWith("List") && kinds.contains(kind.substring(0,
                    kind.length() - 4)))) {
                JsonNode list = doc.path("items");
                if (!list.isMissingNode() && !list.isNull() && !list.isArray()) {
                    throw new InputException(where + ": field items: expected a list");
                }
                String itemKind = kind.equals("List") ? null : kind.substring(0, kind.length() - 4);
                int i = 0;
                for (JsonNode item : list.values()) {
                    String at = where + " items[" + i++ + "]";
                    String k = item.path("kind").asString(itemKind == null ? "" : itemKind);
                    if (!item.isObject() || !kinds.contains(k)) {
                        throw new InputException(at + ": kind \"" + k + "\" is not a " + what + " (expected "
                                + String.join(", ", kinds.stream().sorted().toList()) + ")");
                    }
                    if (item.path("kind").isMissingNode()) {
                        ((ObjectNode) item).put("kind", k);
                    }
                    out.add(new Item(at, item));
                }
            } else {
                throw new InputException(where + ": kind \"" + kind + "\" is not supported (expected "
                        + String.join(", ", kinds.stream().sorted().toList()) + " or a List of them)"
                        + (what.equals("Node") && WORKLOAD_KINDS.contains(kind)
                        ? "; this is a " + kind + ": pass workloads with -f" : MisplacedDocument.hint(doc, "--nodes")));
            }
        }
        return out;
    }

    private static WorkloadSpec workload(String where, String kind, String ns, String name, JsonNode d)
            throws InputException {
        String key = ns + "/" + name;
        if (kind.equals("Pod")) {
            PodManifestReader.Bound b = PodManifestReader.bind(where, key, d);
            return new WorkloadSpec(kind, ns, name, b.spec(), scheduling(where, key, b.pod()), 1);
        }
        JsonNode spec = d.path("spec");
        JsonNode template = spec.path("template");
        if (!template.isObject()) {
            throw new InputException(where + ": " + kind + " " + key + ": spec.template is required");
        }
        int replicas = switch (kind) {
            case "DaemonSet" -> 0;
            case "Job" -> {
                int parallelism = count(where, kind, key, "spec.parallelism", spec.get("parallelism"), 1);
                int completions = count(where, kind, key, "spec.completions", spec.get("completions"), parallelism);
                yield Math.min(parallelism, completions);
            }
            default -> count(where, kind, key, "spec.replicas", spec.get("replicas"), 1);
        };
        ObjectNode pod = YamlDocs.MAPPER.createObjectNode();
        pod.put("apiVersion", "v1");
        pod.put("kind", "Pod");
        ObjectNode meta = template.path("metadata").isObject() ? ((ObjectNode) template.get("metadata")).deepCopy()
                : YamlDocs.MAPPER.createObjectNode();
        meta.put("name", name);
        meta.put("namespace", ns);
        pod.set("metadata", meta);
        pod.set("spec", template.path("spec").isObject() ? template.get("spec") : YamlDocs.MAPPER.createObjectNode());
        PodManifestReader.Bound b = PodManifestReader.bind(where + " (" + kind + " spec.template)", key, pod);
        return new WorkloadSpec(kind, ns, name, b.spec(), scheduling(where, key, b.pod()), replicas);
    }

    private static int count(String where, String kind, String key, String field, JsonNode n, int dflt)
            throws InputException {
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isIntegralNumber() || n.asLong() < 0 || n.asLong() > 1_000_000) {
            throw new InputException(where + ": " + kind + " " + key + " " + field + ": expected a count from 0 to"
                    + " 1000000, got " + n);
        }
        return n.asInt();
    }

    private static Scheduling scheduling(String where, String key, Pod pod) throws InputException {
        var spec = pod.getSpec();
        List<Scheduling.Term> terms = null;
        var aff = spec.getAffinity();
        if (aff != null && aff.getNodeAffinity() != null
                && aff.getNodeAffinity().getRequiredDuringSchedulingIgnoredDuringExecution() != null) {
            terms = new ArrayList<>();
            int t = 0;
            for (NodeSelectorTerm term : nullToEmpty(aff.getNodeAffinity()
                    .getRequiredDuringSchedulingIgnoredDuringExecution().getNodeSelectorTerms())) {
                String field = "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"
                        + ".nodeSelectorTerms[" + t++ + "]";
                terms.add(new Scheduling.Term(requirements(where, key, field + ".matchExpressions",
                        term == null ? null : term.getMatchExpressions()),
                        requirements(where, key, field + ".matchFields", term == null ? null : term.getMatchFields())));
            }
        }
        List<Scheduling.Toleration> tolerations = new ArrayList<>();
        int i = 0;
        for (var t : nullToEmpty(spec.getTolerations())) {
            String field = "spec.tolerations[" + i++ + "]";
            String op = t.getOperator() == null || t.getOperator().isEmpty() ? "Equal" : t.getOperator();
            if (!op.equals("Equal") && !op.equals("Exists")) {
                throw new InputException(where + ": " + key + " " + field + ".operator: must be Equal or Exists, got \""
                        + op + "\"");
            }
            tolerations.add(new Scheduling.Toleration(t.getKey(), op.equals("Exists"), t.getValue(),
                    effect(where, key, field + ".effect", t.getEffect(), true)));
        }
        String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
        return new Scheduling(spec.getNodeName(), spec.getNodeSelector(), terms, tolerations,
                "Succeeded".equals(phase) || "Failed".equals(phase));
    }

    private static List<Scheduling.Requirement> requirements(String where, String key, String field,
                                                             List<NodeSelectorRequirement> rs) throws InputException {
        List<Scheduling.Requirement> out = new ArrayList<>();
        int i = 0;
        for (NodeSelectorRequirement r : nullToEmpty(rs)) {
            String at = field + "[" + i++ + "]";
            Scheduling.Operator op;
            try {
                op = Scheduling.Operator.valueOf(String.valueOf(r.getOperator()));
            } catch (IllegalArgumentException e) {
                throw new InputException(where + ": " + key + " " + at + ".operator: must be one of In, NotIn, Exists,"
                        + " DoesNotExist, Gt, Lt, got \"" + r.getOperator() + "\"");
            }
            if (r.getKey() == null || r.getKey().isEmpty()) {
                throw new InputException(where + ": " + key + " " + at + ".key: is required");
            }
            out.add(new Scheduling.Requirement(r.getKey(), op, r.getValues()));
        }
        return out;
    }

    private static Scheduling.TaintEffect effect(String where, String key, String field, String text, boolean empty)
            throws InputException {
        if (text == null || text.isEmpty()) {
            if (empty) {
                return null;
            }
            throw new InputException(where + ": " + key + " " + field + ": is required");
        }
        try {
            return Scheduling.TaintEffect.valueOf(text);
        } catch (IllegalArgumentException e) {
            throw new InputException(where + ": " + key + " " + field + ": must be NoSchedule, PreferNoSchedule or"
                    + " NoExecute, got \"" + text + "\"");
        }
    }

    private static ClusterNode node(String where, JsonNode d, KubeletSettings kubelet) throws InputException {
        String name = text(where, "metadata.name", d.path("metadata").get("name"));
        if (name == null || name.isEmpty()) {
            throw new InputException(where + ": Node metadata.name: is required");
        }
        String at = where + ": node " + name;
        Map<String, String> labels = new LinkedHashMap<>();
        JsonNode l = d.path("metadata").path("labels");
        if (!l.isMissingNode() && !l.isNull()) {
            if (!l.isObject()) {
                throw new InputException(at + " metadata.labels: expected a map of strings");
            }
            for (var e : l.properties()) {
                if (!e.getValue().isValueNode() || e.getValue().isNull()) {
                    throw new InputException(at + " metadata.labels." + e.getKey() + ": expected a string");
                }
                labels.put(e.getKey(), e.getValue().asString());
            }
        }
        List<Scheduling.Taint> taints = new ArrayList<>();
        JsonNode ts = d.path("spec").path("taints");
        if (!ts.isMissingNode() && !ts.isNull() && !ts.isArray()) {
            throw new InputException(at + " spec.taints: expected a list");
        }
        int i = 0;
        for (JsonNode t : ts.values()) {
            String field = "spec.taints[" + i++ + "]";
            String k = text(at, field + ".key", t.get("key"));
            if (k == null || k.isEmpty()) {
                throw new InputException(at + " " + field + ".key: is required");
            }
            taints.add(new Scheduling.Taint(k, text(at, field + ".value", t.get("value")),
                    effect(at, "", field + ".effect", text(at, field + ".effect", t.get("effect")), false)));
        }
        JsonNode unsched = d.path("spec").path("unschedulable");
        if (unsched.asBoolean(false) && taints.stream().noneMatch(t -> t.key().equals("node.kubernetes.io/unschedulable"))) {
            taints.add(new Scheduling.Taint("node.kubernetes.io/unschedulable", "", Scheduling.TaintEffect.NoSchedule));
        }
        JsonNode status = d.path("status");
        JsonNode alloc = status.path("allocatable");
        JsonNode cap = status.path("capacity");
        Long capMem = bytes(at, "status.capacity.memory", cap.get("memory"));
        Long allocMem = bytes(at, "status.allocatable.memory", alloc.get("memory"));
        JsonNode info = status.path("nodeInfo");
        Long swap = bytes(at, "status.nodeInfo.swap.capacity", info.path("swap").get("capacity"));
        String arch = text(at, "status.nodeInfo.architecture", info.get("architecture"));
        String kernel = text(at, "status.nodeInfo.kernelVersion", info.get("kernelVersion"));
        if (allocMem == null) {
            if (capMem == null || capMem == 0) {
                throw new InputException(at + ": status.allocatable.memory or status.capacity.memory is required");
            }
            try {
                allocMem = new Planner(new NodeFacts(capMem, swap == null ? 0 : swap,
                        CgroupVersion.V2, true, 4096, null, kernel, arch), kubelet,
                        WardenConfig.DEFAULTS).allocatableMemory();
            } catch (IllegalArgumentException e) {
                throw new InputException(at + ": allocatable from status.capacity.memory " + capMem + " and the"
                        + " kubelet config: " + e.getMessage());
            }
        }
        Long cpu = millis(at, "status.allocatable.cpu", alloc.get("cpu"));
        if (cpu == null) {
            cpu = millis(at, "status.capacity.cpu", cap.get("cpu"));
        }
        if (cpu == null) {
            throw new InputException(at + ": status.allocatable.cpu or status.capacity.cpu is required");
        }
        Long pods = bytes(at, "status.allocatable.pods", alloc.get("pods"));
        if (pods == null) {
            pods = bytes(at, "status.capacity.pods", cap.get("pods"));
        }
        return new ClusterNode(name, labels, taints, allocMem, cpu, pods == null ? DEFAULT_MAX_PODS : pods,
                capMem == null ? allocMem : capMem, swap == null ? 0 : swap, arch, kernel);
    }

    private static String text(String where, String field, JsonNode n) throws InputException {
        if (n == null || n.isNull() || n.isMissingNode()) {
            return null;
        }
        if (!n.isValueNode()) {
            throw new InputException(where + " " + field + ": expected a string, got " + shortText(n));
        }
        return n.asString();
    }

    private static Long bytes(String where, String field, JsonNode n) throws InputException {
        String t = text(where, field, n);
        if (t == null) {
            return null;
        }
        try {
            KubeQuantity q = KubeQuantity.parse(t);
            if (q.signum() < 0) {
                throw new InputException(where + " " + field + ": must not be negative, got \"" + t + "\"");
            }
            return q.bytes();
        } catch (IllegalArgumentException e) {
            throw new InputException(where + " " + field + ": " + e.getMessage());
        }
    }

    private static Long millis(String where, String field, JsonNode n) throws InputException {
        String t = text(where, field, n);
        if (t == null) {
            return null;
        }
        try {
            KubeQuantity q = KubeQuantity.parse(t);
            if (q.signum() < 0) {
                throw new InputException(where + " " + field + ": must not be negative, got \"" + t + "\"");
            }
            return q.millis();
        } catch (IllegalArgumentException e) {
            throw new InputException(where + " " + field + ": " + e.getMessage());
        }
    }

    private static String shortText(JsonNode n) {
        String s = n.toString();
        return s.length() > 60 ? s.substring(0, 60) + "…" : s;
    }

    private static <T> List<T> nullToEmpty(List<T> l) {
        return l == null ? List.of() : l;
    }

}
