package io.memwarden.agent;

import io.memwarden.api.ListenAddress;
import io.memwarden.control.Ksmtuned;
import io.memwarden.control.KubevirtKsm;
import io.memwarden.input.InputException;
import io.memwarden.input.WardenConfigReader;
import io.memwarden.input.YamlDocs;
import io.memwarden.kernel.PsiTrigger;
import io.memwarden.loops.LoopOptions;
import io.memwarden.model.QosClass;
import io.memwarden.policy.WardenConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Reads the node agent's config file: the policy sections with {@link WardenConfigReader}'s rules, and the
 * {@code agent}, {@code loops} and {@code kubernetes} sections strictly (unknown keys are errors naming the field).
 */
public final class AgentConfigReader {
    private AgentConfigReader() {}

    public static final Set<String> AGENT_SECTIONS = Set.of("agent", "loops", "kubernetes");

    public static AgentConfig read(Path path) throws InputException {
        return parse(path.toString(), YamlDocs.readOne(path));
    }

    public static AgentConfig parse(String f, JsonNode n) throws InputException {
        if (!n.isObject()) {
            throw new InputException(f + ": expected one YAML mapping");
        }
        YamlDocs.onlyKnown(f, "", n, "memoryQos", "swap", "annotations", "agent", "loops", "kubernetes");
        ObjectNode policyPart = ((ObjectNode) n).deepCopy();
        AGENT_SECTIONS.forEach(policyPart::remove);
        WardenConfig policy = WardenConfigReader.parse(f, policyPart);
        return new AgentConfig(policy, agent(f, n.get("agent")), loops(f, n.get("loops")),
                kubernetes(f, n.get("kubernetes")));
    }

    private static AgentConfig.Agent agent(String f, JsonNode n) throws InputException {
        AgentConfig.Agent d = AgentConfig.Agent.DEFAULTS;
        if (section(f, "agent", n, "listen", "failSwapOn", "protect", "history", "statusFromNetwork") == null) {
            return d;
        }
        String listen = YamlDocs.string(f, "agent.listen", n.get("listen"));
        if (listen != null && !listen.equals("off")) {
            try {
                ListenAddress.parse(listen);
            } catch (IllegalArgumentException e) {
                throw InputException.field(f, "agent.listen", e.getMessage());
            }
        }
        String fso = YamlDocs.string(f, "agent.failSwapOn", n.get("failSwapOn"));
        AgentConfig.FailSwapOn failSwapOn = d.failSwapOn();
        if (fso != null) {
            failSwapOn = switch (fso) {
                case "kubelet" -> AgentConfig.FailSwapOn.KUBELET;
                case "refuse" -> AgentConfig.FailSwapOn.REFUSE;
                case "warn" -> AgentConfig.FailSwapOn.WARN;
                default -> throw InputException.field(f, "agent.failSwapOn", "\"" + fso
                        + "\" is not one of kubelet, refuse, warn");
            };
        }
        Set<String> protect = new LinkedHashSet<>();
        int i = 0;
        for (String p : YamlDocs.strings(f, "agent.protect", n.get("protect"))) {
            if (!p.matches("[a-z0-9*?][-a-z0-9.*?]*/[-a-zA-Z0-9.*?]+")) {
                throw InputException.field(f, "agent.protect[" + i + "]", "\"" + p
                        + "\" is not NAMESPACE/NAME (globs * and ? allowed), e.g. kube-system/coredns-*");
            }
            protect.add(p);
            i++;
        }
        int history = d.history();
        JsonNode h = n.get("history");
        if (h != null && !h.isNull()) {
            if (!h.isInt() || h.intValue() < 1 || h.intValue() > 1_000_000) {
                throw InputException.field(f, "agent.history", "expected an integer from 1 to 1000000, got " + h);
            }
            history = h.intValue();
        }
        boolean statusFromNetwork = orDefault(YamlDocs.bool(f, "agent.statusFromNetwork", n.get("statusFromNetwork")),
                d.statusFromNetwork());
        return new AgentConfig.Agent(listen == null ? d.listen() : listen, failSwapOn, protect, history,
                statusFromNetwork);
    }

