package io.memwarden.kernel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Read-only view of zswap's module parameters. There is deliberately no way to change them here: zswap's
 * initialisation on first enable cannot be undone.
 */
public final class Zswap {
    private Zswap() {}

    public static final Path PARAMETERS = Path.of("/sys/module/zswap/parameters");

    /**
     * zswap's parameters.
     *
     * @param enabled        {@code enabled} is Y
     * @param compressor     {@code compressor}, or null
     * @param maxPoolPercent {@code max_pool_percent}, or null
     * @param parameters     every readable parameter file, verbatim (trimmed)
     */
    public record Status(boolean enabled, String compressor, Integer maxPoolPercent, Map<String, String> parameters) {
        public Status {
            parameters = java.util.Collections.unmodifiableMap(new TreeMap<>(parameters));
        }
    }

    /** The parameters under {@code dir}, or empty when zswap is not built (the directory does not exist). */
    public static Optional<Status> read(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return Optional.empty();
        }
        Map<String, String> params = new TreeMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path f : s.sorted().toList()) {
                if (Files.isRegularFile(f) && Files.isReadable(f)) {
                    params.put(f.getFileName().toString(), Files.readString(f).strip());
                }
            }
        }
        return Optional.of(parse(params));
    }

    static Status parse(Map<String, String> params) {
        String enabled = params.get("enabled");
        Integer pool = null;
        String p = params.get("max_pool_percent");
        if (p != null) {
            try {
                pool = Integer.valueOf(p);
            } catch (NumberFormatException e) {
                pool = null;
            }
        }
        return new Status(enabled != null && (enabled.equals("Y") || enabled.equals("1")), params.get("compressor"),
                pool, params);
    }
}
