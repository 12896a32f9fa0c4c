package io.memwarden.model;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HumanBytesTest {

    @ParameterizedTest
    @CsvSource({"0, 0", "512, 512", "1023, 1023", "4097, 4097", "9999, 9999", "10000, 9.766Ki", "1024, 1Ki",
            "1536, 1536", "1207959552, 1152Mi", "1073741824, 1Gi", "4294967296, 4Gi", "6314524672, 6022Mi",
            "10485760000, 9.766Gi", "10484711424, 9999Mi", "1048471142, 999.9Mi", "1073217536, 1023.5Mi", "1020051456, 972.8Mi", "214748368, 204.8Mi", "15896412160, 14.8Gi",
            "14306770944, 13.32Gi", "1073741825, 1.0Gi", "1073741823, 1.0Gi", "99999744, 95.37Mi",
            "1099511627776, 1Ti", "9223372036854775807, 7.999Ei", "9223372036854771712, 7.999Ei", "-1, -1"})
    void examples(long bytes, String text) {
        assertThat(HumanBytes.of(bytes)).isEqualTo(text);
    }

    @ParameterizedTest
    @CsvSource({"memory.max, 1207959552, 1152Mi", "memory.max, max, max", "memory.memsw.limit_in_bytes, -1, -1",
            "memory.swap.max, 0, 0", "memory.oom.group, 1, 1", "memory.swappiness, 60, 60",
            "memory.limit_in_bytes, 50000000, 47.68Mi", "memory.high, 1020051456, 972.8Mi",
            "memory.zswap.writeback, 1, 1", "memory.max, 99999999999999999999, 99999999999999999999",
            "memory.max, 1e9, 1e9"})
    void onlyByteFilesAreRewritten(String file, String value, String text) {
        assertThat(HumanBytes.cgroupValue(file, value)).isEqualTo(text);
    }

    /** Every output parses back as a quantity: exactly when it has no decimal point, else within the rounding. */
    @Property(tries = 3000)
    void parsesBackWithinTheStatedRounding(@ForAll("sizes") long bytes) {
        String text = HumanBytes.of(bytes);
        long back = KubeQuantity.parse(text).bytes();
        if (text.contains(".")) {
            assertThat((double) Math.abs(back - bytes)).isLessThanOrEqualTo(bytes * HumanBytes.MAX_ROUNDING + 1);
        } else {
            assertThat(back).isEqualTo(bytes);
        }
        String number = text.replaceAll("[KMGTPE]i$", "");
        assertThat(number.replace(".", "").length()).as(text).isLessThanOrEqualTo(5);
    }

    @Provide
    Arbitrary<Long> sizes() {
        return Arbitraries.oneOf(
                Arbitraries.longs().between(0, Long.MAX_VALUE),
                Arbitraries.longs().between(0, 1L << 34),
                // whole multiples of a unit, and one byte either side
                Arbitraries.longs().between(1, 50_000).flatMap(n -> Arbitraries.integers().between(0, 4)
                        .flatMap(u -> Arbitraries.of(-1L, 0L, 1L).map(d -> Math.max(0, (n << (10 * u)) + d)))));
    }
}
