package io.memwarden.input;

import io.memwarden.model.CgroupVersion;
import io.memwarden.model.NodeFacts;
import java.nio.file.Path;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * Reads NODE.yaml: {@code memoryCapacity} (required), {@code swapCapacity} (0), {@code cgroupVersion} (1|2, required),
 * {@code swapControllerAvailable} (true), {@code pageSize} (4096), {@code allocatableMemory}, {@code kernelVersion},
 * {@code architecture} (amd64|arm64|s390x, default amd64).
 */
public final class NodeFactsReader {
    private NodeFactsReader() {}

    /** The architectures KubeVirt builds for (Kubernetes' {@code kubernetes.io/arch} names). */
    static final List<String> ARCHITECTURES = List.of("amd64", "arm64", "s390x");

    public static NodeFacts read(Path path) throws InputException {
        return parse(path.toString(), YamlDocs.readOne(path));
    }

    public static NodeFacts parse(String f, JsonNode n) throws InputException {
        YamlDocs.onlyKnown(f, "", n, "memoryCapacity", "swapCapacity", "cgroupVersion", "swapControllerAvailable",
                "pageSize", "allocatableMemory", "kernelVersion", "architecture");
        Long mem = YamlDocs.quantity(f, "memoryCapacity", n.get("memoryCapacity"));
        if (mem == null) {
            throw InputException.field(f, "memoryCapacity", "is required (the node's MemTotal, e.g. 16Gi)");
        }
        if (mem == 0) {
            throw InputException.field(f, "memoryCapacity", "must be positive, got " + n.get("memoryCapacity"));
        }
        Long swap = YamlDocs.quantity(f, "swapCapacity", n.get("swapCapacity"));
        JsonNode cv = n.get("cgroupVersion");
        if (cv == null || cv.isNull()) {
            throw InputException.field(f, "cgroupVersion", "is required (1 or 2)");
        }
        CgroupVersion version;
        String cvText = cv.asString();
        if (cvText.equals("1") || cvText.equals("v1")) {
            version = CgroupVersion.V1;
        } else if (cvText.equals("2") || cvText.equals("v2")) {
            version = CgroupVersion.V2;
        } else {
            throw InputException.field(f, "cgroupVersion", "must be 1 or 2, got " + cv);
        }
        Boolean ctl = YamlDocs.bool(f, "swapControllerAvailable", n.get("swapControllerAvailable"));
        Long page = YamlDocs.quantity(f, "pageSize", n.get("pageSize"));
        if (page != null && (page <= 0 || Long.bitCount(page) != 1)) {
            throw InputException.field(f, "pageSize", "must be a positive power of two, got " + n.get("pageSize"));
        }
        Long alloc = YamlDocs.quantity(f, "allocatableMemory", n.get("allocatableMemory"));
        if (alloc != null && alloc > mem) {
            throw InputException.field(f, "allocatableMemory", alloc + " exceeds memoryCapacity " + mem);
        }
        JsonNode kv = n.get("kernelVersion");
        String kernel = kv == null || kv.isNull() ? null : kv.asString();
        String arch = YamlDocs.string(f, "architecture", n.get("architecture"));
        if (arch != null && !ARCHITECTURES.contains(arch)) {
            throw InputException.field(f, "architecture", "must be one of " + String.join(", ", ARCHITECTURES)
                    + ", got \"" + arch + "\"");
        }
        return new NodeFacts(mem, swap == null ? 0 : swap, version, ctl == null || ctl, page == null ? 4096 : page,
                alloc, kernel, arch);
    }
}
