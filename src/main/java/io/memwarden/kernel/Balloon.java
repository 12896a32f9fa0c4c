package io.memwarden.kernel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The guest side of a memory balloon, read only (kernel-and-vm.md §3): which balloon driver is bound, how large the
 * balloon is, and whether free page reporting is on. Every path comes from {@link Paths}, so tests read fixture trees.
 * <ul>
 *   <li><b>virtio_balloon</b>: a virtio device of id 5 under {@code /sys/bus/virtio/devices/virtioN} bound to the
 *       {@code virtio_balloon} driver. Its {@code features} string (bit i = character i) says
 *       {@code DEFLATE_ON_OOM} (bit 2: the balloon stays inside MemTotal; without it the driver lowers MemTotal
 *       by what it takes) and {@code REPORTING} (bit 5: free page reporting).</li>
 *   <li><b>vmw_balloon</b>: the module is loaded ({@code /sys/module/vmw_balloon}); MemTotal is unchanged, the
 *       balloon looks used.</li>
 * </ul>
 * The balloon's size, best source first: meminfo {@code Balloon:} (recent kernels), vmstat {@code nr_balloon_pages},
 * then vmstat {@code balloon_inflate − balloon_deflate} (pages, since boot; older kernels such as 6.12 have only
 * these). With none of them, a drop of MemTotal is the only sign; {@code control.BalloonWatch} keeps the
 * largest MemTotal seen for that. Free page reporting hands free pages to the host; the guest keeps no counter of it
 * upstream (some vendors add {@code reported_kib} under {@code /sys/module/page_reporting/parameters}).
 */
public final class Balloon {
    private Balloon() {}

    /** virtio device id of a memory balloon (VIRTIO_ID_BALLOON). */
    static final String VIRTIO_ID_BALLOON = "0x0005";
    static final int F_DEFLATE_ON_OOM = 2;
    static final int F_REPORTING = 5;

    /**
     * Where the balloon's files are.
     *
     * @param meminfo                 /proc/meminfo
     * @param vmstat                  /proc/vmstat
     * @param virtioDevices           /sys/bus/virtio/devices
     * @param vmwBalloonModule        /sys/module/vmw_balloon (exists while the module is loaded)
     * @param pageReportingParameters /sys/module/page_reporting/parameters
     */
    public record Paths(Path meminfo, Path vmstat, Path virtioDevices, Path vmwBalloonModule,
                        Path pageReportingParameters) {
        public static Paths system() {
            return under(Path.of("/"));
        }

        /** The same layout below {@code root} (a fixture tree, or a host's / mounted elsewhere). */
        public static Paths under(Path root) {
            return new Paths(root.resolve("proc/meminfo"), root.resolve("proc/vmstat"),
                    root.resolve("sys/bus/virtio/devices"), root.resolve("sys/module/vmw_balloon"),
                    root.resolve("sys/module/page_reporting/parameters"));
        }
    }

    public enum Driver {
        NONE("none"), VIRTIO("virtio_balloon"), VMW("vmw_balloon");

        private final String text;

        Driver(String text) {
            this.text = text;
        }

        @Override
        public String toString() {
            return text;
        }
    }

    /** Where {@link Reading#balloonBytes()} came from. */
    public enum Source {
        MEMINFO("meminfo Balloon"), NR_BALLOON_PAGES("vmstat nr_balloon_pages"),
        INFLATE_DEFLATE("vmstat balloon_inflate - balloon_deflate"), NONE("no balloon counter");

        private final String text;

        Source(String text) {
            this.text = text;
        }

        @Override
        public String toString() {
            return text;
        }
    }

    /**
     * One reading.
     *
     * @param device              the virtio device's name (virtio0), or null
     * @param insideMemTotal      the ballooned pages still count in MemTotal (vmw_balloon, virtio with
     *                            DEFLATE_ON_OOM); false: the driver took them out of MemTotal
     * @param freePageReporting   virtio REPORTING negotiated: the guest hands free pages to the host (not pressure)
     * @param pageReportingOrder  {@code page_reporting_order}, or null
     * @param reportedKib         a vendor's {@code reported_kib} counter, or null (upstream has none)
     * @param memTotalBytes       MemTotal
     * @param balloonBytes        the balloon's size, or -1 when no counter exists ({@link Source#NONE})
     */
    public record Reading(Driver driver, String device, boolean insideMemTotal, boolean freePageReporting,
                          Integer pageReportingOrder, Long reportedKib, long memTotalBytes, long balloonBytes,
                          Source source) {
        public boolean present() {
            return driver != Driver.NONE;
        }
    }

