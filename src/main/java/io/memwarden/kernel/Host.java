package io.memwarden.kernel;

import io.memwarden.kernel.SwapDeviceException.Kind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Where this machine's kernel interfaces live, and how tools are run. {@link #system()} is the real machine; tests
 * point the paths into a temporary directory and fake the tools.
 *
 * @param procSwaps       /proc/swaps
 * @param procSelfStatus  /proc/self/status (its {@code Uid:} line gives the effective uid)
 * @param procMounts      /proc/mounts (to say what holds a busy zram device)
 * @param sysBlock        /sys/block
 * @param dev             /dev (block device nodes, as /proc/swaps names them)
 * @param zswapParameters /sys/module/zswap/parameters
 * @param commands        runs fallocate, dd, mkswap, swapon, swapoff
 */
public record Host(Path procSwaps, Path procSelfStatus, Path procMounts, Path sysBlock, Path dev,
        Path zswapParameters, CommandRunner commands) {

    public Host {
        Objects.requireNonNull(procSwaps, "procSwaps");
        Objects.requireNonNull(procSelfStatus, "procSelfStatus");
        Objects.requireNonNull(procMounts, "procMounts");
        Objects.requireNonNull(sysBlock, "sysBlock");
        Objects.requireNonNull(dev, "dev");
        Objects.requireNonNull(zswapParameters, "zswapParameters");
        Objects.requireNonNull(commands, "commands");
    }

    /** This machine. */
    public static Host system() {
        return new Host(ProcSwaps.PATH, Path.of("/proc/self/status"), Path.of("/proc/mounts"), Path.of("/sys/block"),
                Path.of("/dev"), Zswap.PARAMETERS, CommandRunner.SYSTEM);
    }

    /** The active swap areas. */
    public List<SwapArea> swaps() throws IOException {
        return ProcSwaps.read(procSwaps);
    }

    /** The effective uid, from the {@code Uid:} line of /proc/self/status (real, effective, saved, fs). */
    public int effectiveUid() throws IOException {
        return effectiveUid(Files.readString(procSelfStatus));
    }

    static int effectiveUid(String status) throws IOException {
        for (String line : status.split("\n")) {
            if (line.startsWith("Uid:")) {
                String[] f = line.substring(4).strip().split("\\s+");
                if (f.length >= 2) {
                    try {
                        return Integer.parseInt(f[1]);
                    } catch (NumberFormatException e) {
                        break;
                    }
                }
                break;
            }
        }
        throw new IOException("no readable Uid line in /proc/self/status");
    }

    /** Throws {@link Kind#NOT_ROOT} "must run as root to ACTION (effective uid N)" unless the effective uid is 0. */
    public void requireRoot(String action) throws SwapDeviceException {
        int uid;
        try {
            uid = effectiveUid();
        } catch (IOException e) {
            throw new SwapDeviceException(Kind.NOT_ROOT, "must run as root to " + action
                    + " (cannot read the effective uid: " + e.getMessage() + ")", e);
        }
        if (uid != 0) {
            throw new SwapDeviceException(Kind.NOT_ROOT, "must run as root to " + action + " (effective uid " + uid + ")");
        }
    }

    /**
     * Runs a tool; a non-zero exit becomes {@link Kind#COMMAND_FAILED} "SUBJECT: `CMD` failed (exit N): STDERR".
     */
    CommandRunner.Result run(String subject, String... command) throws SwapDeviceException {
        CommandRunner.Result r;
        try {
            r = commands.run(List.of(command));
        } catch (IOException e) {
            throw new SwapDeviceException(Kind.COMMAND_FAILED, subject + ": cannot run `" + String.join(" ", command)
                    + "`: " + e.getMessage(), e);
        }
        if (!r.ok()) {
            throw failed(subject, r);
        }
        return r;
    }

    static SwapDeviceException failed(String subject, CommandRunner.Result r) {
        List<String> said = new ArrayList<>();
        if (!r.stderr().isBlank()) {
            said.add(r.stderr().strip().replace('\n', ' '));
        }
        if (said.isEmpty() && !r.stdout().isBlank()) {
            said.add(r.stdout().strip().replace('\n', ' '));
        }
        return new SwapDeviceException(Kind.COMMAND_FAILED, subject + ": `" + String.join(" ", r.command())
                + "` failed (exit " + r.exitCode() + ")" + (said.isEmpty() ? "" : ": " + said.getFirst()));
    }
}
