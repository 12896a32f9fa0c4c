package io.memwarden.kernel;

import java.util.List;
import java.util.Objects;

/**
 * A zram device as /sys/block/zramN shows it.
 *
 * @param name       e.g. {@code zram0}
 * @param disksize   bytes; 0 = not initialised
 * @param algorithm  the selected compression algorithm (the bracketed one in comp_algorithm)
 * @param algorithms every algorithm comp_algorithm lists
 * @param stats      mm_stat
 */
public record ZramDevice(String name, long disksize, String algorithm, List<String> algorithms, ZramStats stats) {
    public ZramDevice {
        Objects.requireNonNull(name, "name");
        algorithms = List.copyOf(algorithms);
    }
}
