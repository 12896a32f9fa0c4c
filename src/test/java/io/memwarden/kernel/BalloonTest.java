package io.memwarden.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Balloon} over fixture /proc and /sys trees laid out as the kernels we know write them. */
class BalloonTest {
    static final long KI = 1024;
    static final long MI = 1L << 20;

    @TempDir
    Path root;

    /** The build machines' virtio0: STATS_VQ, DEFLATE_ON_OOM, REPORTING, bit 7 (vendor), VERSION_1. */
    static final String BUILD_MACHINE_FEATURES =
            "0110010100000000000000000000000010000000000000000000000000000000"
                    + "0000000000000000000000000000000000000000000000000000000000000000";
    /** QEMU's virtio-balloon-pci defaults: STATS_VQ only (deflate-on-oom and free-page-reporting off), VERSION_1. */
    static final String QEMU_DEFAULT_FEATURES =
            "0100000000000000000000000000000010000000000000000000000000000000";

    void meminfo(long memTotalKib, Long balloonKib) throws IOException {
        Files.createDirectories(root.resolve("proc"));
        Files.writeString(root.resolve("proc/meminfo"), "MemTotal:       " + memTotalKib + " kB\n"
                + "MemFree:         1000 kB\nMemAvailable:    2000 kB\n"
                + (balloonKib == null ? "" : "Balloon:        " + balloonKib + " kB\n")
                + "HugePages_Total:       0\n");
    }

    void vmstat(String text) throws IOException {
        Files.createDirectories(root.resolve("proc"));
        Files.writeString(root.resolve("proc/vmstat"), "nr_free_pages 100\n" + text + "pswpin 7\n");
    }

    /** /sys/bus/virtio/devices/NAME with its device id, features and (when bound) a driver link. */
    void virtioDevice(String name, String id, String features, String driver) throws IOException {
        Path drivers = Files.createDirectories(root.resolve("sys/bus/virtio/drivers"));
        Path d = Files.createDirectories(root.resolve("sys/bus/virtio/devices/" + name));
        Files.writeString(d.resolve("device"), id + "\n");
        Files.writeString(d.resolve("features"), features + "\n");
        if (driver != null) {
            Path target = Files.createDirectories(drivers.resolve(driver));
            Files.createSymbolicLink(d.resolve("driver"), d.relativize(target));
        }
    }

    Balloon.Reading read() throws IOException {
        return Balloon.read(Balloon.Paths.under(root), 4096);
    }

    @Test
    void aMachineWithoutABalloonReadsAsNone() throws IOException {
        meminfo(2_000_000, null);
        vmstat("");
        virtioDevice("virtio1", "0x0002", "01", "virtio_blk");
        Balloon.Reading r = read();
        assertThat(r.present()).isFalse();
        assertThat(r.driver()).isEqualTo(Balloon.Driver.NONE);
        assertThat(r.memTotalBytes()).isEqualTo(2_000_000 * KI);
        assertThat(r.balloonBytes()).isEqualTo(-1);
        assertThat(r.source()).isEqualTo(Balloon.Source.NONE);
        assertThat(r.freePageReporting()).isFalse();
    }

    @Test
    void buildMachineLayoutVirtioWithDeflateOnOomReportingAndMeminfoBalloon() throws IOException {
        meminfo(24_000_000, 0L);
        vmstat("nr_balloon_pages 0\nballoon_inflate 0\nballoon_deflate 0\nballoon_migrate 0\n");
        virtioDevice("virtio0", "0x0005", BUILD_MACHINE_FEATURES, "virtio_balloon");
        virtioDevice("virtio1", "0x0002", "0010", "virtio_blk");
        Path params = Files.createDirectories(root.resolve("sys/module/page_reporting/parameters"));
        Files.writeString(params.resolve("page_reporting_order"), "9\n");
        Files.writeString(params.resolve("reported_kib"), "123456\n"); // vendor, not upstream
        Balloon.Reading r = read();
        assertThat(r.driver()).isEqualTo(Balloon.Driver.VIRTIO);
        assertThat(r.device()).isEqualTo("virtio0");
        assertThat(r.insideMemTotal()).as("DEFLATE_ON_OOM: MemTotal keeps the ballooned pages").isTrue();
        assertThat(r.freePageReporting()).isTrue();
        assertThat(r.pageReportingOrder()).isEqualTo(9);
        assertThat(r.reportedKib()).isEqualTo(123456L);
        assertThat(r.balloonBytes()).isZero();
        assertThat(r.source()).isEqualTo(Balloon.Source.MEMINFO);
    }

