package io.memwarden.input;

import io.memwarden.model.KubeQuantity;
import io.memwarden.model.Resources;
import io.memwarden.model.VmiSpec;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * Reads a {@code kubevirt.io/v1} {@code VirtualMachineInstance} (or a {@code VirtualMachine}'s
 * {@code spec.template.spec}) into a {@link VmiSpec}, field by field. A bad field is a {@link VmError} naming the field
 * and value; {@link PodManifestReader} turns it into that VM's error, and the other documents are still read. Values
 * KubeVirt's admission webhooks would reject (no memory at all, request above limit, guest above limit) are errors
 * here too; hugepages are not modelled yet and are reported as such.
 */
public final class VirtualMachineReader {
    private VirtualMachineReader() {}

    /**
     * A VirtualMachineInstance as the Kubernetes API gives it (JSON), e.g. for the agent's drift check.
     *
     * @param what names the object in the error ("VirtualMachineInstance ns/name from the API")
     * @throws InputException naming {@code what} and the field when the object is not a valid VMI
     */
    public static VmiSpec fromApi(String what, String json) throws InputException {
        JsonNode doc;
        try {
            doc = YamlDocs.MAPPER.readTree(json);
        } catch (RuntimeException e) {
            throw new InputException(what + ": not a JSON object");
        }
        if (doc == null || !doc.isObject() || !doc.path("kind").asString("").equals("VirtualMachineInstance")) {
            throw new InputException(what + ": not a VirtualMachineInstance");
        }
        try {
            return read(doc);
        } catch (VmError e) {
            throw new InputException(what + ": " + e.getMessage());
        }
    }

    static final String API_VERSION = "kubevirt.io/v1";
    static final List<String> KINDS = List.of("VirtualMachineInstance", "VirtualMachine");

    static final class VmError extends Exception {
        VmError(String field, String message) {
            super(field + ": " + message);
        }
    }

