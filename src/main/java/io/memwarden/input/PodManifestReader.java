package io.memwarden.input;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.memwarden.model.ContainerKind;
import io.memwarden.model.ContainerSpec;
import io.memwarden.model.KubeQuantity;
import io.memwarden.model.PodSpec;
import io.memwarden.model.QosClass;
import io.memwarden.model.Resources;
import io.memwarden.model.VmiSpec;
import io.memwarden.policy.Plan.PlanError;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * Reads Kubernetes manifests (v1 Pod, v1 List / PodList of Pods, multi-document YAML) into {@link PodSpec}s, bound
 * through fabric8's Kubernetes model. A file that is not YAML or holds another kind is an input error; a pod with a
 * bad field (unparseable quantity, request above limit, duplicate container) becomes a per-pod error and the other
 * pods are still read. KubeVirt {@code VirtualMachineInstance} and {@code VirtualMachine} documents ({@code
 * kubevirt.io/v1}) are read beside them into {@link VmiSpec}s, with the same isolation: a bad VM is that VM's error.
 */
public final class PodManifestReader {
    private PodManifestReader() {}

    /** @param vms KubeVirt VMs in file order (empty when the file has none) */
    public record Result(List<PodSpec> pods, List<PlanError> errors, List<VmiSpec> vms, boolean vmErrors) {
        public Result {
            vms = List.copyOf(vms);
        }

        public Result(List<PodSpec> pods, List<PlanError> errors) {
            this(pods, errors, List.of(), false);
        }

        /** Whether the file held any VirtualMachineInstance or VirtualMachine document (read or in error). */
        public boolean hadVms() {
            return !vms.isEmpty() || vmErrors;
        }
    }

    public static Result read(Path path) throws InputException {
        return readItems(path).bind();
    }

    public static Result parse(String f, List<JsonNode> docs) throws InputException {
        return items(f, new YamlDocs.Docs(docs, List.of())).bind();
    }

    /** A manifest's text (named {@code f} in errors), with the per-pod isolation of {@link #read(Path)}. */
    public static Result parse(String f, String text) throws InputException {
        return items(f, YamlDocs.readDocs(f, text)).bind();
    }

    /**
     * Reads and checks the file's structure now (not YAML, another kind, a pod without a name: {@link
     * InputException}) and leaves binding its pods to {@link Items#bind()}: that is the slow part of a cold start
     * (Jackson building its deserializers for fabric8's Pod model), which a daemon does while it registers.
     */
    public static Items readItems(Path path) throws InputException {
        CompletableFuture<Prepared> ahead = PREPARED.remove(path.toAbsolutePath().normalize());
        Prepared p = ahead == null ? null : ahead.join();
        YamlDocs.Docs docs = null;
        if (p != null) {
            if (!Files.isRegularFile(path)) {
                // a pipe is read once: what was read ahead is all there is
                if (p.error() != null) {
                    throw p.error();
                }
                docs = p.docs();
            } else if (p.docs() != null && Arrays.equals(p.digest(), digest(path))) {
                docs = p.docs();
            }
        }
        return items(path.toString(), docs != null ? docs : YamlDocs.readDocs(path));
    }

    /**
     * A manifest read and parsed ahead by {@link #prepare(Path)} with the SHA-256 of the bytes it was parsed from:
     * used only if the file still has them.
     */
    private record Prepared(byte[] digest, YamlDocs.Docs docs, InputException error) {}

    /** The file's SHA-256, or null when it cannot be read (reading it again reports why). */
    private static byte[] digest(Path path) {
        try (InputStream in = new DigestInputStream(Files.newInputStream(path), MessageDigest.getInstance("SHA-256"))) {
            in.transferTo(OutputStream.nullOutputStream());
            return ((DigestInputStream) in).getMessageDigest().digest();
        } catch (IOException | NoSuchAlgorithmException e) {
            return null;
        }
    }

    private static final Map<Path, CompletableFuture<Prepared>> PREPARED = new ConcurrentHashMap<>();

    /** A manifest's Pod objects, checked for structure and duplicates but not yet bound. */
    public static final class Items {
        /** In file order: a pod to bind ({@code pod} set) or a pod already in error ({@code duplicate} set). */
        private record Entry(String key, JsonNode pod, PlanError duplicate, String vmKind, String where) {
            Entry(String key, JsonNode pod, PlanError duplicate) {
                this(key, pod, duplicate, null, null);
            }
        }