    private static AgentConfig.Loops loops(String f, JsonNode n) throws InputException {
        AgentConfig.Loops d = AgentConfig.Loops.DEFAULTS;
        if (section(f, "loops", n, "period", "dryRun", "psiTrigger", "guard", "throttle", "offload", "ksm") == null) {
            return d;
        }
        Duration period = duration(f, "loops.period", n.get("period"), d.period());
        if (period.compareTo(Duration.ofMillis(100)) < 0 || period.compareTo(Duration.ofMinutes(1)) > 0) {
            throw InputException.field(f, "loops.period", "must be from 100ms to 1m, got "
                    + n.get("period").asString());
        }
        boolean dryRun = orDefault(YamlDocs.bool(f, "loops.dryRun", n.get("dryRun")), d.dryRun());
        PsiTrigger.Spec psiTrigger = parsed(f, "loops.psiTrigger", n.get("psiTrigger"), d.psiTrigger(),
                s -> "off".equals(s.trim()) ? null : PsiTrigger.Spec.parse(s),
                (s, e) -> e.getMessage() + " (or \"off\")");
        return new AgentConfig.Loops(period, dryRun, guard(f, n.get("guard"), d.guard()),
                throttle(f, n.get("throttle"), d.throttle()), offload(f, n.get("offload"), d.offload()), psiTrigger,
                ksm(f, n.get("ksm"), d.ksm()));
    }

    private static AgentConfig.Ksm ksm(String f, JsonNode k, AgentConfig.Ksm d) throws InputException {
        if (section(f, "loops.ksm", k, "enabled", "policy", "period", "takeOver", "netLossHold", "kubevirt",
                "ksmtuned") == null) {
            return d;
        }
        String policy = YamlDocs.string(f, "loops.ksm.policy", k.get("policy"));
        if (policy != null && !policy.equals("kubevirt") && !policy.equals("ksmtuned")) {
            throw InputException.field(f, "loops.ksm.policy", "\"" + policy + "\" is not one of kubevirt, ksmtuned");
        }
        Duration period = duration(f, "loops.ksm.period", k.get("period"), d.period());
        if (period.compareTo(Duration.ofSeconds(1)) < 0 || period.compareTo(Duration.ofHours(1)) > 0) {
            throw InputException.field(f, "loops.ksm.period", "must be from 1s to 1h, got " + k.get("period").asString());
        }
        KubevirtKsm.Settings kv = d.kubevirt();
        JsonNode kn = k.get("kubevirt");
        if (section(f, "loops.ksm.kubevirt", kn, "pagesBoost", "pagesDecay", "pagesMin", "pagesMax", "pagesInit",
                "sleepMsBaseline", "freePercent") != null) {
            String p = "loops.ksm.kubevirt.";
            kv = new KubevirtKsm.Settings(integer(f, p + "pagesBoost", kn, kv.pagesBoost()),
                    integer(f, p + "pagesDecay", kn, kv.pagesDecay()), integer(f, p + "pagesMin", kn, kv.pagesMin()),
                    integer(f, p + "pagesMax", kn, kv.pagesMax()), integer(f, p + "pagesInit", kn, kv.pagesInit()),
                    integer(f, p + "sleepMsBaseline", kn, (int) kv.sleepMsBaseline()),
                    (float) number(f, p + "freePercent", kn, kv.freePercent()));
            if (kv.problem() != null) {
                throw InputException.field(f, "loops.ksm.kubevirt", kv.problem() + " (virt-handler's bounds)");
            }
        }
        Ksmtuned.Settings kt = d.ksmtuned();
        Pattern committed = d.committed();
        JsonNode tn = k.get("ksmtuned");
        if (section(f, "loops.ksm.ksmtuned", tn, "npagesBoost", "npagesDecay", "npagesMin", "npagesMax", "sleepMsec",
                "thresCoef", "thresConst", "committedProcesses") != null) {
            String p = "loops.ksm.ksmtuned.";
            kt = new Ksmtuned.Settings(integer(f, p + "npagesBoost", tn, kt.npagesBoost()),
                    integer(f, p + "npagesDecay", tn, kt.npagesDecay()), integer(f, p + "npagesMin", tn, kt.npagesMin()),
                    integer(f, p + "npagesMax", tn, kt.npagesMax()), integer(f, p + "sleepMsec", tn, (int) kt.sleepMsec()),
                    integer(f, p + "thresCoef", tn, kt.thresCoef()), integer(f, p + "thresConst", tn,
                    (int) kt.thresConst()));
            if (kt.problem() != null) {
                throw InputException.field(f, "loops.ksm.ksmtuned", kt.problem());
            }
            String re = YamlDocs.string(f, p + "committedProcesses", tn.get("committedProcesses"));
            if (re != null) {
                try {
                    committed = Pattern.compile(re);
                } catch (PatternSyntaxException e) {
                    throw InputException.field(f, p + "committedProcesses", "\"" + re + "\" is not a regular"
                            + " expression: " + e.getDescription());
                }
            }
        }
        return new AgentConfig.Ksm(orDefault(YamlDocs.bool(f, "loops.ksm.enabled", k.get("enabled")), d.enabled()),
                policy == null ? d.policy() : policy, period,
                orDefault(YamlDocs.bool(f, "loops.ksm.takeOver", k.get("takeOver")), d.takeOver()),
                duration(f, "loops.ksm.netLossHold", k.get("netLossHold"), d.netLossHold()), kv, kt, committed);
    }

