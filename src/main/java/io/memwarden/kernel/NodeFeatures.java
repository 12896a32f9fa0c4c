package io.memwarden.kernel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The kernel features {@code memwarden doctor} reports beside {@code cgroup.HostProbe}'s facts, read below a root
 * directory (the node's "/" or a fixture tree). Read-only: files are read or tested with access(2), nothing is
 * written, opened for writing or mounted.
 *
 * @param swapFree      Σ (size − used) of the areas in /proc/swaps, bytes
 * @param mglru         /sys/kernel/mm/lru_gen/enabled ("0x0007"), null without MGLRU
 * @param kmsgReadable  /dev/kmsg passes access(R_OK) and, with dmesg_restrict=1, this process has CAP_SYSLOG
 * @param dmesgRestrict /proc/sys/kernel/dmesg_restrict is 1
 * @param ksmRun        /sys/kernel/mm/ksm/run, null without KSM
 * @param balloonDriver "virtio_balloon", "vmw_balloon", or null
 * @param effectiveUid  from /proc/self/status, -1 when unreadable
 */
public record NodeFeatures(long swapFree, String mglru, boolean kmsgReadable, boolean dmesgRestrict, Integer ksmRun,
                           String balloonDriver, int effectiveUid) {

    public static NodeFeatures read(Path root) throws IOException {
        long free = 0;
        Path swaps = root.resolve("proc/swaps");
        if (Files.exists(swaps)) {
            List<SwapArea> areas = ProcSwaps.read(swaps);
            for (SwapArea a : areas) {
                free += Math.max(0, a.size() - a.used());
            }
        }
        String mglru = firstLine(root.resolve("sys/kernel/mm/lru_gen/enabled"));
        Path kmsg = root.resolve(Kmsg.PATH.substring(1));
        boolean restrict = "1".equals(firstLine(root.resolve("proc/sys/kernel/dmesg_restrict")));
        Integer ksm = null;
        String run = firstLine(root.resolve("sys/kernel/mm/ksm/run"));
        if (run != null && run.matches("\\d+")) {
            ksm = Integer.parseInt(run);
        }
        Balloon.Reading b = Balloon.read(Balloon.Paths.under(root), 4096);
        int uid;
        Boolean capSyslog = null;
        try {
            String status = Files.readString(root.resolve("proc/self/status"));
            capSyslog = capSyslog(status);
            uid = Host.effectiveUid(status);
        } catch (IOException e) {
            uid = -1;
        }
        // access(2) passes for everyone on /dev/kmsg (0644); with dmesg_restrict=1 the kernel's open also wants
        // CAP_SYSLOG (unknown CapEff: root is taken to have it)
        boolean kmsgReadable = Files.exists(kmsg) && Files.isReadable(kmsg)
                && (!restrict || (capSyslog != null ? capSyslog : uid == 0));
        return new NodeFeatures(free, mglru, kmsgReadable, restrict, ksm, b.present() ? b.driver().toString() : null,
                uid);
    }

    /** CAP_SYSLOG (bit 34) in the CapEff line of /proc/self/status, or null without one. */
    static Boolean capSyslog(String status) {
        for (String line : status.split("\n")) {
            if (line.startsWith("CapEff:")) {
                try {
                    return (Long.parseUnsignedLong(line.substring(7).strip(), 16) & (1L << 34)) != 0;
                } catch (NumberFormatException e) {
                    return null;
                }
            }
        }
        return null;
    }

    private static String firstLine(Path p) throws IOException {
        if (!Files.isRegularFile(p) || !Files.isReadable(p)) {
            return null;
        }
        String s = Files.readString(p).strip();
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