        private final List<Entry> entries;

        private Items(List<Entry> entries) {
            this.entries = entries;
        }

        /** Binds every pod; a pod with a bad field becomes a per-pod error, the others are still read. */
        public Result bind() {
            List<PodSpec> pods = new ArrayList<>();
            List<PlanError> errors = new ArrayList<>();
            List<VmiSpec> vms = new ArrayList<>();
            boolean vmErrors = false;
            for (Entry e : entries) {
                if (e.duplicate() != null) {
                    errors.add(e.duplicate());
                    vmErrors |= e.vmKind() != null;
                    continue;
                }
                if (e.vmKind() != null) {
                    try {
                        vms.add(VirtualMachineReader.read(e.pod()));
                    } catch (VirtualMachineReader.VmError ex) {
                        errors.add(new PlanError(e.key(), null, e.where() + ": " + e.vmKind() + " " + ex.getMessage()));
                        vmErrors = true;
                    }
                    continue;
                }
                try {
                    pods.add(toPodSpec(e.key(), POD_MAPPER.treeToValue(e.pod(), Pod.class)));
                } catch (PodError ex) {
                    errors.add(new PlanError(e.key(), ex.container, ex.getMessage()));
                } catch (JacksonException ex) {
                    errors.add(new PlanError(e.key(), null, "invalid Pod: " + YamlDocs.clean(String.valueOf(
                            ex.getOriginalMessage())) + " at " + fieldPath(ex)));
                }
            }
            return new Result(pods, errors, vms, vmErrors);
        }
    }

    /**
     * Binds Pods: its own mapper (the same configuration as {@link YamlDocs#MAPPER}), because Jackson builds
     * deserializers under one lock per mapper, and building the Pod model's takes long enough to hold up the
     * config reading a daemon does meanwhile.
     */
    private static final ObjectMapper POD_MAPPER = YAMLMapper.builder().build();

    /**
     * The slow parts of a cold {@link #readItems}/{@link Items#bind()}, done ahead on a daemon's second thread while
     * picocli and the configs are handled on the first: reads and parses {@code manifest} (kept for {@link
     * #readItems}, which uses it only if the file still has the same text) and builds Jackson's deserializers for
     * fabric8's Pod model (hundreds of classes introspected reflectively; a JDK AOT cache does not store them) by
     * binding a one-container pod. Results are the same with or without it; any failure is left to readItems.
     */
    public static void prepare(Path manifest) {
        prepare(manifest, expect(manifest));
    }

    /**
     * {@link #prepare(Path)} on a new daemon thread. The manifest is registered before this returns, so a {@link
     * #readItems} of it waits for that parse instead of parsing it a second time.
     */
    public static void prepareInBackground(Path manifest) {
        CompletableFuture<Prepared> ahead = expect(manifest);
        Thread.ofPlatform().daemon().name("memwarden-prepare").start(() -> prepare(manifest, ahead));
    }

    private static CompletableFuture<Prepared> expect(Path manifest) {
        CompletableFuture<Prepared> ahead = new CompletableFuture<>();
        PREPARED.put(manifest.toAbsolutePath().normalize(), ahead);
        return ahead;
    }

