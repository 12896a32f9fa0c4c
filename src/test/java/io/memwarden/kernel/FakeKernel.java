package io.memwarden.kernel;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A pretend machine under a temporary directory: /proc/swaps, /proc/self/status, /proc/mounts, /sys/block/zram0 and
 * zswap's parameters as files, and fake tools that record their calls. {@code swapon}/{@code swapoff} edit the fake
 * /proc/swaps the way the kernel would; {@code fallocate} and {@code dd} size the file. Any tool can be made to fail.
 */
public final class FakeKernel implements CommandRunner {

    public static final String HEADER = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n";

    public final Path root;
    public final List<List<String>> calls = new ArrayList<>();
    private final Map<String, Function<List<String>, Result>> overrides = new HashMap<>();

    public FakeKernel(Path root) throws IOException {
        this.root = root;
        Files.createDirectories(root.resolve("proc/self"));
        Files.writeString(root.resolve("proc/swaps"), HEADER);
        uid(0);
        Files.writeString(root.resolve("proc/mounts"), "/dev/vda / ext4 rw,relatime 0 0\n");
        Files.createDirectories(root.resolve("dev"));
        Path z = Files.createDirectories(root.resolve("sys/block/zram0"));
        Files.writeString(z.resolve("disksize"), "0\n");
        Files.writeString(z.resolve("comp_algorithm"), "[lzo-rle] lzo lz4 \n");
        Files.writeString(z.resolve("mm_stat"), "       0        0        0        0        0        0        0        0        0\n");
        Files.writeString(z.resolve("reset"), "");
        Files.createDirectories(root.resolve("sys/block/vda"));
        Path zs = Files.createDirectories(root.resolve("sys/module/zswap/parameters"));
        Files.writeString(zs.resolve("enabled"), "N\n");
        Files.writeString(zs.resolve("compressor"), "lzo\n");
        Files.writeString(zs.resolve("max_pool_percent"), "20\n");
        Files.writeString(zs.resolve("accept_threshold_percent"), "90\n");
    }

    public Host host() {
        return new Host(root.resolve("proc/swaps"), root.resolve("proc/self/status"), root.resolve("proc/mounts"),
                root.resolve("sys/block"), Path.of("/dev"), root.resolve("sys/module/zswap/parameters"), this);
    }

    public FakeKernel uid(int uid) throws IOException {
        Files.writeString(root.resolve("proc/self/status"),
                "Name:\tjava\nUmask:\t0022\nState:\tR (running)\nUid:\t" + uid + "\t" + uid + "\t" + uid + "\t" + uid
                        + "\nGid:\t0\t0\t0\t0\n");
        return this;
    }

    /** Makes {@code tool} answer with {@code exitCode} and {@code stderr} (and do nothing else). */
    public FakeKernel fail(String tool, int exitCode, String stderr) {
        overrides.put(tool, cmd -> new Result(cmd, exitCode, "", stderr));
        return this;
    }

    /** Makes {@code tool} do its work and then still answer with {@code exitCode} and {@code stderr}. */
    public FakeKernel failAfterwards(String tool, int exitCode, String stderr) {
        overrides.put(tool, cmd -> {
            try {
                act(cmd);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return new Result(cmd, exitCode, "", stderr);
        });
        return this;
    }

    public Path zram(String file) {
        return root.resolve("sys/block/zram0").resolve(file);
    }

    public String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public void write(Path p, String text) {
        try {
            Files.writeString(p, text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Adds a line to the fake /proc/swaps, escaping the path as the kernel does. */
    public void addSwap(String path, String type, long sizeKib, long usedKib, int priority) {
        String escaped = path.replace("\\", "\\134").replace(" ", "\\040").replace("\t", "\\011")
                .replace("\n", "\\012");
        write(root.resolve("proc/swaps"), read(root.resolve("proc/swaps"))
                + escaped + " ".repeat(Math.max(1, 40 - escaped.length())) // as the kernel pads: at least one space
                + String.format("%s\t\t%d\t\t%d\t\t%d%n", type, sizeKib, usedKib, priority));
    }

    public List<String> tools() {
        return calls.stream().map(List::getFirst).toList();
    }

    @Override
    public Result run(List<String> command) throws IOException {
        calls.add(List.copyOf(command));
        String tool = command.getFirst();
        if (overrides.containsKey(tool)) {
            return overrides.get(tool).apply(command);
        }
        act(command);
        return new Result(command, 0, tool.equals("mkswap") ? "Setting up swapspace version 1\n" : "", "");
    }

    private void act(List<String> command) throws IOException {
        String tool = command.getFirst();
        String target = command.getLast();
        switch (tool) {
            case "fallocate" -> {
                try (RandomAccessFile f = new RandomAccessFile(target, "rw")) {
                    f.setLength(Long.parseLong(command.get(2)));
                }
            }
            case "dd" -> {
                String of = command.stream().filter(a -> a.startsWith("of=")).findFirst().orElseThrow().substring(3);
                long count = Long.parseLong(command.stream().filter(a -> a.startsWith("count=")).findFirst()
                        .orElseThrow().substring(6));
                try (RandomAccessFile f = new RandomAccessFile(of, "rw")) {
                    f.setLength(count);
                }
            }
            case "mkswap" -> { }
            case "swapon" -> {
                int prio = command.size() == 4 ? Integer.parseInt(command.get(2)) : -2;
                boolean file = Files.isRegularFile(Path.of(target));
                long kib = file ? Files.size(Path.of(target)) / 1024 - 4
                        : Long.parseLong(read(zram("disksize")).strip()) / 1024 - 4;
                addSwap(target, file ? "file" : "partition", kib, 0, prio);
            }
            case "swapoff" -> {
                List<SwapArea> keep = ProcSwaps.parse(read(root.resolve("proc/swaps"))).stream()
                        .filter(a -> !a.path().equals(target)).toList();
                write(root.resolve("proc/swaps"), HEADER);
                keep.forEach(a -> addSwap(a.path(), a.type().procName(), a.size() / 1024, a.used() / 1024,
                        a.priority()));
            }
            default -> throw new IOException("fake kernel: unknown tool " + tool);
        }
    }
}