    /** Reads the balloon's state; a node without a balloon driver reads as {@link Driver#NONE}. */
    public static Reading read(Paths p, long pageSize) throws IOException {
        Map<String, Long> meminfo = keyed(Files.readString(p.meminfo()), true);
        Map<String, Long> vmstat = Files.isReadable(p.vmstat()) ? keyed(Files.readString(p.vmstat()), false)
                : Map.of();
        Driver driver = Driver.NONE;
        String device = null;
        boolean inside = false;
        boolean reporting = false;
        VirtioBalloon v = virtio(p.virtioDevices());
        if (v != null) {
            driver = Driver.VIRTIO;
            device = v.name();
            inside = v.feature(F_DEFLATE_ON_OOM);
            reporting = v.feature(F_REPORTING);
        } else if (Files.isDirectory(p.vmwBalloonModule())) {
            driver = Driver.VMW;
            inside = true;
        }
        Map<String, String> params = parameters(p.pageReportingParameters());
        return of(driver, device, inside, reporting, integer(params.get("page_reporting_order")),
                number(params.get("reported_kib")), meminfo, vmstat, pageSize);
    }

    static Reading of(Driver driver, String device, boolean inside, boolean reporting, Integer order, Long reportedKib,
                      Map<String, Long> meminfo, Map<String, Long> vmstat, long pageSize) throws IOException {
        Long memTotal = meminfo.get("MemTotal");
        if (memTotal == null) {
            throw new IOException("no MemTotal in meminfo");
        }
        long balloon = -1;
        Source source = Source.NONE;
        if (meminfo.containsKey("Balloon")) {
            balloon = meminfo.get("Balloon");
            source = Source.MEMINFO;
        } else if (vmstat.containsKey("nr_balloon_pages")) {
            balloon = vmstat.get("nr_balloon_pages") * pageSize;
            source = Source.NR_BALLOON_PAGES;
        } else if (vmstat.containsKey("balloon_inflate") && vmstat.containsKey("balloon_deflate")) {
            balloon = Math.max(0, vmstat.get("balloon_inflate") - vmstat.get("balloon_deflate")) * pageSize;
            source = Source.INFLATE_DEFLATE;
        }
        return new Reading(driver, device, inside, reporting && driver == Driver.VIRTIO, order, reportedKib, memTotal,
                balloon, source);
    }

    private record VirtioBalloon(String name, String features) {
        boolean feature(int bit) {
            return features.length() > bit && features.charAt(bit) == '1';
        }
    }

    /** The first virtio balloon device bound to the virtio_balloon driver, or null. */
    private static VirtioBalloon virtio(Path devices) throws IOException {
        if (!Files.isDirectory(devices)) {
            return null;
        }
        List<Path> all;
        try (Stream<Path> s = Files.list(devices)) {
            all = new ArrayList<>(s.sorted().toList());
        }
        for (Path d : all) {
            String id = readOrNull(d.resolve("device"));
            if (!VIRTIO_ID_BALLOON.equals(id)) {
                continue;
            }
            Path driver = d.resolve("driver");
            if (!Files.exists(driver) || !"virtio_balloon".equals(driverName(driver))) {
                continue; // a balloon device without its driver takes nothing
            }
            String features = readOrNull(d.resolve("features"));
            return new VirtioBalloon(d.getFileName().toString(), features == null ? "" : features);
        }
        return null;
    }

    private static String driverName(Path driver) throws IOException {
        Path target = Files.isSymbolicLink(driver) ? Files.readSymbolicLink(driver) : driver.toRealPath();
        Path name = target.getFileName();
        return name == null ? "" : name.toString();
    }

    private static Map<String, String> parameters(Path dir) throws IOException {
        Map<String, String> out = new TreeMap<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (Stream<Path> s = Files.list(dir)) {
            for (Path f : s.sorted().toList()) {
                String v = Files.isRegularFile(f) && Files.isReadable(f) ? readOrNull(f) : null;
                if (v != null) {
                    out.put(f.getFileName().toString(), v);
                }
            }
        }
        return out;
    }

    private static String readOrNull(Path f) throws IOException {
        try {
            return Files.readString(f).strip();
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            if (!Files.exists(f)) {
                return null;
            }
            throw e;
        }
    }

    private static Integer integer(String s) {
        Long n = number(s);
        return n == null || n > Integer.MAX_VALUE ? null : n.intValue();
    }

    private static Long number(String s) {
        if (s == null) {
            return null;
        }
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** meminfo ("Key:   123 kB", kB → bytes when {@code kb}) or vmstat ("key 123") as a map; odd lines skipped. */
    static Map<String, Long> keyed(String text, boolean meminfo) {
        Map<String, Long> m = new TreeMap<>();
        for (String line : text.split("\n")) {
            String[] f = meminfo ? line.split(":\\s*", 2) : line.strip().split("\\s+", 2);
            if (f.length != 2) {
                continue;
            }
            String[] v = f[1].strip().split("\\s+");
            try {
                long n = Long.parseLong(v[0]);
                m.put(f[0], meminfo && v.length > 1 && v[1].equals("kB") ? n * 1024 : n);
            } catch (NumberFormatException ignored) {
                // not a number
            }
        }
        return m;
    }
}
