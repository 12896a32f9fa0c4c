package io.memwarden.cgroup;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Lists the container cgroups the kubelet and its runtime created under a memory controller's root: walks
 * {@code kubepods} (cgroupfs driver) and {@code kubepods.slice} (systemd driver) three levels deep and keeps the
 * directories {@link KubeletCgroupLayout#parse(String)} identifies as containers. Reads directory names only;
 * directories that vanish during the walk are skipped (containers come and go).
 */
public final class KubepodsScan {
    private KubepodsScan() {}

    /** A container cgroup found: its identity and its absolute directory. */
    public record Found(KubeletCgroupLayout.ContainerCgroup id, Path cgroup, Path podCgroup) {}

    /** The container cgroups below {@code memoryRoot}, in path order. */
    public static List<Found> scan(Path memoryRoot) throws IOException {
        List<Found> out = new ArrayList<>();
        for (String top : List.of("kubepods", "kubepods.slice")) {
            walk(memoryRoot, memoryRoot.resolve(top), 1, out);
        }
        out.sort(java.util.Comparator.comparing(f -> f.id().cgroup()));
        return out;
    }

    /** Whether a directory entry's name has a form of the kubelet's layouts (QoS, pod, slice, scope, container). */
    static boolean layoutName(String n) {
        return n.startsWith("pod") || n.equals("burstable") || n.equals("besteffort") || n.endsWith(".slice")
                || n.endsWith(".scope") || n.startsWith("crio-") || n.length() == 64 && n.chars().allMatch(
                        ch -> ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'f');
    }

    private static void walk(Path root, Path dir, int depth, List<Found> out) throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        // a cgroup directory holds dozens of control files: look only at names of the layouts' forms (a stat per
        // entry of every cgroup would be most of the scan's cost)
        try (DirectoryStream<Path> children = Files.newDirectoryStream(dir,
                c -> layoutName(c.getFileName().toString()) && Files.isDirectory(c))) {
            for (Path child : children) {
                String rel = root.relativize(child).toString();
                var id = KubeletCgroupLayout.parse(rel);
                if (id.isPresent()) {
                    out.add(new Found(id.get(), child, root.resolve(id.get().podCgroup())));
                } else if (depth < 3) {
                    walk(root, child, depth + 1, out);
                }
            }
        } catch (NoSuchFileException gone) {
            // removed while we looked: nothing below it any more
        }
    }
}
