package io.memwarden.loops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.memwarden.control.PressureGuard;
import java.util.Set;
import org.junit.jupiter.api.Test;

class OffloadMethodTest {

    @Test
    void v2MethodsParseAndBadValuesAreNamed() {
        assertThat(LoopOptions.V2Offload.parse("madvise")).isEqualTo(LoopOptions.V2Offload.MADVISE);
        assertThat(LoopOptions.V2Offload.parse("reclaim")).isEqualTo(LoopOptions.V2Offload.RECLAIM);
        assertThatThrownBy(() -> LoopOptions.V2Offload.parse("limit")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("v2 offload method must be madvise or reclaim, got \"limit\"");
        assertThatThrownBy(() -> LoopOptions.V2Offload.parse("MADVISE"))
                .hasMessageContaining("got \"MADVISE\"");
    }

    @Test
    void optionsDefaultToColdRangesOnV1AndMemoryReclaimOnV2AndRequireAMethod() {
        var guard = PressureGuard.Config.defaults(1L << 30);
        var o = new LoopOptions(false, false, true, false, guard, Set.of(), null);
        assertThat(o.v1Offload()).isEqualTo(LoopOptions.V1Offload.MADVISE);
        assertThat(o.v2Offload()).isEqualTo(LoopOptions.V2Offload.RECLAIM);
        assertThat(new LoopOptions(false, false, true, false, guard, Set.of(), null,
                LoopOptions.V1Offload.LIMIT).v2Offload()).isEqualTo(LoopOptions.V2Offload.RECLAIM);
        assertThatThrownBy(() -> new LoopOptions(false, false, true, false, guard, Set.of(), null,
                LoopOptions.V1Offload.MADVISE, null)).hasMessageContaining("v2Offload must be set");
    }
}
