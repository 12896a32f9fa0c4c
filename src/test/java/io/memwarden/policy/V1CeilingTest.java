package io.memwarden.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link V1Ceiling}: the v1 ceiling moved by throttle relief keeps the container's swap allowance above it. */
class V1CeilingTest {
    static final long MI = 1L << 20;

    @Test
    void aFiniteMemswMovesWithTheCeilingKeepingTheSwapAllowance() {
        Map<String, String> applied = Map.of("memory.limit_in_bytes", Long.toString(256 * MI),
                "memory.memsw.limit_in_bytes", Long.toString(320 * MI));
        assertThat(V1Ceiling.files(300 * MI, applied)).containsExactly(
                Map.entry("memory.limit_in_bytes", Long.toString(300 * MI)),
                Map.entry("memory.memsw.limit_in_bytes", Long.toString(364 * MI)));
    }

    @Test
    void noSwapAllowanceStaysNone() {
        Map<String, String> applied = Map.of("memory.limit_in_bytes", Long.toString(256 * MI),
                "memory.memsw.limit_in_bytes", Long.toString(256 * MI));
        assertThat(V1Ceiling.files(320 * MI, applied)).containsEntry("memory.memsw.limit_in_bytes",
                Long.toString(320 * MI));
    }

    @Test
    void anUnlimitedOrUnknownMemswIsLeftAlone() {
        assertThat(V1Ceiling.files(320 * MI, Map.of("memory.limit_in_bytes", "268435456",
                "memory.memsw.limit_in_bytes", "-1"))).containsOnlyKeys("memory.limit_in_bytes");
        assertThat(V1Ceiling.files(320 * MI, Map.of("memory.limit_in_bytes", "268435456")))
                .containsOnlyKeys("memory.limit_in_bytes");
        assertThat(V1Ceiling.files(320 * MI, Map.of("memory.memsw.limit_in_bytes", "536870912")))
                .containsOnlyKeys("memory.limit_in_bytes");
    }
}