    /** @param doc a VirtualMachineInstance or VirtualMachine object (kind already checked) */
    static VmiSpec read(JsonNode doc) throws VmError {
        String kind = doc.path("kind").asString("");
        String api = doc.path("apiVersion").asString("");
        if (!api.equals(API_VERSION)) {
            throw new VmError("apiVersion", "expected " + API_VERSION + " for " + kind + ", got \"" + api + "\"");
        }
        JsonNode meta = doc.path("metadata");
        String name = meta.path("name").asString("");
        String ns = meta.path("namespace").asString("");
        String prefix = "spec.";
        JsonNode spec = doc.path("spec");
        if (kind.equals("VirtualMachine")) {
            prefix = "spec.template.spec.";
            spec = spec.path("template").path("spec");
        }
        if (!spec.isObject()) {
            throw new VmError(prefix.substring(0, prefix.length() - 1), "missing (a " + kind + " needs one)");
        }
        JsonNode domain = spec.path("domain");
        String d = prefix + "domain.";
        if (!domain.isObject()) {
            throw new VmError(prefix + "domain", "missing");
        }
        String arch = string(prefix + "architecture", spec.get("architecture"));
        if (arch != null && arch.isEmpty()) {
            arch = null;
        }
        if (arch != null && !NodeFactsReader.ARCHITECTURES.contains(arch)) {
            throw new VmError(prefix + "architecture", "must be one of " + String.join(", ",
                    NodeFactsReader.ARCHITECTURES) + ", got \"" + arch + "\"");
        }
        JsonNode res = domain.path("resources");
        KubeQuantity cpuReq = quantity(d + "resources.requests.cpu", res.path("requests").get("cpu"));
        KubeQuantity cpuLim = quantity(d + "resources.limits.cpu", res.path("limits").get("cpu"));
        Long memReq = bytes(d + "resources.requests.memory", res.path("requests").get("memory"));
        Long memLim = bytes(d + "resources.limits.memory", res.path("limits").get("memory"));
        Boolean ogo = bool(d + "resources.overcommitGuestOverhead", res.get("overcommitGuestOverhead"));
        if (memReq != null && memLim != null && memReq > memLim) {
            throw new VmError(d + "resources.requests.memory", memReq + " must be less than or equal to the memory limit "
                    + memLim);
        }
        if (cpuReq != null && cpuLim != null && cpuReq.compareTo(cpuLim) > 0) {
            throw new VmError(d + "resources.requests.cpu", cpuReq + " must be less than or equal to the cpu limit "
                    + cpuLim);
        }
        JsonNode memory = domain.path("memory");
        Long guest = bytes(d + "memory.guest", memory.get("guest"));
        if (memory.has("hugepages") && !memory.get("hugepages").isNull()) {
            throw new VmError(d + "memory.hugepages", "hugepages-backed VMs are not modelled by memwarden plan yet"
                    + " (docs/vm-nodes.md)");
        }
        Long added = bytes(d + "memory.reservedOverhead.addedOverhead",
                memory.path("reservedOverhead").get("addedOverhead"));
        if (guest == null && (memReq == null || memReq == 0) && (memLim == null || memLim == 0)) {
            throw new VmError(d + "resources.requests.memory", "no memory requested: set " + d + "memory.guest, "
                    + d + "resources.requests.memory or " + d + "resources.limits.memory");
        }
        if (guest != null && guest == 0) {
            throw new VmError(d + "memory.guest", "must be positive, got 0");
        }
        if (guest != null && memLim != null && memLim != 0 && guest > memLim) {
            throw new VmError(d + "memory.guest", guest + " must be less than or equal to the memory limit " + memLim);
        }
        VmiSpec.Cpu cpu = null;
        JsonNode c = domain.get("cpu");
        if (c != null && !c.isNull()) {
            if (!c.isObject()) {
                throw new VmError(d + "cpu", "expected a mapping, got " + c);
            }
            cpu = new VmiSpec.Cpu(count(d + "cpu.sockets", c.get("sockets")), count(d + "cpu.cores", c.get("cores")),
                    count(d + "cpu.threads", c.get("threads")),
                    Boolean.TRUE.equals(bool(d + "cpu.dedicatedCpuPlacement", c.get("dedicatedCpuPlacement"))));
        }
        JsonNode dev = domain.path("devices");
        boolean sriov = false;
        for (JsonNode i : dev.path("interfaces").values()) {
            sriov |= i.has("sriov") && !i.get("sriov").isNull();
        }
        boolean vfio = nonEmpty(dev.get("hostDevices")) || nonEmpty(dev.get("gpus")) || sriov;
        boolean downward = false;
        for (JsonNode v : spec.path("volumes").values()) {
            downward |= v.has("downwardMetrics") && !v.get("downwardMetrics").isNull();
        }
        JsonNode tpm = dev.get("tpm");
        boolean hasTpm = tpm != null && !tpm.isNull()
                && !Boolean.FALSE.equals(bool(d + "devices.tpm.enabled", tpm.get("enabled")));
        JsonNode ls = domain.path("launchSecurity");
        boolean sev = (ls.has("sev") && !ls.get("sev").isNull()) || (ls.has("snp") && !ls.get("snp").isNull());
        VmiSpec.Devices devices = new VmiSpec.Devices(
                bool(d + "devices.autoattachGraphicsDevice", dev.get("autoattachGraphicsDevice")), vfio, downward,
                exec(spec.get("livenessProbe")), exec(spec.get("readinessProbe")), sev, hasTpm,
                bool(d + "devices.logSerialConsole", dev.get("logSerialConsole")),
                bool(d + "devices.autoattachSerialConsole", dev.get("autoattachSerialConsole")));
        return new VmiSpec(ns, name, kind, arch, new Resources(cpuReq, cpuLim, memReq, memLim), guest, cpu, devices,
                added, Boolean.TRUE.equals(ogo),
                kind.equals("VirtualMachine") ? null : meta.path("uid").asString(null));
    }

    private static boolean exec(JsonNode probe) {
        return probe != null && probe.has("exec") && !probe.get("exec").isNull();
    }

    private static boolean nonEmpty(JsonNode list) {
        return list != null && list.isArray() && !list.isEmpty();
    }

    private static String string(String field, JsonNode n) throws VmError {
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isString()) {
            throw new VmError(field, "expected a string, got " + n);
        }
        return n.stringValue();
    }

    private static Boolean bool(String field, JsonNode n) throws VmError {
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isBoolean()) {
            throw new VmError(field, "expected true or false, got " + n);
        }
        return n.booleanValue();
    }

    private static long count(String field, JsonNode n) throws VmError {
        if (n == null || n.isNull()) {
            return 0;
        }
        if (!n.canConvertToInt() || !n.isIntegralNumber() || n.intValue() < 0) {
            throw new VmError(field, "expected a non-negative integer, got " + n);
        }
        return n.intValue();
    }

    private static KubeQuantity quantity(String field, JsonNode n) throws VmError {
        if (n == null || n.isNull()) {
            return null;
        }
        if (!(n.isString() || n.isNumber())) {
            throw new VmError(field, "expected a quantity such as 2Gi, got " + n);
        }
        String text = n.isString() ? n.stringValue() : n.asString();
        try {
            KubeQuantity q = KubeQuantity.parse(text);
            if (q.signum() < 0) {
                throw new VmError(field, "\"" + text + "\" must be greater than or equal to 0");
            }
            q.bytes(); // within int64
            return q;
        } catch (IllegalArgumentException e) {
            throw new VmError(field, e.getMessage());
        }
    }

    private static Long bytes(String field, JsonNode n) throws VmError {
        KubeQuantity q = quantity(field, n);
        return q == null ? null : q.bytes();
    }
}
