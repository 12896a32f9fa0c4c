package io.memwarden.k8s;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.api.model.TaintBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;

/**
 * This Node's swap label {@value #SWAP_KEY}=&lt;behavior&gt; and taint {@value #SWAP_KEY}=&lt;behavior&gt;:NoSchedule:
 * read the Node, write nothing when it is already as wanted, otherwise one JSON Patch made conditional on the
 * resourceVersion that was read (re-read and retried when another writer came first). Every other label and taint
 * is kept.
 */
final class NodeMarking {
    private static final Logger LOG = LoggerFactory.getLogger(KubeCluster.class); // the log name users know

    /** The node label and taint key. */
    static final String SWAP_KEY = "memwarden.io/swap";
    /** The effect of memwarden's taint. */
    static final String TAINT_EFFECT = "NoSchedule";

    private static final Pattern LABEL_VALUE = Pattern.compile("([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?");
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final int CONFLICT_RETRIES = 3;
    private static final String LABEL_PATH = "/metadata/labels/" + SWAP_KEY.replace("~", "~0").replace("/", "~1");

    private final KubernetesClient api;
    private final String nodeName;
    private final boolean enabled;

    private final AtomicLong writes = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();

    /** @param enabled false: {@link #mark} checks its arguments and writes nothing */
    NodeMarking(KubernetesClient api, String nodeName, boolean enabled) {
        this.api = api;
        this.nodeName = nodeName;
        this.enabled = enabled;
    }

    long writes() {
        return writes.get();
    }

    long failures() {
        return failures.get();
    }

    /** What the Node should carry: the label's value (null: none) and the taint (null: none). */
    private record Mark(String label, Taint taint) {}

    /** {@link ClusterActions#markNode}. */
    void mark(String swapBehavior, boolean swapOn, boolean label, boolean taint) {
        boolean wantTaint = taint && swapOn;
        if ((label || wantTaint) && (swapBehavior == null || swapBehavior.isEmpty()
                || !LABEL_VALUE.matcher(swapBehavior).matches())) {
            throw new IllegalArgumentException("swap behaviour \"" + swapBehavior + "\" cannot be a label value (at"
                    + " most 63 characters: letters, digits, '-', '_', '.', starting and ending alphanumeric)");
        }
        if (!enabled) {
            return;
        }
        Mark want = new Mark(label ? swapBehavior : null, wantTaint
                ? new TaintBuilder().withKey(SWAP_KEY).withValue(swapBehavior).withEffect(TAINT_EFFECT).build()
                : null);
        for (int attempt = 1; attempt <= CONFLICT_RETRIES; attempt++) {
            Node node = read();
            if (node == null) {
                return;
            }
            ArrayNode ops = patch(node, want);
            if (ops == null) {
                return; // already as wanted: no write
            }
            if (write(ops, want, attempt)) {
                return;
            }
        }
    }

    /** This Node's labels and annotations, or null (counted and logged) when it cannot be read. */
    ClusterActions.NodeMetadata metadata() {
        Node node;
        try {
            node = api.nodes().withName(nodeName).get();
        } catch (KubernetesClientException e) {
            failures.incrementAndGet();
            LOG.warn("could not read node {}: {}", nodeName, ApiCalls.brief(e));
            return null;
        }
        if (node == null || node.getMetadata() == null) {
            failures.incrementAndGet();
            LOG.warn("node {} not found", nodeName);
            return null;
        }
        return new ClusterActions.NodeMetadata(node.getMetadata().getLabels(), node.getMetadata().getAnnotations());
    }

    /** This Node, or null (counted and logged) when it cannot be read or does not exist. */
    private Node read() {
        Node node;
        try {
            node = api.nodes().withName(nodeName).get();
        } catch (KubernetesClientException e) {
            failures.incrementAndGet();
            LOG.warn("could not read node {} to set its {} label/taint: {}", nodeName, SWAP_KEY,
                    ApiCalls.brief(e));
            return null;
        }
        if (node == null) {
            failures.incrementAndGet();
            LOG.warn("node {} not found: its {} label/taint not set", nodeName, SWAP_KEY);
        }
        return node;
    }

