package io.memwarden.runner;

import io.memwarden.cgroup.CgroupTree;
import io.memwarden.kernel.SwapDeviceException;
import io.memwarden.kernel.SwapFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What a {@code memwarden run} or {@code demo} killed with SIGKILL leaves behind, found and removed by the next one:
 * its cgroup tree ({@code memwarden-run-<pid>-<start>} below the memory cgroup it ran in) with the workload processes
 * still in it, and a demo's swap file ({@code /var/tmp/memwarden-demo-<pid>-<start>.swap}). Only names memwarden
 * writes are looked at, and only those whose owner ({@link RunOwner}) is no longer alive are taken: a run that is
 * still going is never touched.
 */
public final class Leftovers {
    private Leftovers() {}

    /** The prefix of a run's cgroup tree (then {@link RunOwner#name}). */
    public static final String RUN_PREFIX = "memwarden-run-";
    /** The prefix of a demo's swap file (then {@link RunOwner#name} and {@link #SWAP_SUFFIX}). */
    public static final String SWAP_PREFIX = "memwarden-demo-";
    public static final String SWAP_SUFFIX = ".swap";
    /** How long the SIGKILLed processes of one leftover tree may take to go. */
    static final Duration KILL_WAIT = Duration.ofSeconds(10);

    /**
     * Removes the abandoned run trees directly below {@code parent}: kills the processes still in them, removes the
     * cgroups. Returns one line per tree, saying what was reclaimed or why it could not be.
     */
    public static List<String> reclaimRuns(Path parent, boolean v2, Path proc) {
        List<String> out = new ArrayList<>();
        List<Path> entries;
        try (var s = Files.list(parent)) {
            entries = s.sorted().toList();
        } catch (IOException e) {
            return List.of("cannot list " + parent + " for leftovers of earlier runs: " + e.getMessage());
        }
        for (Path p : entries) {
            Optional<RunOwner> owner = RunOwner.parse(p.getFileName().toString(), RUN_PREFIX);
            if (owner.isEmpty() || !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) || owner.get().alive(proc)) {
                continue;
            }
            try {
                int killed = CgroupTree.removeAbandoned(p, v2, KILL_WAIT);
                out.add("reclaimed the cgroups " + p + " of an earlier run (pid " + owner.get().pid()
                        + ", no longer running): " + (killed == 0 ? "no process was left in them"
                        : "killed " + killed + " leftover process" + (killed == 1 ? "" : "es")) + ", removed them");
            } catch (IOException e) {
                out.add("could not reclaim the cgroups " + p + " of an earlier run (pid " + owner.get().pid() + "): "
                        + e.getMessage());
            }
        }
        return out;
    }

    /**
     * Removes the abandoned demo swap files in {@code dir}: a file still on as swap is switched off and deleted, one
     * that is not (killed before {@code swapon}, or after a reboot) is deleted. Only regular files are looked at.
     */
    public static List<String> reclaimSwapFiles(Path dir, SwapFiles swapFiles, Path proc) {
        List<String> out = new ArrayList<>();
        List<Path> entries;
        try (var s = Files.list(dir)) {
            entries = s.sorted().toList();
        } catch (IOException e) {
            return List.of("cannot list " + dir + " for swap files of earlier demos: " + e.getMessage());
        }
        for (Path p : entries) {
            String name = p.getFileName().toString();
            if (!name.endsWith(SWAP_SUFFIX)) {
                continue;
            }
            Optional<RunOwner> owner = RunOwner.parse(name.substring(0, name.length() - SWAP_SUFFIX.length()),
                    SWAP_PREFIX);
            if (owner.isEmpty() || !Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) || owner.get().alive(proc)) {
                continue;
            }
            try {
                boolean on = swapFiles.active(p).isPresent();
                if (on) {
                    swapFiles.remove(p);
                } else {
                    Files.delete(p);
                }
                out.add("reclaimed the swap file " + p + " of an earlier demo (pid " + owner.get().pid()
                        + ", no longer running): " + (on ? "switched off and deleted" : "deleted (it was not on)"));
            } catch (SwapDeviceException | IOException e) {
                out.add("could not reclaim the swap file " + p + " of an earlier demo (pid " + owner.get().pid()
                        + "): " + e.getMessage());
            }
        }
        return out;
    }
}
