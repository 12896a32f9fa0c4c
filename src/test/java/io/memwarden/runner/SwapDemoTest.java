package io.memwarden.runner;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The demo's verdict logic (the real run is a kernel-tier test). */
class SwapDemoTest {
    static SwapDemo.Row row(String c, long swap, String state) {
        return new SwapDemo.Row(c, null, "x", Map.of(), 80L << 20, swap, state);
    }

    @Test
    void holdsWhenNoSwapIsZeroAndBronzeSwapsMoreThanSilver() {
        var r = SwapDemo.judge(List.of(row("c0-lowprio", 40 << 20, "running (pid 1)"),
                row("c1-normal", 8 << 20, "running (pid 2)"), row("c2-noswap", 0, "running (pid 3)")));
        assertThat(r.holds()).isTrue();
        assertThat(r.verdicts()).allMatch(v -> v.startsWith("PASS"));
    }

    @Test
    void failsOnSwapInTheNoSwapContainer() {
        var r = SwapDemo.judge(List.of(row("c0-lowprio", 40 << 20, "running"), row("c1-normal", 8 << 20, "running"),
                row("c2-noswap", 4096, "running")));
        assertThat(r.holds()).isFalse();
    }

    @Test
    void failsWhenSilverSwapsAsMuchAsBronzeOrNotAtAll() {
        assertThat(SwapDemo.judge(List.of(row("c0-lowprio", 8 << 20, "running"), row("c1-normal", 8 << 20, "running"),
                row("c2-noswap", 0, "running"))).holds()).isFalse();
        assertThat(SwapDemo.judge(List.of(row("c0-lowprio", 8 << 20, "running"), row("c1-normal", 0, "running"),
                row("c2-noswap", 0, "running"))).holds()).isFalse();
    }

    @Test
    void failsWhenAContainerDied() {
        assertThat(SwapDemo.judge(List.of(row("c0-lowprio", 40 << 20, "OOM-killed"), row("c1-normal", 8 << 20, "running"),
                row("c2-noswap", 0, "running"))).holds()).isFalse();
        assertThat(SwapDemo.judge(List.of(row("c0-lowprio", 40 << 20, "running"))).holds()).isFalse();
    }
}
