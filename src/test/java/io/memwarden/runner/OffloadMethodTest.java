package io.memwarden.runner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.memwarden.control.PressureGuard;
import java.util.Set;
import org.junit.jupiter.api.Test;

class OffloadMethodTest {

    @Test
    void v2MethodsParseAndBadValuesAreNamed() {
        assertThat(ControlLoops.V2Offload.parse("madvise")).isEqualTo(ControlLoops.V2Offload.MADVISE);
        assertThat(ControlLoops.V2Offload.parse("reclaim")).isEqualTo(ControlLoops.V2Offload.RECLAIM);
        assertThatThrownBy(() -> ControlLoops.V2Offload.parse("limit")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("v2 offload method must be madvise or reclaim, got \"limit\"");
        assertThatThrownBy(() -> ControlLoops.V2Offload.parse("MADVISE"))
                .hasMessageContaining("got \"MADVISE\"");
    }

    @Test
    void optionsDefaultToColdRangesOnV1AndMemoryReclaimOnV2AndRequireAMethod() {
        var guard = PressureGuard.Config.defaults(1L << 30);
        var o = new ControlLoops.Options(false, false, true, false, guard, Set.of(), null);
        assertThat(o.v1Offload()).isEqualTo(ControlLoops.V1Offload.MADVISE);
        assertThat(o.v2Offload()).isEqualTo(ControlLoops.V2Offload.RECLAIM);
        assertThat(new ControlLoops.Options(false, false, true, false, guard, Set.of(), null,
                ControlLoops.V1Offload.LIMIT).v2Offload()).isEqualTo(ControlLoops.V2Offload.RECLAIM);
        assertThatThrownBy(() -> new ControlLoops.Options(false, false, true, false, guard, Set.of(), null,
                ControlLoops.V1Offload.MADVISE, null)).hasMessageContaining("v2Offload must be set");
    }
}
