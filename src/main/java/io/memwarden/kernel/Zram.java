package io.memwarden.kernel;

import io.memwarden.kernel.SwapDeviceException.Kind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * zram swap devices through /sys/block/zramN: set up (comp_algorithm, disksize, mkswap, swapon), reset, and read.
 * Mechanism only. Devices are never created ({@code hot_add}) or removed.
 */
public final class Zram {

    /** The priority zram swap gets unless told otherwise: above swap files and partitions. */
    public static final int DEFAULT_PRIORITY = 100;
    public static final String DEFAULT_DEVICE = "zram0";
    public static final String DEFAULT_ALGORITHM = "lzo-rle";

    private static final Pattern NAME = Pattern.compile("zram[0-9]{1,4}");
    private static final Pattern ALGORITHM = Pattern.compile("[a-z0-9][a-z0-9-]{0,63}");

    private final Host host;

    public Zram(Host host) {
        this.host = Objects.requireNonNull(host, "host");
    }

    /** Why {@code device} is not a zram device name ({@code zramN}), or null when it is. */
    public static String deviceProblem(String device) {
        return device != null && NAME.matcher(device).matches() ? null
                : "\"" + device + "\" is not a zram device name (expected zramN, e.g. zram0)";
    }

    /** Why {@code algorithm} cannot be a compression algorithm name, or null when it can. */
    public static String algorithmProblem(String algorithm) {
        return algorithm != null && ALGORITHM.matcher(algorithm).matches() ? null
                : "\"" + algorithm + "\" is not a compression algorithm name (e.g. lzo-rle, lz4, zstd)";
    }

