package io.memwarden.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Kubernetes quantity grammar (apimachinery resource.Quantity) and Value()/MilliValue() rounding. */
class KubeQuantityTest {

    @ParameterizedTest
    @CsvSource({
            "100Mi, 104857600", "1Gi, 1073741824", "1Ki, 1024", "2Ti, 2199023255552", "1Ei, 1152921504606846976",
            "128974848, 128974848", "129e6, 129000000", "129M, 129000000", "123Mi, 128974848", "1k, 1000",
            "1.5Gi, 1610612736", "0.5, 1", "100m, 1", "1E3, 1000", "+5, 5", "0, 0", ".5Ki, 512", "1.5, 2"})
    void parsesBytesRoundingUpLikeQuantityValue(String text, long bytes) {
        assertThat(KubeQuantity.parse(text).bytes()).isEqualTo(bytes);
    }

    @ParameterizedTest
    @CsvSource({"250m, 250", "1, 1000", "0.1, 100", "1.0005, 1001", "2k, 2000000"})
    void milliValueRoundsUp(String text, long millis) {
        assertThat(KubeQuantity.parse(text).millis()).isEqualTo(millis);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "Mi", "12XB", "1.2.3", "1 Gi", "1gi", "1KI", "ten", "1e", "--1", "1Mi5", "0x10", "1e1000"})
    void rejectsWhatTheApiServerRejects(String text) {
        assertThatThrownBy(() -> KubeQuantity.parse(text)).isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"-1", "-1Mi"})
    void negativeQuantitiesParseWithSign(String text) {
        assertThat(KubeQuantity.parse(text).signum()).isNegative();
    }

    @org.junit.jupiter.api.Test
    void bytesBeyondInt64AreAnError() {
        assertThatThrownBy(() -> KubeQuantity.parse("16Ei").bytes()).hasMessageContaining("64-bit");
        assertThat(KubeQuantity.parse("7Ei").bytes()).isEqualTo(7L << 60);
    }

    @org.junit.jupiter.api.Test
    void valueIsExact() {
        assertThat(KubeQuantity.parse("1.5Gi").value()).isEqualByComparingTo(new BigDecimal("1610612736"));
        assertThat(KubeQuantity.parse("100m").compareTo(KubeQuantity.parse("0.1"))).isZero();
    }

    @Property
    void binarySuffixesRoundTrip(@ForAll @LongRange(min = 0, max = 1L << 40) long n,
                                 @ForAll @IntRange(min = 0, max = 3) int suffix) {
        String[] s = {"", "Ki", "Mi", "Gi"};
        long expected = n << (10 * suffix);
        if (suffix > 0 && n > (Long.MAX_VALUE >> (10 * suffix))) {
            return;
        }
        assertThat(KubeQuantity.parse(n + s[suffix]).bytes()).isEqualTo(expected);
    }
}
