package io.memwarden.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** zram mm_stat with 8 and 9 fields, and ratios that never divide by zero. */
class ZramStatsTest {

    @Test
    void nineFields() {
        ZramStats s = ZramStats.parse(" 152043520 52248576 53329920        0 53329920       12        3      100      140\n");
        assertThat(s).isEqualTo(new ZramStats(152043520, 52248576, 53329920, 0, 53329920, 12, 3, 100, 140L));
        assertThat(s.compressionRatio().getAsDouble()).isCloseTo(2.91, within(0.01));
        assertThat(s.memoryRatio().getAsDouble()).isCloseTo(2.85, within(0.01));
    }

    @Test
    void eightFieldsHaveNoHugePagesSince() {
        ZramStats s = ZramStats.parse("4096 73 12288 0 12288 0 0 0");
        assertThat(s.hugePages()).isZero();
        assertThat(s.hugePagesSince()).isNull();
        assertThat(s.compressionRatio().getAsDouble()).isCloseTo(56.11, within(0.01));
    }

    @Test
    void moreFieldsThanNineAreIgnored() {
        assertThat(ZramStats.parse("1 2 3 4 5 6 7 8 9 10").hugePagesSince()).isEqualTo(9L);
    }

    @Test
    void emptyDeviceHasNoRatio() {
        ZramStats s = ZramStats.parse("       0        0        0        0        0        0        0        0        0\n");
        assertThat(s.compressionRatio()).isEmpty();
        assertThat(s.memoryRatio()).isEmpty();
        // data counted but nothing allocated (only same-filled pages): still no division by zero
        ZramStats same = ZramStats.parse("8192 0 0 0 0 2 0 0 0");
        assertThat(same.compressionRatio()).isEmpty();
        assertThat(same.memoryRatio()).isEmpty();
    }

    @Test
    void malformed() {
        assertThatThrownBy(() -> ZramStats.parse("1 2 3 4 5 6 7"))
                .hasMessage("mm_stat: expected 8 or 9 numbers, got 7: \"1 2 3 4 5 6 7\"");
        assertThatThrownBy(() -> ZramStats.parse("")).hasMessageContaining("got 0");
        assertThatThrownBy(() -> ZramStats.parse("1 2 3 x 5 6 7 8"))
                .hasMessageStartingWith("mm_stat: field 4 \"x\" is not a number");
    }
}
