package io.memwarden.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code memwarden aot-train}: the AOT cache's training run drives a real NriPlugin through an in-process runtime
 * peer (register, configure, synchronize, create/update/stop/remove, a config reload) and the API once, and exits
 * 0; it stays out of {@code memwarden help}.
 */
class AotTrainCommandTest {

    @Test
    void trainsTheDaemonPathsAndExitsZero() {
        PlanCommandTest.Run r = PlanCommandTest.run("aot-train", "--calls", "25", "--max-seconds", "5");
        assertThat(r.code()).as(r.err()).isZero();
        Matcher m = Pattern.compile("(\\d+) pods planned, (\\d+) NRI calls, /metrics and /status rendered")
                .matcher(r.err());
        assertThat(m.find()).as(r.err()).isTrue();
        assertThat(Integer.parseInt(m.group(1))).isPositive();
        // Configure + Synchronize + a 4-call lifecycle + 25 create/remove pairs + the reload's UpdateContainers
        assertThat(Integer.parseInt(m.group(2))).isEqualTo(2 + 4 + 50 + 1);
    }

    @Test
    void rejectsNonPositiveLimits() {
        PlanCommandTest.Run r = PlanCommandTest.run("aot-train", "--calls", "0");
        assertThat(r.code()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains("--calls");
    }

    @Test
    void isHiddenFromHelpButEveryOtherCommandIsListed() {
        PlanCommandTest.Run r = PlanCommandTest.run("help");
        assertThat(r.code()).isZero();
        assertThat(r.out()).doesNotContain("aot-train").contains("plan", "run", "demo", "swap", "oom-watch", "bench",
                "nri");
    }

    @Test
    void aNamedSubcommandStillParsesAndHelps() {
        PlanCommandTest.Run r = PlanCommandTest.run("nri", "--help");
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("Usage: memwarden nri", "--socket");
    }
}