    private static int integer(String f, String field, JsonNode section, int d) throws InputException {
        JsonNode v = section.get(field.substring(field.lastIndexOf('.') + 1));
        if (v == null || v.isNull()) {
            return d;
        }
        if (!v.isInt()) {
            throw InputException.field(f, field, "expected an integer, got " + v);
        }
        return v.intValue();
    }

    private static double number(String f, String field, JsonNode section, double d) throws InputException {
        JsonNode v = section.get(field.substring(field.lastIndexOf('.') + 1));
        if (v == null || v.isNull()) {
            return d;
        }
        if (!v.isNumber()) {
            throw InputException.field(f, field, "expected a number, got " + v);
        }
        return v.doubleValue();
    }

    private static AgentConfig.Guard guard(String f, JsonNode g, AgentConfig.Guard d) throws InputException {
        if (section(f, "loops.guard", g, "enabled", "softAvailable", "softGrace", "hardAvailable",
                "cooldown", "directAfter") == null) {
            return d;
        }
        AgentConfig.Threshold soft = threshold(f, "loops.guard.softAvailable", g.get("softAvailable"),
                d.softAvailable());
        AgentConfig.Threshold hard = threshold(f, "loops.guard.hardAvailable", g.get("hardAvailable"),
                d.hardAvailable());
        AgentConfig.Guard guard = new AgentConfig.Guard(orDefault(YamlDocs.bool(f, "loops.guard.enabled",
                g.get("enabled")), d.enabled()), soft, duration(f, "loops.guard.softGrace", g.get("softGrace"),
                d.softGrace()), hard, duration(f, "loops.guard.cooldown", g.get("cooldown"), d.cooldown()),
                duration(f, "loops.guard.directAfter", g.get("directAfter"), d.directAfter()));
        // comparable only when both are of the same kind; mixed kinds are checked against the node at start
        if (soft.percent() != null && hard.percent() != null && hard.percent() > soft.percent()
                || soft.bytes() != null && hard.bytes() != null && hard.bytes() > soft.bytes()) {
            throw InputException.field(f, "loops.guard.hardAvailable", hard.text()
                    + " is above loops.guard.softAvailable " + soft.text());
        }
        return guard;
    }

