package io.memwarden.agent;

import java.nio.file.Path;

/**
 * Where a container's memory cgroup is, from the cgroups path its runtime reports over NRI
 * ({@code LinuxContainer.cgroups_path}, nri-protocol.md): a cgroupfs path such as
 * {@code /kubepods/burstable/pod<uid>/<id>}, or the systemd form {@code slice:prefix:name} that runc expands to
 * {@code <slice hierarchy>/<prefix>-<name>.scope}, each slice {@code a-b-c.slice} nested as
 * {@code a.slice/a-b.slice/a-b-c.slice}.
 */
final class CgroupPaths {
    private CgroupPaths() {}

    /**
     * @param memoryRoot the memory controller's hierarchy root (v1 memory mount, or the cgroup2 mount)
     * @throws IllegalArgumentException when the path is empty, escapes the root, or is a malformed systemd path
     */
    public static Path resolve(Path memoryRoot, String cgroupsPath) {
        if (cgroupsPath == null || cgroupsPath.isBlank()) {
            throw new IllegalArgumentException("the runtime gave no cgroups path");
        }
        String rel;
        if (!cgroupsPath.startsWith("/") && cgroupsPath.indexOf(':') >= 0) {
            String[] parts = cgroupsPath.split(":", -1);
            if (parts.length != 3 || parts[2].isEmpty()) {
                throw new IllegalArgumentException("systemd cgroups path \"" + cgroupsPath
                        + "\" is not slice:prefix:name");
            }
            if (parts[2].endsWith(".slice")) {
                rel = expandSlice(parts[2]); // a slice names its own cgroup
            } else {
                String parent = expandSlice(parts[0].isEmpty() ? "system.slice" : parts[0]);
                String unit = (parts[1].isEmpty() ? parts[2] : parts[1] + "-" + parts[2]) + ".scope";
                rel = parent.isEmpty() ? unit : parent + "/" + unit;
            }
        } else {
            rel = cgroupsPath.startsWith("/") ? cgroupsPath.substring(1) : cgroupsPath;
        }
        Path root = memoryRoot.toAbsolutePath().normalize();
        Path p = root.resolve(rel).normalize();
        if (!p.startsWith(root) || p.equals(root)) {
            throw new IllegalArgumentException("cgroups path \"" + cgroupsPath + "\" is outside " + root);
        }
        return p;
    }

    /** {@code a-b-c.slice} → {@code a.slice/a-b.slice/a-b-c.slice}; {@code -.slice} is the root. */
    static String expandSlice(String slice) {
        if (!slice.endsWith(".slice")) {
            throw new IllegalArgumentException("\"" + slice + "\" is not a systemd slice name");
        }
        String name = slice.substring(0, slice.length() - ".slice".length());
        if (name.equals("-") || name.isEmpty()) {
            return "";
        }
        if (name.startsWith("-") || name.endsWith("-") || name.contains("--") || name.contains("/")) {
            throw new IllegalArgumentException("\"" + slice + "\" is not a valid systemd slice name");
        }
        StringBuilder out = new StringBuilder();
        int at = -1;
        while ((at = name.indexOf('-', at + 1)) >= 0) {
            out.append(name, 0, at).append(".slice/");
        }
        return out.append(slice).toString();
    }
}
