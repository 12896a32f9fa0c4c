package io.memwarden.view;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BytesTest {
    @ParameterizedTest
    @CsvSource({"-1, max", "0, 0", "1023, 1023", "1024, 1Ki", "1536, 1536", "104857600, 100Mi",
            "99999744, 95.37Mi", "2684354560, 2560Mi", "1717986944, 1.6Gi", "14306770944, 13.32Gi",
            "4294967296, 4Gi", "1099511627776, 1Ti", "9223372036854771712, 7.999Ei"})
    void human(long bytes, String text) {
        assertThat(Bytes.human(bytes)).isEqualTo(text);
    }
}
