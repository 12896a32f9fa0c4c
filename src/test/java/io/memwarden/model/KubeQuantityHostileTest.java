package io.memwarden.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/** Quantities as a hostile pod author writes them (issue #11): a value or one clear line, never anything else. */
class KubeQuantityHostileTest {

    @Provide
    Arbitrary<String> quantities() {
        Arbitrary<String> number = Arbitraries.oneOf(Arbitraries.strings().numeric().ofMinLength(1).ofMaxLength(200),
                Arbitraries.longs().map(x -> Long.toString(x)), Arbitraries.of("1.5", ".5", "5.", "-0", "+1", "1e",
                        "0x10", "∞", "NaN", ""));
        Arbitrary<String> suffix = Arbitraries.of("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "k", "M", "G", "T", "P", "E",
                "m", "u", "n", "e3", "E18", "e100", "e101", "e-100", "e2147483648", "i", "KI", " Gi", "Gi\n");
        Arbitrary<String> space = Arbitraries.of("", " ", "\t", "\n", "\u00a0", "\0");
        return Arbitraries.oneOf(Combinators.combine(space, number, suffix, space).as((a, n, s, b) -> a + n + s + b),
                Arbitraries.strings().ofMaxLength(40));
    }

    @Property(tries = 2000)
    void aQuantityReadsOrFailsWithOneLineNamingIt(@ForAll("quantities") String text) {
        try {
            KubeQuantity q = KubeQuantity.parse(text);
            try {
                q.bytes();
            } catch (IllegalArgumentException e) {
                assertThat(e.getMessage()).contains("larger than a signed 64-bit integer").doesNotContain("\n");
            }
        } catch (IllegalArgumentException e) {
            assertThat(e.getMessage()).isNotBlank().doesNotContain("\n").doesNotContain("java.")
                    .doesNotContain("Exception");
        }
    }

    @Test
    void aVeryLongQuantityIsRefusedBeforeItIsReadAsANumber() {
        assertThatThrownBy(() -> KubeQuantity.parse("9".repeat(1_000_000))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("longer than 128 characters").hasMessageContaining("1000000 characters");
        assertThat(KubeQuantity.parse("0." + "0".repeat(100) + "1").signum()).isEqualTo(1);
    }
}
