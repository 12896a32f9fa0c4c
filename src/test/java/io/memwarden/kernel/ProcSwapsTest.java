package io.memwarden.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** /proc/swaps: KiB sizes, kernel-escaped paths, negative default priorities, malformed lines. */
class ProcSwapsTest {

    static final String TEXT = """
            Filename				Type		Size		Used		Priority
            /dev/zram0                              partition	65532		1024		100
            /var/tmp/memwarden-test-YiW3wn/my\\040swap file		65532		0		5
            /swap/tab\\011and\\134backslash          file		4194300		12		-2
            """;

    @Test
    void parsesEveryLineWithBytesAndUnescapedPaths() {
        List<SwapArea> areas = ProcSwaps.parse(TEXT);
        assertThat(areas).containsExactly(
                new SwapArea("/dev/zram0", SwapArea.Type.PARTITION, 65532L * 1024, 1024L * 1024, 100),
                new SwapArea("/var/tmp/memwarden-test-YiW3wn/my swap", SwapArea.Type.FILE, 65532L * 1024, 0, 5),
                new SwapArea("/swap/tab\tand\\backslash", SwapArea.Type.FILE, 4194300L * 1024, 12L * 1024, -2));
        assertThat(ProcSwaps.find(areas, "/var/tmp/memwarden-test-YiW3wn/my swap")).isPresent();
        assertThat(ProcSwaps.find(areas, "/var/tmp/memwarden-test-YiW3wn/my\\040swap")).isEmpty();
    }

    @Test
    void headerOnlyOrEmptyIsNoSwap() {
        assertThat(ProcSwaps.parse("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n")).isEmpty();
        assertThat(ProcSwaps.parse("")).isEmpty();
    }

    @Test
    void unescapeLeavesNonEscapesAlone() {
        assertThat(ProcSwaps.unescape("/a\\040b\\012c")).isEqualTo("/a b\nc");
        assertThat(ProcSwaps.unescape("/a\\b\\09")).isEqualTo("/a\\b\\09");
        assertThat(ProcSwaps.unescape("/end\\04")).isEqualTo("/end\\04");
        assertThat(ProcSwaps.unescape("/plain")).isEqualTo("/plain");
    }

    @Test
    void malformedLinesNameTheLineAndTheValue() {
        assertThatThrownBy(() -> ProcSwaps.parse("Filename Type Size Used Priority\n/swap file 10 0\n"))
                .hasMessage("line 2: expected 5 fields (Filename Type Size Used Priority), got 4: \"/swap file 10 0\"");
        assertThatThrownBy(() -> ProcSwaps.parse("/swap disk 10 0 -2\n"))
                .hasMessageStartingWith("line 1: unknown swap type \"disk\"");
        assertThatThrownBy(() -> ProcSwaps.parse("/swap file 10k 0 -2\n"))
                .hasMessage("line 1: Size \"10k\" is not a number: \"/swap file 10k 0 -2\"");
        assertThatThrownBy(() -> ProcSwaps.parse("/swap file 10 0 high\n"))
                .hasMessageStartingWith("line 1: Priority \"high\" is not a number");
    }
}
