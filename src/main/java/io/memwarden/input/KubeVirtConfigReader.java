package io.memwarden.input;

import io.memwarden.policy.KubeVirtConfig;
import java.nio.file.Path;
import tools.jackson.databind.JsonNode;

/**
 * Reads the {@code kubevirt.io/v1} {@code KubeVirt} CR: {@code spec.configuration.developerConfiguration}
 * ({@code memoryOvercommit}, {@code cpuAllocationRatio}), {@code spec.configuration.additionalGuestMemoryOverheadRatio}
 * and {@code spec.configuration.virtualMachineOptions.disableSerialConsoleLog}; everything else in the CR is ignored.
 * Values KubeVirt's webhooks reject (overcommit below 10, a ratio below 1.0 or not a number) are errors naming the
 * field.
 */
public final class KubeVirtConfigReader {
    private KubeVirtConfigReader() {}

    public static KubeVirtConfig read(Path path) throws InputException {
        return parse(path.toString(), YamlDocs.readOne(path));
    }

    /** The KubeVirt CR as the Kubernetes API gives it (JSON); errors name {@code what} and the field. */
    public static KubeVirtConfig fromApi(String what, String json) throws InputException {
        JsonNode n;
        try {
            n = YamlDocs.MAPPER.readTree(json);
        } catch (RuntimeException e) {
            throw new InputException(what + ": not a JSON object");
        }
        if (n == null || !n.isObject()) {
            throw new InputException(what + ": not a JSON object");
        }
        return parse(what, n);
    }

    public static KubeVirtConfig parse(String f, JsonNode n) throws InputException {
        String kind = n.path("kind").asString("");
        String api = n.path("apiVersion").asString("");
        if (!kind.equals("KubeVirt") || !api.equals(VirtualMachineReader.API_VERSION)) {
            throw new InputException(f + ": expected a " + VirtualMachineReader.API_VERSION + " KubeVirt, got "
                    + (api.isEmpty() ? "no apiVersion" : api) + " " + (kind.isEmpty() ? "(no kind)" : kind));
        }
        String c = "spec.configuration.";
        JsonNode cfg = n.path("spec").path("configuration");
        YamlDocs.requireObject(f, "spec.configuration", n.path("spec").get("configuration"));
        JsonNode dev = cfg.path("developerConfiguration");
        YamlDocs.requireObject(f, c + "developerConfiguration", cfg.get("developerConfiguration"));
        int overcommit = integer(f, c + "developerConfiguration.memoryOvercommit", dev.get("memoryOvercommit"), 100);
        if (overcommit == 0) {
            overcommit = 100; // omitempty: 0 is the default
        }
        if (overcommit < 10) {
            throw InputException.field(f, c + "developerConfiguration.memoryOvercommit",
                    "must be at least 10 (percent), got " + overcommit);
        }
        int cpuRatio = integer(f, c + "developerConfiguration.cpuAllocationRatio", dev.get("cpuAllocationRatio"), 10);
        if (cpuRatio <= 0) {
            cpuRatio = 10;
        }
        String ratio = YamlDocs.string(f, c + "additionalGuestMemoryOverheadRatio",
                cfg.get("additionalGuestMemoryOverheadRatio"));
        if (ratio != null) {
            try {
                new KubeVirtConfig(overcommit, ratio, cpuRatio, false);
            } catch (IllegalArgumentException e) {
                throw InputException.field(f, c + "additionalGuestMemoryOverheadRatio",
                        "must be a decimal number of at least 1.0 (a string, e.g. \"1.2\"), got \"" + ratio + "\"");
            }
        }
        JsonNode vmo = cfg.path("virtualMachineOptions");
        boolean consoleLogOff = vmo.has("disableSerialConsoleLog") && !vmo.get("disableSerialConsoleLog").isNull();
        return new KubeVirtConfig(overcommit, ratio, cpuRatio, consoleLogOff);
    }

    private static int integer(String f, String field, JsonNode n, int dflt) throws InputException {
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            throw InputException.field(f, field, "expected an integer, got " + n);
        }
        return n.intValue();
    }
}
