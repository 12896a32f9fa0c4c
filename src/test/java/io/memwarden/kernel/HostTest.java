package io.memwarden.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostTest {

    @Test
    void effectiveUidIsTheSecondUidField() throws Exception {
        assertThat(Host.effectiveUid("Name:\tx\nUid:\t1000\t0\t0\t0\nGid:\t0\t0\t0\t0\n")).isZero();
        assertThat(Host.effectiveUid("Uid:\t0\t1000\t1000\t1000\n")).isEqualTo(1000);
        assertThatThrownBy(() -> Host.effectiveUid("Name:\tx\n")).hasMessageContaining("Uid");
    }

    @Test
    void requireRootNamesTheActionAndUid(@TempDir Path dir) throws Exception {
        FakeKernel k = new FakeKernel(dir);
        k.host().requireRoot("do it");
        k.uid(1000);
        assertThatThrownBy(() -> k.host().requireRoot("create swap file /x"))
                .isInstanceOfSatisfying(SwapDeviceException.class,
                        e -> assertThat(e.kind()).isEqualTo(SwapDeviceException.Kind.NOT_ROOT))
                .hasMessage("must run as root to create swap file /x (effective uid 1000)");
    }

    @Test
    void failedCommandsCarryTheirStderr(@TempDir Path dir) throws Exception {
        FakeKernel k = new FakeKernel(dir).fail("swapon", 255, "swapon: /x: swapon failed: Invalid argument\n");
        assertThatThrownBy(() -> k.host().run("swap file /x", "swapon", "/x"))
                .isInstanceOfSatisfying(SwapDeviceException.class,
                        e -> assertThat(e.kind()).isEqualTo(SwapDeviceException.Kind.COMMAND_FAILED))
                .hasMessage("swap file /x: `swapon /x` failed (exit 255): swapon: /x: swapon failed: Invalid argument");
        assertThat(k.calls).containsExactly(List.of("swapon", "/x"));
    }

    @Test
    void systemRunnerCapturesExitCodeAndBothStreams() throws Exception {
        CommandRunner.Result r = CommandRunner.SYSTEM.run(List.of("sh", "-c", "echo out; echo err >&2; exit 3"));
        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.stdout()).isEqualTo("out\n");
        assertThat(r.stderr()).isEqualTo("err\n");
    }
}