    private static boolean throttle(String f, JsonNode t, boolean d) throws InputException {
        if (section(f, "loops.throttle", t, "enabled") == null) {
            return d;
        }
        return orDefault(YamlDocs.bool(f, "loops.throttle.enabled", t.get("enabled")), d);
    }

    /** A present offload section starts from no stall targets (the Offload record fills in the default ones). */
    private static AgentConfig.Offload offload(String f, JsonNode o, AgentConfig.Offload d) throws InputException {
        if (section(f, "loops.offload", o, "enabled", "qosClasses", "stallTargets", "v1Method", "v2Method") == null) {
            return d;
        }
        Set<QosClass> classes = o.has("qosClasses") ? qosClasses(f, o.get("qosClasses")) : d.qosClasses();
        Map<QosClass, Double> targets = stallTargets(f, o.get("stallTargets"));
        LoopOptions.V1Offload v1 = parsed(f, "loops.offload.v1Method", o.get("v1Method"), d.v1Method(),
                LoopOptions.V1Offload::parse, (s, e) -> "\"" + s + "\" is not one of madvise, limit");
        LoopOptions.V2Offload v2 = parsed(f, "loops.offload.v2Method", o.get("v2Method"), d.v2Method(),
                LoopOptions.V2Offload::parse, (s, e) -> "\"" + s + "\" is not one of madvise, reclaim");
        return new AgentConfig.Offload(orDefault(YamlDocs.bool(f, "loops.offload.enabled", o.get("enabled")),
                d.enabled()), classes, targets, v1, v2);
    }

    private static Set<QosClass> qosClasses(String f, JsonNode n) throws InputException {
        Set<QosClass> classes = new LinkedHashSet<>();
        int i = 0;
        for (String c : YamlDocs.strings(f, "loops.offload.qosClasses", n)) {
            classes.add(qosClass(f, "loops.offload.qosClasses[" + i + "]", c));
            i++;
        }
        return classes;
    }

    /** {@code QoS class: N%} (above 0%, at most 50%) for each class named. */
    private static Map<QosClass, Double> stallTargets(String f, JsonNode st) throws InputException {
        Map<QosClass, Double> targets = new EnumMap<>(QosClass.class);
        YamlDocs.requireObject(f, "loops.offload.stallTargets", st);
        if (st == null || !st.isObject()) {
            return targets;
        }
        for (String c : st.propertyNames()) {
            String field = "loops.offload.stallTargets." + c;
            QosClass q = qosClass(f, field, c);
            String v = YamlDocs.string(f, field, st.get(c));
            double pct;
            try {
                if (v == null || !v.endsWith("%")) {
                    throw new NumberFormatException();
                }
                pct = Double.parseDouble(v.substring(0, v.length() - 1));
            } catch (NumberFormatException e) {
                throw InputException.field(f, field, "expected a percentage such as 1%, got " + st.get(c));
            }
            if (!(pct > 0 && pct <= 50)) {
                throw InputException.field(f, field, "\"" + v + "\" must be above 0% and at most 50%");
            }
            targets.put(q, pct);
        }
        return targets;
    }

    private static QosClass qosClass(String f, String field, String name) throws InputException {
        try {
            return QosClass.fromApiName(name);
        } catch (IllegalArgumentException e) {
            throw InputException.field(f, field, "\"" + name
                    + "\" is not a QoS class (Guaranteed, Burstable, BestEffort)");
        }
    }

    /**
     * A sub-mapping of the config with only the known keys, or null when it is absent (or null); anything else is an
     * error naming the field.
     */
    private static JsonNode section(String f, String field, JsonNode n, String... known) throws InputException {
        YamlDocs.requireObject(f, field, n);
        if (n == null || !n.isObject()) {
            return null;
        }
        YamlDocs.onlyKnown(f, field + ".", n, known);
        return n;
    }