    /**
     * The JSON Patch (RFC 6902) from {@code node} to {@code want}, or null when there is nothing to change. A test of
     * the resourceVersion makes the write conditional (a concurrent writer, e.g. the node lifecycle controller adding
     * its taints, makes it fail and we re-read); the taint list is replaced whole (Node taints have no merge key),
     * with every other taint kept.
     */
    private static ArrayNode patch(Node node, Mark want) {
        Map<String, String> labels = node.getMetadata().getLabels() == null ? Map.of()
                : node.getMetadata().getLabels();
        boolean labelOk = Objects.equals(labels.get(SWAP_KEY), want.label());
        List<Taint> current = node.getSpec() == null || node.getSpec().getTaints() == null ? List.of()
                : node.getSpec().getTaints();
        List<Taint> wanted = new ArrayList<>();
        for (Taint t : current) {
            if (!isOurs(t)) {
                wanted.add(t);
            }
        }
        if (want.taint() != null) {
            wanted.add(want.taint());
        }
        boolean taintOk = sameTaints(current, wanted);
        if (labelOk && taintOk) {
            return null;
        }
        ArrayNode ops = JSON.createArrayNode();
        ops.addObject().put("op", "test").put("path", "/metadata/resourceVersion")
                .put("value", node.getMetadata().getResourceVersion());
        if (!labelOk) {
            if (want.label() == null) {
                ops.addObject().put("op", "remove").put("path", LABEL_PATH);
            } else if (node.getMetadata().getLabels() == null) {
                ops.addObject().put("op", "add").put("path", "/metadata/labels").putObject("value")
                        .put(SWAP_KEY, want.label());
            } else {
                ops.addObject().put("op", "add").put("path", LABEL_PATH).put("value", want.label());
            }
        }
        if (!taintOk) {
            ArrayNode list = JSON.createArrayNode();
            for (Taint t : wanted) {
                list.add(JSON.valueToTree(taintMap(t)));
            }
            if (node.getSpec() == null) {
                ops.addObject().put("op", "add").put("path", "/spec").putObject("value").set("taints", list);
            } else if (node.getSpec().getTaints() == null) {
                ops.addObject().put("op", "add").put("path", "/spec/taints").set("value", list);
            } else if (wanted.isEmpty()) {
                ops.addObject().put("op", "remove").put("path", "/spec/taints");
            } else {
                ops.addObject().put("op", "replace").put("path", "/spec/taints").set("value", list);
            }
        }
        return ops;
    }

    /** Whether this attempt ends the marking: written, or failed for good (counted and logged); false: retry. */
    private boolean write(ArrayNode ops, Mark want, int attempt) {
        try {
            api.nodes().withName(nodeName).patch(PatchContext.of(PatchType.JSON), JSON.writeValueAsString(ops));
            writes.incrementAndGet();
            LOG.info("node {}: label {}={}, taint {}", nodeName, SWAP_KEY, want.label() == null ? "(none)"
                    : want.label(), want.taint() != null ? SWAP_KEY + "=" + want.taint().getValue() + ":" + TAINT_EFFECT
                    : "(none)");
            return true;
        } catch (KubernetesClientException e) {
            if ((e.getCode() == 409 || e.getCode() == 422) && attempt < CONFLICT_RETRIES) {
                LOG.debug("node {} changed while patching it (attempt {}): retrying", nodeName, attempt);
                return false;
            }
            failures.incrementAndGet();
            LOG.warn("could not patch node {} ({} label/taint): {}", nodeName, SWAP_KEY, ApiCalls.brief(e));
            return true;
        }
    }

    private static boolean isOurs(Taint t) {
        return SWAP_KEY.equals(t.getKey()) && TAINT_EFFECT.equals(t.getEffect());
    }

    private static boolean sameTaints(List<Taint> a, List<Taint> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (!taintMap(a.get(i)).equals(taintMap(b.get(i)))) {
                return false;
            }
        }
        return true;
    }

    private static Map<String, String> taintMap(Taint t) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("key", t.getKey());
        if (t.getValue() != null && !t.getValue().isEmpty()) {
            m.put("value", t.getValue());
        }
        m.put("effect", t.getEffect());
        if (t.getTimeAdded() != null) {
            m.put("timeAdded", t.getTimeAdded());
        }
        return m;
    }
}
