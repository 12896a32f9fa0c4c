package io.memwarden.model;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Kernel release comparisons ("6.12.48+deb13-cloud-amd64" against major.minor), one rule for every check. */
public final class KernelRelease {
    private KernelRelease() {}

    private static final Pattern RELEASE = Pattern.compile("^(\\d+)\\.(\\d+)");

    /** Whether {@code release} is at least major.minor; false when it cannot be read. */
    public static boolean atLeast(String release, int major, int minor) {
        Matcher m = RELEASE.matcher(release == null ? "" : release);
        if (!m.find()) {
            return false;
        }
        int a = Integer.parseInt(m.group(1));
        int b = Integer.parseInt(m.group(2));
        return a > major || a == major && b >= minor;
    }

    /** Whether {@code release} is older than major.minor; false when it cannot be read (nothing to warn about). */
    public static boolean older(String release, int major, int minor) {
        return RELEASE.matcher(release == null ? "" : release).find() && !atLeast(release, major, minor);
    }
}
