package io.memwarden.view;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ExplanationTest {
    static StatusDoc.Memory v1(long limit, long swapLimit) {
        return new StatusDoc.Memory(1, 0, 0, 0, limit, swapLimit, -1, Map.of());
    }

    static StatusDoc.Memory v2(long limit, long swapLimit, long high) {
        return new StatusDoc.Memory(2, 0, 0, 0, limit, swapLimit, high, Map.of());
    }

    @Test
    void theKernelRoundsLimitsDownToAPage() {
        // memory.limit_in_bytes=100000000 reads back as 99999744 on v1
        assertThat(Explanation.compare("memory.limit_in_bytes", "100000000", v1(99_999_744, 0)))
                .isEqualTo(new Explanation.CgroupValue("100000000", "99999744", true));
        assertThat(Explanation.compare("memory.memsw.limit_in_bytes", "150000000", v1(99_999_744, 49_999_872)))
                .isEqualTo(new Explanation.CgroupValue("150000000", "149999616", true));
        assertThat(Explanation.compare("memory.limit_in_bytes", "100000000", v1(50_000_000, 0)).matches()).isFalse();
    }

    @Test
    void unlimitedMatchesMaxAndMinusOne() {
        assertThat(Explanation.compare("memory.memsw.limit_in_bytes", "-1", v1(99_999_744, -1)))
                .isEqualTo(new Explanation.CgroupValue("-1", "max", true));
        assertThat(Explanation.compare("memory.high", "max", v2(-1, -1, -1)).matches()).isTrue();
        assertThat(Explanation.compare("memory.swap.max", "max", v2(-1, 0, -1)))
                .isEqualTo(new Explanation.CgroupValue("max", "0", false));
    }

    @Test
    void filesTheStatusDoesNotCarryHaveNoLiveValue() {
        assertThat(Explanation.compare("memory.low", "536870912", v2(-1, -1, -1)).live()).isNull();
        assertThat(Explanation.compare("memory.swappiness", "0", v1(1, 1)).live()).isNull();
        assertThat(Explanation.compare("memory.high", "max", v1(1, 1)).live()).isNull(); // v1 has none
        assertThat(Explanation.compare("memory.max", "1073741824", null))
                .isEqualTo(new Explanation.CgroupValue("1073741824", null, null));
    }
}
