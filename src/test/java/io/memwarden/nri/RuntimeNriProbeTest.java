package io.memwarden.nri;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** containerd config.toml as doctor reads it: the NRI plugin's {@code disable} and the config version. */
class RuntimeNriProbeTest {
    @Test
    void disabledInAVersion2Config() {
        assertThat(RuntimeNriProbe.parseConfig("""
                version = 2
                [plugins]
                  [plugins."io.containerd.nri.v1.nri"]
                    disable = true
                    socket_path = "/var/run/nri/nri.sock"
                  [plugins."io.containerd.grpc.v1.cri"]
                    disable = false
                """)).containsExactly("DISABLED", "2");
    }

    @Test
    void enabledInAVersion3Config() {
        assertThat(RuntimeNriProbe.parseConfig("version = 3\n[plugins.'x']\n[plugins.\"io.containerd.nri.v1.nri\"]"
                + "  # comment\n  disable = false # on\n")).containsExactly("ENABLED", "3");
    }

    @Test
    void notSetWhenTheSectionIsAbsentOrOnlyAnotherPluginIsDisabled() {
        assertThat(RuntimeNriProbe.parseConfig("version = 2\n[plugins.\"io.containerd.grpc.v1.cri\"]\n"
                + "  disable = true\n")).containsExactly("NOT_SET", "2");
        assertThat(RuntimeNriProbe.parseConfig("")).containsExactly("NOT_SET", "0");
    }
}
