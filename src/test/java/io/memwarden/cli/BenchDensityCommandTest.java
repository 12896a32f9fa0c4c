package io.memwarden.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code bench density}'s options: bad values are usage errors naming the option, checked before any host access. */
class BenchDensityCommandTest {
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "--hot|0|--hot: must be whole MiB, at least 1Mi, got 0",
            "--hot|1500Ki|--hot: must be whole MiB",
            "--cold|0|--cold: must be whole MiB, at least 1Mi, got 0",
            "--slo-rate|1.5|--slo-rate: must be in (0, 1], got 1.5",
            "--node-size|lots|--node-size: ",
            "--node-size|64Mi|--node-size: 64Mi does not hold one replica",
            "--policies|kubelet|--policies: unknown policy \"kubelet\" (none, limitedswap, memwarden)",
            "--step-seconds|1|--step-seconds >= 2",
    })
    void badValuesAreUsageErrors(String option, String value, String message) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), "bench", "density", option, value,
                "--out", "target/bench-density-never-written");
        assertThat(code).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).startsWith("memwarden bench density: ").contains(message)
                .doesNotContain("Exception").doesNotContain("\tat ");
        assertThat(err.toString().strip().lines()).hasSize(1);
    }
}
