package io.memwarden.cgroup;

import io.memwarden.model.CgroupFiles;
import io.memwarden.model.CgroupVersion;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Detects the host: which cgroup version holds the memory controller (v1, v2 or hybrid), where it is mounted,
 * this process's own memory cgroup, swap accounting, PSI, memory and swap totals, zram and zswap, kernel version.
 * Every path is resolved against a root so tests can point it at a fake tree.
 */
public final class HostProbe {
    private final Path root;

    public HostProbe(Path root) {
        this.root = root;
    }

    public static HostFacts probe() throws IOException {
        return new HostProbe(Path.of("/")).read();
    }

    private Path at(String absolute) {
        return root.resolve(absolute.substring(1));
    }

    public HostFacts read() throws IOException {
        // mountinfo: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS"
        Path v1Memory = null;
        String v1MemoryRoot = "/";
        Path unified = null;
        String unifiedRoot = "/";
        for (String line : Files.readAllLines(at("/proc/self/mountinfo"))) {
            String[] f = line.split(" ");
            int dash = List.of(f).indexOf("-");
            if (dash < 0 || dash + 3 >= f.length + 1) {
                continue;
            }
            String fstype = f[dash + 1];
            String superOpts = dash + 3 < f.length ? f[dash + 3] : "";
            if (fstype.equals("cgroup") && List.of(superOpts.split(",")).contains("memory")) {
                v1Memory = at(unescape(f[4]));
                v1MemoryRoot = unescape(f[3]);
            } else if (fstype.equals("cgroup2") && unified == null) {
                unified = at(unescape(f[4]));
                unifiedRoot = unescape(f[3]);
            }
        }
        String v1Path = null;
        String v2Path = null;
        for (String line : Files.readAllLines(at("/proc/self/cgroup"))) {
            String[] f = line.split(":", 3);
            if (f.length < 3) {
                continue;
            }
            if (f[0].equals("0") && f[1].isEmpty()) {
                v2Path = f[2];
            } else if (List.of(f[1].split(",")).contains("memory")) {
                v1Path = f[2];
            }
        }
        CgroupVersion version = null;
        Path mount = null;
        Path own = null;
        boolean swapAccounting = false;
        if (v1Memory != null && v1Path != null) {
            version = CgroupVersion.V1;
            mount = v1Memory;
            own = below(v1Memory, v1MemoryRoot, v1Path);
            swapAccounting = Files.exists(v1Memory.resolve(CgroupFiles.V1_MEMSW_LIMIT));
        } else if (unified != null && v2Path != null && controllers(unified).contains("memory")) {
            version = CgroupVersion.V2;
            mount = unified;
            own = below(unified, unifiedRoot, v2Path);
            // the kubelet's test is its own cgroup's memory.swap.max; the root cgroup has none, so there: the memory
            // controller is on and the kernel was not booted with swapaccount=0
            swapAccounting = Files.exists(own.resolve(CgroupFiles.MEMORY_SWAP_MAX)) || (own.equals(unified)
                    && !readOrEmpty(at("/proc/cmdline")).contains("swapaccount=0"));
        }
        boolean hybrid = version == CgroupVersion.V1 && unified != null;
        long memTotal = 0;
        long swapTotal = 0;
        for (String line : Files.readAllLines(at("/proc/meminfo"))) {
            if (line.startsWith("MemTotal:")) {
                memTotal = kib(line);
            } else if (line.startsWith("SwapTotal:")) {
                swapTotal = kib(line);
            }
        }
        List<String> swaps = new ArrayList<>();
        Path procSwaps = at("/proc/swaps");
        if (Files.exists(procSwaps)) {
            List<String> lines = Files.readAllLines(procSwaps);
            for (int i = 1; i < lines.size(); i++) {
                String l = lines.get(i).strip();
                if (!l.isEmpty()) {
                    swaps.add(unescape(l.split("\\s+")[0]));
                }
            }
        }
        List<String> zram = new ArrayList<>();
        Path block = at("/sys/block");
        if (Files.isDirectory(block)) {
            try (Stream<Path> s = Files.list(block)) {
                s.map(p -> p.getFileName().toString()).filter(n -> n.matches("zram[0-9]+")).sorted().forEach(zram::add);
            }
        }
        Boolean zswap = null;
        Path zs = at("/sys/module/zswap/parameters/enabled");
        if (Files.exists(zs)) {
            zswap = Files.readString(zs).strip().equals("Y");
        }
        Path osrelease = at("/proc/sys/kernel/osrelease");
        String kernel = Files.exists(osrelease) ? Files.readString(osrelease).strip() : null;
        return new HostFacts(version, hybrid, mount, own, unified, swapAccounting,
                Files.isReadable(at("/proc/pressure/memory")), memTotal, swapTotal, swaps, zram, zswap, kernel,
                pageSize());
    }

    private static String readOrEmpty(Path p) throws IOException {
        return Files.exists(p) ? Files.readString(p) : "";
    }

    private static Path below(Path mount, String mountRoot, String cgroupPath) {
        String rel = cgroupPath;
        if (!mountRoot.equals("/") && rel.startsWith(mountRoot)) {
            rel = rel.substring(mountRoot.length());
        }
        rel = rel.replaceAll("^/+", "");
        return rel.isEmpty() ? mount : mount.resolve(rel);
    }

    private static List<String> controllers(Path cgroup) throws IOException {
        Path f = cgroup.resolve(CgroupFiles.CGROUP_CONTROLLERS);
        return Files.exists(f) ? List.of(Files.readString(f).strip().split("\\s+")) : List.of();
    }

    private static long kib(String line) {
        String[] f = line.split("\\s+");
        return Long.parseLong(f[1]) * 1024;
    }

    private long pageSize() throws IOException {
        Path smaps = at("/proc/self/smaps");
        if (Files.exists(smaps)) {
            try (Stream<String> lines = Files.lines(smaps)) {
                var first = lines.filter(l -> l.startsWith("KernelPageSize:")).findFirst();
                if (first.isPresent()) {
                    return kib(first.get());
                }
            }
        }
        return 4096;
    }

    /** mountinfo and /proc/swaps escape space, tab, newline and backslash as octal. */
    static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length() + 0 && s.substring(i + 1, Math.min(i + 4, s.length())).matches("[0-7]{3}")) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
