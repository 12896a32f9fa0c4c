package io.memwarden.kernel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import io.memwarden.model.KernelRelease;
import java.util.List;

/**
 * Whether this kernel mounts tmpfs with {@code noswap} (Linux 6.4+), found as the kubelet finds it
 * (kubelet-semantics.md §1): as root, a test tmpfs mount with {@code noswap} in a private temporary directory,
 * unmounted at once; without root, the kernel release ≥ 6.4.
 */
public final class TmpfsNoswap {

    private TmpfsNoswap() {}

    /** The answer and how it was found (for reasons and logs). */
    public record Support(boolean supported, String detection) {}

    /** This machine: /proc/sys/kernel/osrelease, the JVM's temporary directory for the test mount. */
    public static Support detect() {
        String release;
        try {
            release = Files.readString(Path.of("/proc/sys/kernel/osrelease")).strip();
        } catch (IOException e) {
            release = "";
        }
        return detect(Host.system(), Path.of(System.getProperty("java.io.tmpdir")), release);
    }

    /**
     * @param tmpParent where the test mount's private directory is made (and removed)
     * @param release   the kernel release (uname -r)
     */
    public static Support detect(Host host, Path tmpParent, String release) {
        boolean root;
        try {
            root = host.effectiveUid() == 0;
        } catch (IOException e) {
            root = false;
        }
        if (!root) {
            return byRelease(release, "not root, so no test mount");
        }
        Path dir = null;
        boolean mounted = false;
        try {
            dir = Files.createTempDirectory(tmpParent, "memwarden-noswap-probe-");
            CommandRunner.Result r = host.commands().run(List.of("mount", "-t", "tmpfs", "-o",
                    "noswap,size=4k", "memwarden-noswap-probe", dir.toString()));
            mounted = r.ok();
            if (mounted) {
                return new Support(true, "a test tmpfs mount with noswap succeeded (kernel " + release + ")");
            }
            String said = r.stderr().strip().replace('\n', ' ');
            return new Support(false, "a test tmpfs mount with noswap failed (kernel " + release + ")"
                    + (said.isEmpty() ? "" : ": " + said));
        } catch (IOException e) {
            boolean at = releaseAtLeast(release, 6, 4);
            return new Support(at, "kernel " + release + (at ? " ≥ 6.4" : " < 6.4") + " (the test mount could not"
                    + " run: " + e.getMessage() + ")");
        } finally {
            if (mounted) {
                try {
                    host.commands().run(List.of("umount", dir.toString()));
                } catch (IOException ignored) {
                    // the directory stays: removing it below fails while it is a mount point
                }
            }
            if (dir != null) {
                try {
                    Files.deleteIfExists(dir);
                } catch (IOException ignored) {
                    // still mounted; nothing more to do here
                }
            }
        }
    }

    /**
     * The read-only answer, the kernel-version rule (noswap arrived in 6.4): what {@link #detect} says without root,
     * and what {@code memwarden doctor} says (it never mounts).
     */
    public static Support byRelease(String release, String why) {
        boolean at = releaseAtLeast(release, 6, 4);
        return new Support(at, "kernel " + release + (at ? " ≥ 6.4" : " < 6.4") + " (tmpfs noswap; " + why + ")");
    }

    /** Whether {@code release} ("6.12.48+deb13-cloud-amd64") is at least major.minor. */
    public static boolean releaseAtLeast(String release, int major, int minor) {
        return KernelRelease.atLeast(release, major, minor);
    }
}
