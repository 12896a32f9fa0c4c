package io.memwarden.runner;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The process that owns a run's leftovers-to-be (its cgroup tree, a demo's swap file): its pid and its start time in
 * clock ticks since boot ({@code /proc/PID/stat} field 22), written into the names it creates
 * ({@code memwarden-run-<pid>-<start>}). A pid alone is not enough: after a crash the pid can be reused, and a live
 * process with the same pid but another start time is not the owner. Names of older versions carry the pid alone
 * ({@code startTicks} = {@link #UNKNOWN}): they count as owned while any process has that pid.
 */
public record RunOwner(long pid, long startTicks) {
    /** The start time of a name written by an older version (pid only). */
    public static final long UNKNOWN = -1;

    private static final Pattern NAME = Pattern.compile("([1-9][0-9]{0,9})(?:-(0|[1-9][0-9]{0,18}))?");

    public RunOwner {
        if (pid <= 0) {
            throw new IllegalArgumentException("pid " + pid + " is not positive");
        }
        if (startTicks < UNKNOWN) {
            throw new IllegalArgumentException("start time " + startTicks + " is negative");
        }
    }

    /** This JVM. */
    public static RunOwner current() throws IOException {
        long pid = ProcessHandle.current().pid();
        return new RunOwner(pid, startTicks(Path.of("/proc"), pid).orElseThrow(
                () -> new IOException("/proc/" + pid + "/stat: cannot read this process's start time")));
    }

    /** {@code prefix + pid + "-" + start} (a cgroup or file name: no '/'). */
    public String name(String prefix) {
        return prefix + pid + (startTicks == UNKNOWN ? "" : "-" + startTicks);
    }

    /**
     * The owner a name written by {@link #name} gives, or empty when the name is not one: another prefix, no pid, a
     * pid of more than 10 digits, anything after the start time. Never throws on any name.
     */
    public static Optional<RunOwner> parse(String name, String prefix) {
        if (name == null || !name.startsWith(prefix)) {
            return Optional.empty();
        }
        Matcher m = NAME.matcher(name.substring(prefix.length()));
        if (!m.matches()) {
            return Optional.empty();
        }
        long pid = Long.parseLong(m.group(1));
        long start = UNKNOWN;
        if (m.group(2) != null) {
            // up to 19 digits can still overflow a long: such a name is not ours
            try {
                start = Long.parseLong(m.group(2));
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        }
        return Optional.of(new RunOwner(pid, start));
    }

    /**
     * Whether this owner still runs: a process with its pid exists and (when the name recorded it) started at the
     * same tick. A process that exists but whose start time cannot be read counts as alive (nothing is taken from a
     * process memwarden cannot identify).
     */
    public boolean alive(Path proc) {
        if (!Files.isDirectory(proc.resolve(Long.toString(pid)))) {
            return false;
        }
        if (startTicks == UNKNOWN) {
            return true;
        }
        try {
            Optional<Long> now = startTicks(proc, pid);
            return now.isEmpty() || now.get() == startTicks;
        } catch (IOException e) {
            return true;
        }
    }

    /** The start time of {@code pid} from {@code proc/PID/stat}; empty when the process is gone. */
    static Optional<Long> startTicks(Path proc, long pid) throws IOException {
        String stat;
        try {
            stat = Files.readString(proc.resolve(Long.toString(pid)).resolve("stat"));
        } catch (java.nio.file.NoSuchFileException e) {
            return Optional.empty();
        }
        return startTicks(stat);
    }

    /**
     * Field 22 (starttime) of a {@code /proc/PID/stat} line, or empty when the line does not have one. The second
     * field (the command name, in parentheses) may hold any character, ')' and blanks included, so fields are
     * counted after the last ')'.
     */
    static Optional<Long> startTicks(String stat) {
        int close = stat.lastIndexOf(')');
        if (close < 0) {
            return Optional.empty();
        }
        String[] f = stat.substring(close + 1).strip().split("\\s+");
        // f[0] is field 3 (state): field 22 is f[19]
        if (f.length < 20 || !f[19].matches("[0-9]{1,19}")) {
            return Optional.empty();
        }
        try {
            return Optional.of(Long.parseLong(f[19]));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }
}
