package io.memwarden.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** Validation of PSI trigger lines before they reach the kernel. */
class PsiTriggerTest {

    @Test
    void parsesAValidLine() {
        PsiTrigger.Spec s = PsiTrigger.Spec.parse("  some 150000   2000000 ");
        assertThat(s).isEqualTo(new PsiTrigger.Spec("some", 150_000, 2_000_000));
        assertThat(s.text()).isEqualTo("some 150000 2000000");
        assertThat(s.brief()).isEqualTo("some 150000/2000000");
        assertThat(PsiTrigger.Spec.parse("full 10000000 10000000").windowMicros()).isEqualTo(10_000_000);
        assertThat(PsiTrigger.Spec.parse("full 1 4000000").stallMicros()).isEqualTo(1);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "partial 150000 2000000|kind must be some or full, got \"partial\"",
        "some 150000 1000000|window must be a multiple of 2000000 us (2 s) up to 10000000 us (10 s)",
        "some 150000 3000000|got 3000000",
        "some 150000 12000000|got 12000000",
        "some 150000 0|window must be",
        "some 0 2000000|stall must be above 0 and at most the window 2000000 us, got 0",
        "some 2000001 2000000|got 2000001",
        "some 150000|must be \"some|full <stall us> <window us>\"",
        "some 150ms 2s|stall and window must be whole microseconds",
    })
    void rejectsBadLinesWithAClearMessage(String text, String message) {
        assertThatThrownBy(() -> PsiTrigger.Spec.parse(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message).hasMessageContaining(text.split(" ")[0]);
    }

    @Test
    void rejectsNothing() {
        assertThatThrownBy(() -> PsiTrigger.Spec.parse("")).hasMessageContaining("\"\" must be");
        assertThatThrownBy(() -> PsiTrigger.Spec.parse(null)).hasMessageContaining("must be");
    }
}
