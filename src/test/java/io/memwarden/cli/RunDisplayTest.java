package io.memwarden.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.cgroup.MemoryUsage;
import io.memwarden.loops.ContainerStatus;
import io.memwarden.model.CgroupVersion;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.LocalTime;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code memwarden run}'s output: a redrawn table on a terminal, one line per change otherwise (#18 item 3.2). */
class RunDisplayTest {
    private final StringWriter buf = new StringWriter();
    private LocalTime now = LocalTime.of(12, 0, 0);

    private RunDisplay display(boolean terminal) {
        return new RunDisplay(new PrintWriter(buf), terminal, () -> now);
    }

    private static ContainerStatus c(String name, Integer exit, long usage, long limit, long oomKills) {
        MemoryUsage u = new MemoryUsage(CgroupVersion.V2, usage, 0, limit, 0, -1,
                Map.of("oom_kill", oomKills, "max", 0L), Map.of(), null, List.of(), Map.of());
        return new ContainerStatus("demo/p", name, false, "NoSwap", Path.of("/x/" + name), Map.of(), 42, exit, u, null);
    }

    private String take() {
        String s = buf.toString();
        buf.getBuffer().setLength(0);
        return s;
    }

    @Test
    void notATerminalPrintsTheTableOnceThenOneLinePerChangeAndNothingWhenNothingChanged() {
        RunDisplay d = display(false);
        d.show(List.of(c("a", null, 10 << 20, 100 << 20, 0), c("b", null, 5 << 20, 64 << 20, 0)));
        String first = take();
        assertThat(first).startsWith("12:00:00  (Ctrl-C stops and cleans up; one line per change follows)\n")
                .contains("POD").contains("100Mi").contains("running (pid 42)").doesNotContain("\033");

        now = now.plusSeconds(2);
        // usage moved, nothing else: no output
        d.show(List.of(c("a", null, 11 << 20, 100 << 20, 0), c("b", null, 6 << 20, 64 << 20, 0)));
        assertThat(take()).isEmpty();

        now = now.plusSeconds(2);
        // b OOM-killed; a's limit raised by a loop: exactly one line each
        d.show(List.of(c("a", null, 11 << 20, 120 << 20, 0), c("b", 137, 64 << 20, 64 << 20, 1)));
        List<String> lines = take().lines().toList();
        assertThat(lines).containsExactly(
                "12:00:04  demo/p a: limit 100Mi -> 120Mi (cgroup usage 11Mi, swap 0)",
                "12:00:04  demo/p b: state running (pid 42) -> OOM-killed; oom_kill 0 -> 1 (cgroup usage 64Mi, swap 0)");

        now = now.plusSeconds(2);
        d.show(List.of(c("a", null, 11 << 20, 120 << 20, 0)));
        assertThat(take()).isEqualTo("12:00:06  demo/p b: gone\n");
    }

    @Test
    void aTerminalRedrawsTheWholeTableEveryTime() {
        RunDisplay d = display(true);
        List<ContainerStatus> same = List.of(c("a", null, 10 << 20, 100 << 20, 0));
        d.show(same);
        String first = take();
        d.show(same);
        String second = take();
        for (String frame : List.of(first, second)) {
            assertThat(frame).startsWith(RunDisplay.CLEAR + "12:00:00  (Ctrl-C stops and cleans up)\n")
                    .contains("POD").contains("100Mi");
        }
        assertThat(second).isEqualTo(first);
    }

    @Test
    void colourOnlyOnATerminalAndNotWithNoColor() {
        assertThat(OutputTarget.of(true, Map.of())).isEqualTo(new OutputTarget(true, true));
        assertThat(OutputTarget.of(true, Map.of("NO_COLOR", ""))).isEqualTo(new OutputTarget(true, true));
        assertThat(OutputTarget.of(true, Map.of("NO_COLOR", "1"))).isEqualTo(new OutputTarget(true, false));
        assertThat(OutputTarget.of(false, Map.of())).isEqualTo(new OutputTarget(false, false));
    }
}