    private static void prepare(Path manifest, CompletableFuture<Prepared> ahead) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            YamlDocs.Docs docs;
            try (InputStream in = new DigestInputStream(Files.newInputStream(manifest), sha)) {
                docs = YamlDocs.readDocs(manifest.toString(), in);
            }
            ahead.complete(new Prepared(sha.digest(), docs, null));
        } catch (InputException e) {
            ahead.complete(new Prepared(null, null, e));
        } catch (IOException | NoSuchAlgorithmException | RuntimeException e) {
            // readItems reads it again and reports the problem
            ahead.complete(null);
        }
        try {
            JsonNode pod = YamlDocs.readAll("prepare", """
                    {apiVersion: v1, kind: Pod, metadata: {name: p, namespace: n, uid: u},
                     spec: {containers: [{name: c, resources: {requests: {memory: 1Mi}, limits: {memory: 2Mi}}}]}}
                    """).getFirst();
            toPodSpec("n/p", POD_MAPPER.treeToValue(pod, Pod.class));
        } catch (InputException | PodError | RuntimeException e) {
            // only a head start: the binding itself builds what is missing and reports what fails
        }
    }

    private static Items items(String f, YamlDocs.Docs parsed) throws InputException {
        List<Items.Entry> entries = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        Set<String> seenVms = new HashSet<>();
        int docNo = 0;
        for (JsonNode doc : parsed.docs()) {
            docNo++;
            String where = f + " document " + docNo;
            if (!doc.isObject()) {
                String p = parsed.problemIn(doc);
                throw new InputException(where + ": " + (p != null ? p : "expected a Kubernetes object, got " + shortText(doc)));
            }
            // a problem outside the pods (kind, apiVersion, items itself) makes the document unusable
            String docKind = doc.path("kind").asString("");
            boolean pod = docKind.equals("Pod") || VirtualMachineReader.KINDS.contains(docKind);
            for (var e : doc.properties()) {
                if (pod && !e.getKey().equals("kind")) {
                    continue; // a problem inside a Pod is that pod's error
                }
                String p = parsed.problem(e.getKey());
                if (p == null && !(e.getKey().equals("items") && e.getValue().isArray())) {
                    p = parsed.problemIn(e.getValue());
                }
                if (p != null) {
                    throw new InputException(where + ": " + p);
                }
            }
            String kind = doc.path("kind").asString("");
            List<JsonNode> items = new ArrayList<>();
            switch (kind) {
                case "Pod", "VirtualMachineInstance", "VirtualMachine" -> items.add(doc);
                case "List", "PodList" -> {
                    JsonNode list = doc.get("items");
                    if (list != null && !list.isNull() && !list.isArray()) {
                        throw new InputException(where + ": field items: expected a list of Pods, got " + shortText(list));
                    }
                    int i = 0;
                    for (JsonNode item : doc.path("items").values()) {
                        String ik = item.path("kind").asString("");
                        boolean vmItem = kind.equals("List") && VirtualMachineReader.KINDS.contains(ik);
                        if (!item.isObject() || (!ik.equals("Pod") && !vmItem && !(kind.equals("PodList") && ik.isEmpty())
                                && parsed.problemIn(item.path("kind")) == null)) {
                            throw new InputException(where + ": items[" + i + "]: " + (item.isObject()
                                    ? "kind \"" + ik + "\" is not supported (only Pod)"
                                    : "expected a Pod, got " + shortText(item)));
                        }
                        items.add(item);
                        i++;
                    }
                }
                case "" -> throw new InputException(where + ": field kind is missing (expected Pod, List, PodList,"
                        + " VirtualMachineInstance or VirtualMachine)" + MisplacedDocument.hint(doc, "--node"));
                default -> throw new InputException(where + ": kind \"" + kind
                        + "\" is not supported (expected Pod, List, PodList, VirtualMachineInstance or VirtualMachine)"
                        + MisplacedDocument.hint(doc, "--node"));
            }
            for (JsonNode item : items) {
                String itemKind = item.path("kind").asString("");
                if (VirtualMachineReader.KINDS.contains(itemKind)) {
                    vmEntry(f, where, item, itemKind, parsed, seenVms, entries);
                    continue;
                }
                JsonNode meta = item.path("metadata");
                String bad = parsed.problemIn(meta.path("name"));
                bad = bad != null ? bad : parsed.problemIn(meta.path("namespace"));
                if (bad != null) {
                    throw new InputException(where + ": " + bad);
                }
                String name = meta.path("name").asString("");
                String ns = meta.path("namespace").asString("");
                String key = (ns.isEmpty() ? "default" : ns) + "/" + name;
                if (name.isEmpty()) {
                    throw new InputException(where + ": a Pod has no metadata.name");
                }
                String problem = parsed.problemIn(item);
                if (!seen.add(key)) {
                    entries.add(new Items.Entry(key, null, new PlanError(key, null, "duplicate pod " + key + " in " + where)));
                } else if (problem != null) {
                    entries.add(new Items.Entry(key, null, new PlanError(key, null, f + ": " + problem)));
                } else {
                    entries.add(new Items.Entry(key, item, null));
                }
            }
        }
        return new Items(entries);
    }

    /** A VirtualMachineInstance or VirtualMachine: its entry, or its error (never an exception for the file). */
    private static void vmEntry(String f, String where, JsonNode item, String kind, YamlDocs.Docs parsed,
                                Set<String> seen, List<Items.Entry> entries) {
        JsonNode meta = item.path("metadata");
        String name = meta.path("name").isString() ? meta.path("name").stringValue() : "";
        String ns = meta.path("namespace").isString() ? meta.path("namespace").stringValue() : "";
        String key = (ns.isEmpty() ? "default" : ns) + "/" + name;
        String problem = parsed.problemIn(item);
        PlanError error = null;
        if (problem != null) {
            error = new PlanError(key, null, where + ": " + kind + " " + problem);
        } else if (name.isEmpty()) {
            error = new PlanError(key, null, where + ": " + kind + " metadata.name: a " + kind + " needs a name");
        } else if (!seen.add(key)) {
            error = new PlanError(key, null, where + ": duplicate " + kind + " " + key);
        }
        entries.add(new Items.Entry(key, error == null ? item : null, error, kind, where));
    }

    /**
     * One Pod object (e.g. from the Kubernetes API) as a {@link PodSpec}.
     *
     * @throws InputException naming the pod and field when a value is invalid
     */
    public static PodSpec fromPod(Pod pod) throws InputException {
        var meta = pod.getMetadata();
        String key = (meta == null || meta.getNamespace() == null ? "default" : meta.getNamespace()) + "/"
                + (meta == null ? "" : meta.getName());
        if (meta == null || meta.getName() == null || meta.getName().isEmpty()) {
            throw new InputException(key + ": a Pod has no metadata.name");
        }
        try {
            return toPodSpec(key, pod);
        } catch (PodError e) {
            throw new InputException(key + (e.container == null ? "" : " container " + e.container) + ": "
                    + e.getMessage());
        }
    }

    private static String shortText(JsonNode n) {
        String s = n.toString();
        return s.length() > 60 ? s.substring(0, 60) + "…" : s;
    }

    private static final class PodError extends Exception {
        final String container;

        PodError(String container, String message) {
            super(message);
            this.container = container;
        }
    }

    static PodSpec toPodSpec(String key, Pod pod) throws PodError {
        var meta = pod.getMetadata();
        var spec = pod.getSpec();
        if (spec == null) {
            throw new PodError(null, "Pod has no spec");
        }
        List<ContainerSpec> containers = new ArrayList<>();
        Set<String> names = new HashSet<>();
        int i = 0;
        for (Container c : nullToEmpty(spec.getInitContainers())) {
            boolean sidecar = "Always".equals(c.getRestartPolicy());
            containers.add(container("spec.initContainers[" + i++ + "]", c, sidecar ? ContainerKind.SIDECAR
                    : ContainerKind.INIT, names));
        }
        i = 0;
        for (Container c : nullToEmpty(spec.getContainers())) {
            containers.add(container("spec.containers[" + i++ + "]", c, ContainerKind.REGULAR, names));
        }
        if (containers.stream().noneMatch(c -> c.kind() == ContainerKind.REGULAR)) {
            throw new PodError(null, "spec.containers: a Pod needs at least one container");
        }
        Resources podRes = resources(null, "spec.resources", spec.getResources());
        Long overhead = null;
        if (spec.getOverhead() != null && spec.getOverhead().get("memory") != null) {
            overhead = bytes(null, "spec.overhead.memory", spec.getOverhead().get("memory"));
        }
        QosClass status = null;
        if (pod.getStatus() != null && pod.getStatus().getQosClass() != null && !pod.getStatus().getQosClass().isEmpty()) {
            try {
                status = QosClass.fromApiName(pod.getStatus().getQosClass());
            } catch (IllegalArgumentException e) {
                throw new PodError(null, "status.qosClass: " + e.getMessage());
            }
        }
        Map<String, String> annotations = meta.getAnnotations() == null ? Map.of() : meta.getAnnotations();
        Map<String, String> labels = meta.getLabels() == null ? Map.of() : meta.getLabels();
        return new PodSpec(meta.getNamespace(), meta.getName(), meta.getUid(), annotations, spec.getPriority(),
                spec.getPriorityClassName(), status, overhead, podRes, containers, labels,
                spec.getTerminationGracePeriodSeconds());
    }

    private static ContainerSpec container(String field, Container c, ContainerKind kind, Set<String> names)
            throws PodError {
        String name = c.getName();
        if (name == null || name.isEmpty()) {
            throw new PodError(null, field + ".name: a container needs a name");
        }
        if (!names.add(name)) {
            throw new PodError(name, field + ".name: duplicate container name \"" + name + "\"");
        }
        Resources r = resources(name, field + ".resources", c.getResources());
        List<String> command = new ArrayList<>(nullToEmpty(c.getCommand()));
        command.addAll(nullToEmpty(c.getArgs()));
        return new ContainerSpec(name, kind, r, command);
    }

    private static Resources resources(String container, String field, ResourceRequirements rr) throws PodError {
        if (rr == null) {
            return Resources.NONE;
        }
        Map<String, Quantity> req = rr.getRequests() == null ? Map.of() : rr.getRequests();
        Map<String, Quantity> lim = rr.getLimits() == null ? Map.of() : rr.getLimits();
        KubeQuantity cpuReq = quantity(container, field + ".requests.cpu", req.get("cpu"));
        KubeQuantity cpuLim = quantity(container, field + ".limits.cpu", lim.get("cpu"));
        Long memReq = bytes(container, field + ".requests.memory", req.get("memory"));
        Long memLim = bytes(container, field + ".limits.memory", lim.get("memory"));
        if (memReq != null && memLim != null && memReq > memLim) {
            throw new PodError(container, field + ".requests.memory: " + req.get("memory")
                    + " must be less than or equal to memory limit " + lim.get("memory"));
        }
        if (cpuReq != null && cpuLim != null && cpuReq.compareTo(cpuLim) > 0) {
            throw new PodError(container, field + ".requests.cpu: " + req.get("cpu")
                    + " must be less than or equal to cpu limit " + lim.get("cpu"));
        }
        return new Resources(cpuReq, cpuLim, memReq, memLim);
    }

    private static KubeQuantity quantity(String container, String field, Quantity q) throws PodError {
        if (q == null) {
            return null;
        }
        String text = (q.getAmount() == null ? "" : q.getAmount()) + (q.getFormat() == null ? "" : q.getFormat());
        try {
            KubeQuantity k = KubeQuantity.parse(text);
            if (k.signum() < 0) {
                throw new PodError(container, field + ": \"" + text + "\" must be greater than or equal to 0");
            }
            return k;
        } catch (IllegalArgumentException e) {
            throw new PodError(container, field + ": " + e.getMessage());
        }
    }

    private static Long bytes(String container, String field, Quantity q) throws PodError {
        KubeQuantity k = quantity(container, field, q);
        if (k == null) {
            return null;
        }
        try {
            return k.bytes();
        } catch (IllegalArgumentException e) {
            throw new PodError(container, field + ": " + e.getMessage());
        }
    }

    private static <T> List<T> nullToEmpty(List<T> l) {
        return l == null ? List.of() : l;
    }

    /** One Pod object bound through fabric8's model: the model object and its {@link PodSpec}. */
    record Bound(Pod pod, PodSpec spec) {}

    /**
     * Binds one Pod document (for {@link ClusterReader}'s workload templates).
     *
     * @throws InputException naming {@code where}, the pod and the field
     */
    static Bound bind(String where, String key, JsonNode pod) throws InputException {
        try {
            Pod p = POD_MAPPER.treeToValue(pod, Pod.class);
            return new Bound(p, toPodSpec(key, p));
        } catch (PodError e) {
            throw new InputException(where + ": " + key + (e.container == null ? "" : " container " + e.container)
                    + ": " + e.getMessage());
        } catch (JacksonException e) {
            throw new InputException(where + ": " + key + ": invalid Pod: " + YamlDocs.clean(String.valueOf(
                    e.getOriginalMessage())) + " at " + fieldPath(e));
        }
    }

    /** Where in the Pod a binding error is, as a field path ({@code spec.containers[0].resources}), no Java names. */
    static String fieldPath(JacksonException ex) {
        StringBuilder out = new StringBuilder();
        for (JacksonException.Reference r : ex.getPath()) {
            if (r.getPropertyName() != null) {
                out.append(out.isEmpty() ? "" : ".").append(r.getPropertyName());
            } else if (r.getIndex() >= 0) {
                out.append('[').append(r.getIndex()).append(']');
            }
        }
        return out.isEmpty() ? "the document" : out.toString();
    }
}