    /** The zram devices under /sys/block, by number. */
    public List<String> devices() throws IOException {
        if (!Files.isDirectory(host.sysBlock())) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(host.sysBlock())) {
            return s.map(p -> p.getFileName().toString()).filter(n -> NAME.matcher(n).matches())
                    .sorted((a, b) -> Integer.compare(Integer.parseInt(a.substring(4)), Integer.parseInt(b.substring(4))))
                    .toList();
        }
    }

    /** Reads one device's disksize, comp_algorithm and mm_stat. */
    public ZramDevice read(String device) throws SwapDeviceException, IOException {
        Path dir = existing(device);
        List<String> algorithms = new ArrayList<>();
        String selected = parseAlgorithms(Files.readString(dir.resolve("comp_algorithm")), algorithms);
        return new ZramDevice(device, disksize(dir), selected, algorithms, stats(dir));
    }

    /** The device's mm_stat. */
    public ZramStats stats(String device) throws SwapDeviceException, IOException {
        return stats(existing(device));
    }

    private static ZramStats stats(Path dir) throws IOException {
        Path f = dir.resolve("mm_stat");
        try {
            return ZramStats.parse(Files.readString(f));
        } catch (IllegalArgumentException e) {
            throw new IOException(f + ": " + e.getMessage(), e);
        }
    }

    /**
     * Sets up {@code device} as swap: checks it exists, is not swap, has disksize 0 and offers {@code algorithm};
     * writes comp_algorithm and disksize, runs {@code mkswap /dev/zramN} and {@code swapon -p PRIORITY}. On a
     * failure after disksize was written, undoes (swapoff if on, write 1 to reset); if the disksize write itself
     * fails, only the previous algorithm is written back. An undo that fails is attached as a suppressed exception.
     *
     * @return the new area as /proc/swaps shows it
     */
    public SwapArea setup(String device, long size, String algorithm, int priority) throws SwapDeviceException {
        String problem = deviceProblem(device);
        if (problem != null) {
            throw new SwapDeviceException(Kind.INVALID, "zram device " + problem);
        }
        if ((problem = SwapArea.sizeProblem(size)) != null) {
            throw new SwapDeviceException(Kind.INVALID, device + ": size " + problem);
        }
        if ((problem = algorithmProblem(algorithm)) != null) {
            throw new SwapDeviceException(Kind.INVALID, device + ": algorithm " + problem);
        }
        if ((problem = SwapArea.priorityProblem(priority)) != null) {
            throw new SwapDeviceException(Kind.INVALID, device + ": priority " + problem);
        }
        host.requireRoot("set up " + device);
        Path dir = existing(device);
        String node = host.dev().resolve(device).toString();
        String previous;
        try {
            String busy = busy(device, dir, node);
            if (busy != null) {
                throw new SwapDeviceException(Kind.BUSY, device + " is busy: " + busy);
            }
            List<String> algorithms = new ArrayList<>();
            previous = parseAlgorithms(Files.readString(dir.resolve("comp_algorithm")), algorithms);
            if (!algorithms.contains(algorithm)) {
                throw new SwapDeviceException(Kind.INVALID, device + ": compression algorithm \"" + algorithm
                        + "\" is not available (available: " + String.join(", ", algorithms) + ")");
            }
        } catch (IOException e) {
            throw new SwapDeviceException(Kind.COMMAND_FAILED, device + ": " + e, e);
        }
        // Undo touches only what this call changed: until our disksize write succeeds the device may have been
        // initialised by someone else in the meantime (the kernel then refuses our writes with EBUSY), so it is
        // not reset; only the selected algorithm is put back.
        boolean initialised = false;
        try {
            write(device, dir.resolve("comp_algorithm"), algorithm);
            try {
                write(device, dir.resolve("disksize"), Long.toString(size));
            } catch (SwapDeviceException e) {
                if (previous != null && !previous.equals(algorithm)) {
                    try {
                        write(device + " (undo)", dir.resolve("comp_algorithm"), previous);
                    } catch (SwapDeviceException u) {
                        e.addSuppressed(u);
                    }
                }
                throw e;
            }
            initialised = true;
            host.run(device, "mkswap", node);
            host.run(device, "swapon", "-p", Integer.toString(priority), node);
            return ProcSwaps.find(host.swaps(), node).orElseThrow(() -> new SwapDeviceException(Kind.COMMAND_FAILED,
                    device + ": swapon succeeded but " + node + " is not in " + host.procSwaps()));
        } catch (SwapDeviceException e) {
            if (initialised) {
                undoSetup(device, dir, node, e);
            }
            throw e;
        } catch (IOException | RuntimeException e) {
            SwapDeviceException f = new SwapDeviceException(Kind.COMMAND_FAILED, device + ": " + e, e);
            if (initialised) {
                undoSetup(device, dir, node, f);
            }
            throw f;
        }
    }

    private void undoSetup(String device, Path dir, String node, SwapDeviceException failure) {
        try {
            if (ProcSwaps.find(host.swaps(), node).isPresent()) {
                host.run(device + " (undo)", "swapoff", node);
            }
            write(device + " (undo)", dir.resolve("reset"), "1");
        } catch (SwapDeviceException | IOException e) {
            failure.addSuppressed(e);
        }
    }

    /**
     * Turns {@code device} off (swapoff if it is active swap) and resets it (write 1 to reset: disksize 0, memory
     * freed). Refuses a mounted device.
     */
    public void reset(String device) throws SwapDeviceException {
        String problem = deviceProblem(device);
        if (problem != null) {
            throw new SwapDeviceException(Kind.INVALID, "zram device " + problem);
        }
        host.requireRoot("reset " + device);
        Path dir = existing(device);
        String node = host.dev().resolve(device).toString();
        try {
            if (ProcSwaps.find(host.swaps(), node).isPresent()) {
                host.run(device, "swapoff", node);
            }
            Optional<String> mount = mountPoint(node);
            if (mount.isPresent()) {
                throw new SwapDeviceException(Kind.BUSY, device + " is busy: mounted at " + mount.get()
                        + "; refusing to reset it");
            }
        } catch (IOException e) {
            throw new SwapDeviceException(Kind.COMMAND_FAILED, device + ": " + e, e);
        }
        write(device, dir.resolve("reset"), "1");
    }

    /** What uses the device, or null when it is free (not swap, not mounted, disksize 0). */
    private String busy(String device, Path dir, String node) throws IOException {
        Optional<SwapArea> swap = ProcSwaps.find(host.swaps(), node);
        if (swap.isPresent()) {
            return "active swap (" + host.procSwaps() + ": " + node + " priority " + swap.get().priority() + ", "
                    + swap.get().used() + " bytes used); reset it first";
        }
        Optional<String> mount = mountPoint(node);
        if (mount.isPresent()) {
            return "mounted at " + mount.get();
        }
        long size = disksize(dir);
        if (size != 0) {
            return "already initialised (disksize " + size + ", not swap, not mounted: another user may hold it)";
        }
        return null;
    }

    private Optional<String> mountPoint(String node) throws IOException {
        if (!Files.isReadable(host.procMounts())) {
            return Optional.empty();
        }
        for (String line : Files.readAllLines(host.procMounts())) {
            String[] f = line.split(" ");
            if (f.length >= 2 && f[0].equals(node)) {
                return Optional.of(ProcSwaps.unescape(f[1]));
            }
        }
        return Optional.empty();
    }

    private Path existing(String device) throws SwapDeviceException {
        String problem = deviceProblem(device);
        if (problem != null) {
            throw new SwapDeviceException(Kind.INVALID, "zram device " + problem);
        }
        Path dir = host.sysBlock().resolve(device);
        if (!Files.isDirectory(dir)) {
            throw new SwapDeviceException(Kind.NOT_FOUND, device + ": no such device (" + dir
                    + " does not exist; is the zram module loaded with enough devices?)");
        }
        return dir;
    }

    private static long disksize(Path dir) throws IOException {
        Path f = dir.resolve("disksize");
        String s = Files.readString(f).strip();
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new IOException(f + ": \"" + s + "\" is not a number", e);
        }
    }

    private static void write(String subject, Path file, String value) throws SwapDeviceException {
        try {
            Files.writeString(file, value);
        } catch (IOException e) {
            throw new SwapDeviceException(Kind.COMMAND_FAILED, subject + ": writing \"" + value + "\" to " + file
                    + " failed: " + e, e);
        }
    }

    /** Parses comp_algorithm ({@code [lzo-rle] lzo lz4}) into {@code into}; returns the bracketed one, or null. */
    static String parseAlgorithms(String text, List<String> into) {
        String selected = null;
        for (String w : text.strip().split("\\s+")) {
            if (w.isEmpty()) {
                continue;
            }
            if (w.startsWith("[") && w.endsWith("]")) {
                w = w.substring(1, w.length() - 1);
                selected = w;
            }
            into.add(w);
        }
        return selected;
    }
}
