package io.memwarden.kernel;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * KSM on this machine over re-rootable {@code /proc} and {@code /sys} (like node_exporter's {@code --path.procfs} and
 * {@code --path.sysfs}): the node's counters and settings in {@code SYSFS/kernel/mm/ksm/}, per-process
 * {@code PROCFS/PID/ksm_stat}, ksmd's CPU time from its {@code PROCFS/PID/stat}, and the {@code meminfo} lines the
 * tuners read. Mechanism only: it writes the one file it is told to and reads it back; it never decides.
 *
 * @param procfs the proc filesystem ({@code /proc})
 * @param sysfs  the sys filesystem ({@code /sys})
 */
public record Ksm(Path procfs, Path sysfs) {

    /** The settings a tuner may write (the rest, merge_across_nodes, use_zero_pages..., are left to the admin). */
    public static final Set<String> TUNED = Set.of("run", "pages_to_scan", "sleep_millisecs");

    /** USER_HZ: the unit of utime/stime in /proc/PID/stat, 100 on every Linux architecture memwarden runs on. */
    public static final int USER_HZ = 100;

    public Ksm {
        Objects.requireNonNull(procfs, "procfs");
        Objects.requireNonNull(sysfs, "sysfs");
    }

    public static Ksm system() {
        return new Ksm(Path.of("/proc"), Path.of("/sys"));
    }

    public Path dir() {
        return sysfs.resolve("kernel/mm/ksm");
    }

    /** Whether this kernel has KSM (the {@code run} file exists). */
    public boolean available() {
        return Files.isRegularFile(dir().resolve("run"));
    }

