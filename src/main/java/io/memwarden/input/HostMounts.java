package io.memwarden.input;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The mount table as this process sees it ({@code /proc/self/mountinfo}): which filesystem holds a path, for the NRI
 * plugin's question "is this bind mount's host source a tmpfs that may swap?" (an emptyDir of medium Memory, a secret
 * volume, a pod's /dev/shm). A path memwarden's mount namespace does not show (e.g. /var/lib/kubelet not mounted into
 * its container) is answered by the mount that holds it there: not a tmpfs.
 */
public final class HostMounts {
    /** One mountinfo line: mount point, filesystem type, super-block options. */
    public record Entry(String mountPoint, String fsType, List<String> superOptions) {}

    private final List<Entry> entries;

    private HostMounts(List<Entry> entries) {
        this.entries = List.copyOf(entries);
    }

    /** Reads {@code /proc/self/mountinfo} now; an unreadable table is an empty one (nothing is a tmpfs). */
    public static HostMounts read() {
        try {
            return parse(Files.readString(Path.of("/proc/self/mountinfo")));
        } catch (IOException e) {
            return new HostMounts(List.of());
        }
    }

    /** Whether {@code path} lies on a tmpfs mounted without {@code noswap}, by the mount table read now. */
    public static boolean swappableTmpfs(String path) {
        return read().swappableTmpfsAt(path);
    }

    /** mountinfo text (proc(5)): fields 5 (mount point) and, after the "-" separator, type, source, super options. */
    public static HostMounts parse(String mountinfo) {
        List<Entry> out = new ArrayList<>();
        for (String line : mountinfo.split("\n")) {
            String[] f = line.strip().split(" ");
            int sep = Arrays.asList(f).indexOf("-");
            if (f.length < 5 || sep < 6 || f.length < sep + 3) {
                continue; // not a mountinfo line
            }
            List<String> superOpts = f.length > sep + 3 ? List.of(f[sep + 3].split(",")) : List.of();
            out.add(new Entry(unescape(f[4]), f[sep + 1], superOpts));
        }
        return new HostMounts(out);
    }

    /** The mount holding {@code path} (the longest mount point that is it or a parent; the last such mounted). */
    public Entry holding(String path) {
        Entry best = null;
        for (Entry e : entries) {
            String mp = e.mountPoint();
            boolean holds = path.equals(mp) || mp.equals("/") && path.startsWith("/")
                    || path.startsWith(mp.endsWith("/") ? mp : mp + "/");
            if (holds && (best == null || mp.length() >= best.mountPoint().length())) {
                best = e;
            }
        }
        return best;
    }

    public boolean swappableTmpfsAt(String path) {
        if (path == null || !path.startsWith("/")) {
            return false;
        }
        Entry e = holding(Path.of(path).normalize().toString());
        return e != null && e.fsType().equals("tmpfs") && !e.superOptions().contains("noswap");
    }

    /** mountinfo escapes space, tab, newline and backslash as \ooo. */
    private static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length() && s.substring(i + 1, i + 4).matches("[0-7]{3}")) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