    @Test
    void meminfoBalloonWinsOverTheVmstatCounters() throws IOException {
        meminfo(1_000_000, 512 * KI);
        vmstat("nr_balloon_pages 1\nballoon_inflate 99\nballoon_deflate 0\n");
        virtioDevice("virtio0", "0x0005", QEMU_DEFAULT_FEATURES, "virtio_balloon");
        assertThat(read().balloonBytes()).isEqualTo(512 * MI);
        assertThat(read().source()).isEqualTo(Balloon.Source.MEMINFO);
    }

    @Test
    void nrBalloonPagesWithoutMeminfoLine() throws IOException {
        meminfo(1_000_000, null);
        vmstat("nr_balloon_pages 256\nballoon_inflate 999\nballoon_deflate 0\n");
        virtioDevice("virtio0", "0x0005", QEMU_DEFAULT_FEATURES, "virtio_balloon");
        assertThat(read().balloonBytes()).isEqualTo(MI);
        assertThat(read().source()).isEqualTo(Balloon.Source.NR_BALLOON_PAGES);
    }

    @Test
    void kernel612QemuDefaultsInflateMinusDeflateAndOutsideMemTotal() throws IOException {
        // the vm tier's guest: 6.12 has only the event counters; QEMU's defaults: no DEFLATE_ON_OOM, no reporting
        meminfo(1_000_000, null);
        vmstat("balloon_inflate 300000\nballoon_deflate 37856\nballoon_migrate 12\n");
        virtioDevice("virtio0", "0x0005", QEMU_DEFAULT_FEATURES, "virtio_balloon");
        Balloon.Reading r = read();
        assertThat(r.driver()).isEqualTo(Balloon.Driver.VIRTIO);
        assertThat(r.insideMemTotal()).as("without DEFLATE_ON_OOM the driver lowers MemTotal").isFalse();
        assertThat(r.freePageReporting()).isFalse();
        assertThat(r.balloonBytes()).isEqualTo((300000 - 37856) * 4096L);
        assertThat(r.source()).isEqualTo(Balloon.Source.INFLATE_DEFLATE);
    }

    @Test
    void aBalloonDeviceWithoutItsDriverTakesNothing() throws IOException {
        meminfo(1_000_000, null);
        vmstat("");
        virtioDevice("virtio0", "0x0005", QEMU_DEFAULT_FEATURES, null);
        assertThat(read().present()).isFalse();
    }

    @Test
    void vmwBalloonIsInsideMemTotalAndNeverReportsFreePages() throws IOException {
        meminfo(8_000_000, 1024L);
        vmstat("balloon_inflate 256\nballoon_deflate 0\n");
        Files.createDirectories(root.resolve("sys/module/vmw_balloon/parameters"));
        Balloon.Reading r = read();
        assertThat(r.driver()).isEqualTo(Balloon.Driver.VMW);
        assertThat(r.driver()).hasToString("vmw_balloon");
        assertThat(r.insideMemTotal()).isTrue();
        assertThat(r.freePageReporting()).isFalse();
        assertThat(r.balloonBytes()).isEqualTo(MI);
    }

    @Test
    void shortOrOddFeatureStringsAreNotFeatures() throws IOException {
        meminfo(1_000_000, null);
        vmstat("");
        virtioDevice("virtio0", "0x0005", "01", "virtio_balloon");
        Balloon.Reading r = read();
        assertThat(r.present()).isTrue();
        assertThat(r.insideMemTotal()).isFalse();
        assertThat(r.freePageReporting()).isFalse();
    }

    @Test
    void noMemTotalIsAnError() throws IOException {
        Files.createDirectories(root.resolve("proc"));
        Files.writeString(root.resolve("proc/meminfo"), "MemFree: 1 kB\n");
        assertThatThrownBy(this::read).isInstanceOf(IOException.class).hasMessageContaining("MemTotal");
    }

    @Test
    void theSystemPathsAreTheKernelsOwn() {
        Balloon.Paths p = Balloon.Paths.system();
        assertThat(p.meminfo()).isEqualTo(Path.of("/proc/meminfo"));
        assertThat(p.vmstat()).isEqualTo(Path.of("/proc/vmstat"));
        assertThat(p.virtioDevices()).isEqualTo(Path.of("/sys/bus/virtio/devices"));
        assertThat(p.vmwBalloonModule()).isEqualTo(Path.of("/sys/module/vmw_balloon"));
        assertThat(p.pageReportingParameters()).isEqualTo(Path.of("/sys/module/page_reporting/parameters"));
    }
}
