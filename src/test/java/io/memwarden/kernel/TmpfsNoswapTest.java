package io.memwarden.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** tmpfs noswap detection: a test mount as root (the kubelet's way), the kernel release otherwise. */
class TmpfsNoswapTest {
    @TempDir
    Path dir;

    Host host(int uid, CommandRunner commands) throws Exception {
        Path status = dir.resolve("status");
        Files.writeString(status, "Name:\tjava\nUid:\t" + uid + "\t" + uid + "\t" + uid + "\t" + uid + "\n");
        return new Host(dir.resolve("swaps"), status, dir.resolve("mounts"), dir, dir, dir, commands);
    }

    @Test
    void releases() {
        assertThat(TmpfsNoswap.releaseAtLeast("6.12.48+deb13-cloud-amd64", 6, 4)).isTrue();
        assertThat(TmpfsNoswap.releaseAtLeast("6.4.0", 6, 4)).isTrue();
        assertThat(TmpfsNoswap.releaseAtLeast("6.1.0-41-amd64", 6, 4)).isFalse();
        assertThat(TmpfsNoswap.releaseAtLeast("5.19.0", 6, 4)).isFalse();
        assertThat(TmpfsNoswap.releaseAtLeast("7.0", 6, 4)).isTrue();
        assertThat(TmpfsNoswap.releaseAtLeast("", 6, 4)).isFalse();
    }

    @Test
    void asRootATestMountDecidesAndIsUndone() throws Exception {
        List<List<String>> ran = new ArrayList<>();
        Path tmp = Files.createDirectory(dir.resolve("tmp"));
        var ok = TmpfsNoswap.detect(host(0, c -> {
            ran.add(c);
            return new CommandRunner.Result(c, 0, "", "");
        }), tmp, "6.1.0");
        assertThat(ok.supported()).as("the mount decides, not the release").isTrue();
        assertThat(ran).hasSize(2);
        assertThat(ran.get(0)).startsWith("mount", "-t", "tmpfs", "-o", "noswap,size=4k");
        assertThat(ran.get(1)).containsExactly("umount", ran.get(0).getLast());
        assertThat(tmp).isEmptyDirectory();

        ran.clear();
        var refused = TmpfsNoswap.detect(host(0, c -> {
            ran.add(c);
            return new CommandRunner.Result(c, 32, "", "mount: bad option\n");
        }), tmp, "6.12.0");
        assertThat(refused.supported()).isFalse();
        assertThat(refused.detection()).isEqualTo("a test tmpfs mount with noswap failed (kernel 6.12.0): mount: bad"
                + " option");
        assertThat(ran).hasSize(1);
        assertThat(tmp).isEmptyDirectory();
    }

    @Test
    void withoutRootTheRelease() throws Exception {
        CommandRunner never = c -> {
            throw new AssertionError("no command without root: " + c);
        };
        assertThat(TmpfsNoswap.detect(host(1000, never), dir, "6.12.0").supported()).isTrue();
        var old = TmpfsNoswap.detect(host(1000, never), dir, "6.1.0");
        assertThat(old.supported()).isFalse();
        assertThat(old.detection()).contains("6.1.0 < 6.4");
    }
}