    /** A string field through {@code parse}, {@code d} when absent; a value it refuses is the field's error. */
    private static <T> T parsed(String f, String field, JsonNode n, T d, Function<String, T> parse,
                                BiFunction<String, IllegalArgumentException, String> refusal) throws InputException {
        String s = YamlDocs.string(f, field, n);
        if (s == null) {
            return d;
        }
        try {
            return parse.apply(s);
        } catch (IllegalArgumentException e) {
            throw InputException.field(f, field, refusal.apply(s, e));
        }
    }

    private static AgentConfig.Kubernetes kubernetes(String f, JsonNode n) throws InputException {
        AgentConfig.Kubernetes d = AgentConfig.Kubernetes.DEFAULTS;
        if (section(f, "kubernetes", n, "enabled", "events", "evictions", "nodeLabel", "taintSwapNodes",
                "watchAllPods") == null) {
            return d;
        }
        AgentConfig.KubeMode mode = d.enabled();
        JsonNode e = n.get("enabled");
        if (e != null && !e.isNull()) {
            if (e.isBoolean()) {
                mode = e.booleanValue() ? AgentConfig.KubeMode.TRUE : AgentConfig.KubeMode.FALSE;
            } else if (e.isString() && e.stringValue().equals("auto")) {
                mode = AgentConfig.KubeMode.AUTO;
            } else {
                throw InputException.field(f, "kubernetes.enabled", "expected auto, true or false, got " + e);
            }
        }
        return new AgentConfig.Kubernetes(mode,
                orDefault(YamlDocs.bool(f, "kubernetes.events", n.get("events")), d.events()),
                orDefault(YamlDocs.bool(f, "kubernetes.evictions", n.get("evictions")), d.evictions()),
                orDefault(YamlDocs.bool(f, "kubernetes.nodeLabel", n.get("nodeLabel")), d.nodeLabel()),
                orDefault(YamlDocs.bool(f, "kubernetes.taintSwapNodes", n.get("taintSwapNodes")), d.taintSwapNodes()),
                orDefault(YamlDocs.bool(f, "kubernetes.watchAllPods", n.get("watchAllPods")), d.watchAllPods()));
    }

    private static AgentConfig.Threshold threshold(String f, String field, JsonNode n, AgentConfig.Threshold d)
            throws InputException {
        if (n == null || n.isNull()) {
            return d;
        }
        if (n.isString() && n.stringValue().endsWith("%")) {
            String t = n.stringValue();
            double pct;
            try {
                pct = Double.parseDouble(t.substring(0, t.length() - 1));
            } catch (NumberFormatException e) {
                throw InputException.field(f, field, "\"" + t + "\" is not a percentage such as 10%");
            }
            if (!(pct > 0 && pct < 100)) {
                throw InputException.field(f, field, "\"" + t + "\" must be above 0% and below 100%");
            }
            return new AgentConfig.Threshold(null, pct, t);
        }
        Long b = YamlDocs.quantity(f, field, n);
        if (b == 0) {
            throw InputException.field(f, field, "must be above 0");
        }
        return new AgentConfig.Threshold(b, null, n.asString());
    }

    private static Duration duration(String f, String field, JsonNode n, Duration d) throws InputException {
        String s = YamlDocs.string(f, field, n);
        if (s == null) {
            return d;
        }
        try {
            Duration v = YamlDocs.goDuration(s);
            if (v.isNegative()) {
                throw InputException.field(f, field, "\"" + s + "\" must not be negative");
            }
            return v;
        } catch (IllegalArgumentException e) {
            throw InputException.field(f, field, e.getMessage());
        }
    }

    private static boolean orDefault(Boolean b, boolean d) {
        return b == null ? d : b;
    }

    static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }
}