    /** Reads every single-line file of the KSM directory. */
    public KsmCounters read() throws IOException {
        Map<String, String> raw = new TreeMap<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir())) {
            for (Path p : files) {
                if (!Files.isRegularFile(p) || !Files.isReadable(p)) {
                    continue;
                }
                String v;
                try {
                    v = Files.readString(p, StandardCharsets.US_ASCII).strip();
                } catch (IOException e) {
                    continue; // write-only or vanished
                }
                if (!v.contains("\n")) {
                    raw.put(p.getFileName().toString(), v);
                }
            }
        } catch (NoSuchFileException e) {
            throw new IOException("no KSM on this kernel: " + dir() + " does not exist", e);
        }
        if (!raw.containsKey("run")) {
            throw new IOException("no KSM on this kernel: " + dir().resolve("run") + " is missing");
        }
        String advisor = raw.getOrDefault("advisor_mode", "");
        var m = Pattern.compile("\\[([^]]+)]").matcher(advisor);
        return new KsmCounters((int) num(raw, "run", 0), num(raw, "pages_to_scan", -1),
                num(raw, "sleep_millisecs", -1), num(raw, "pages_shared", 0), num(raw, "pages_sharing", 0),
                num(raw, "pages_unshared", 0), num(raw, "pages_volatile", 0), num(raw, "full_scans", 0),
                raw.containsKey("general_profit") ? num(raw, "general_profit", Long.MIN_VALUE) : Long.MIN_VALUE,
                num(raw, "ksm_zero_pages", -1), m.find() ? m.group(1) : advisor, raw);
    }

    private static long num(Map<String, String> raw, String name, long absent) {
        String v = raw.get(name);
        if (v == null) {
            return absent;
        }
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            return absent;
        }
    }

    /**
     * Writes one tuned setting and reads it back; a refusal or a different read-back is an IOException naming the
     * file and the value.
     */
    public void write(String name, long value) throws IOException {
        if (!TUNED.contains(name)) {
            throw new IllegalArgumentException("not a tuned KSM setting: " + name);
        }
        Path p = dir().resolve(name);
        try {
            Files.writeString(p, value + "\n", StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new IOException("cannot write " + value + " to " + p + ": " + e.getMessage(), e);
        }
        String back = Files.readString(p, StandardCharsets.US_ASCII).strip();
        if (!back.equals(Long.toString(value))) {
            throw new IOException("wrote " + value + " to " + p + " but it reads " + back);
        }
    }

    /** {@code PROCFS/PID/ksm_stat} and {@code ksm_merging_pages}. */
    public ProcessKsm process(int pid) throws IOException {
        Path d = procfs.resolve(Integer.toString(pid));
        String stat = Files.readString(d.resolve("ksm_stat"), StandardCharsets.US_ASCII);
        String merging = null;
        try {
            merging = Files.readString(d.resolve("ksm_merging_pages"), StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            // older kernels
        }
        return ProcessKsm.parse(pid, stat, merging);
    }

    /** ksmd's pid: the process whose comm is "ksmd", or -1 when none is found. */
    public int ksmdPid() throws IOException {
        try (DirectoryStream<Path> ps = Files.newDirectoryStream(procfs, p -> isPid(p.getFileName().toString()))) {
            for (Path p : ps) {
                try {
                    if (Files.readString(p.resolve("comm"), StandardCharsets.US_ASCII).strip().equals("ksmd")) {
                        return Integer.parseInt(p.getFileName().toString());
                    }
                } catch (IOException e) {
                    // exited
                }
            }
        }
        return -1;
    }

    /** CPU time (utime + stime) of {@code pid} in seconds, from {@code PROCFS/PID/stat}. */
    public double cpuSeconds(int pid) throws IOException {
        return cpuTicks(Files.readString(procfs.resolve(pid + "/stat"), StandardCharsets.US_ASCII))
                / (double) USER_HZ;
    }

    /** utime + stime (fields 14 and 15) of a /proc/PID/stat line; the comm in parentheses may hold spaces. */
    static long cpuTicks(String stat) throws IOException {
        int close = stat.lastIndexOf(')');
        if (close < 0) {
            throw new IOException("not a /proc/PID/stat line: " + stat);
        }
        String[] f = stat.substring(close + 1).strip().split("\\s+");
        // after the comm: field 3 (state) is f[0], so field N is f[N - 3]
        if (f.length < 13) {
            throw new IOException("short /proc/PID/stat line: " + stat);
        }
        try {
            return Long.parseLong(f[11]) + Long.parseLong(f[12]);
        } catch (NumberFormatException e) {
            throw new IOException("bad utime/stime in /proc/PID/stat: " + stat, e);
        }
    }

    /** The {@code PROCFS/meminfo} lines in kB, by name (MemTotal, MemAvailable, MemFree, Buffers, Cached...). */
    public Map<String, Long> meminfo() throws IOException {
        Map<String, Long> m = new LinkedHashMap<>();
        for (String line : Files.readAllLines(procfs.resolve("meminfo"), StandardCharsets.US_ASCII)) {
            int colon = line.indexOf(':');
            if (colon <= 0) {
                continue;
            }
            String[] v = line.substring(colon + 1).strip().split("\\s+");
            try {
                m.put(line.substring(0, colon), Long.parseLong(v[0]));
            } catch (NumberFormatException e) {
                // not a number: skip
            }
        }
        for (String need : new String[] {"MemTotal", "MemAvailable"}) {
            if (!m.containsKey(need)) {
                throw new IOException(procfs.resolve("meminfo") + " has no " + need + " line");
            }
        }
        return m;
    }

    /**
     * ksmtuned's "committed" memory: the sum of VmRSS (kB) of the processes whose comm matches {@code comm}
     * (ksmtuned: {@code ^qemu(-(kvm|system-.+)|:.{1,11})$} over pgrep, with ps's rsz).
     */
    public long rssKb(Pattern comm) throws IOException {
        long sum = 0;
        try (DirectoryStream<Path> ps = Files.newDirectoryStream(procfs, p -> isPid(p.getFileName().toString()))) {
            for (Path p : ps) {
                try {
                    if (!comm.matcher(Files.readString(p.resolve("comm"), StandardCharsets.UTF_8).strip()).find()) {
                        continue;
                    }
                    for (String line : Files.readAllLines(p.resolve("status"), StandardCharsets.UTF_8)) {
                        if (line.startsWith("VmRSS:")) {
                            sum += Long.parseLong(line.substring(6).strip().split("\\s+")[0]);
                            break;
                        }
                    }
                } catch (IOException | NumberFormatException e) {
                    // exited or unreadable: skip
                }
            }
        }
        return sum;
    }

    private static boolean isPid(String name) {
        if (name.isEmpty() || name.length() > 10) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            if (name.charAt(i) < '0' || name.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }
}
