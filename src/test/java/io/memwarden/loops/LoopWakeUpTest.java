package io.memwarden.loops;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.control.WakeUp;
import io.memwarden.kernel.PsiTrigger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The loops never fail to start for want of PSI: one log line, then the fixed period. */
class LoopWakeUpTest {
    final List<String> logs = new ArrayList<>();
    final List<Long> sleeps = new ArrayList<>();

    boolean sleep(long ms) {
        sleeps.add(ms);
        return false;
    }

    @Test
    void aTriggerThatCannotBeRegisteredFallsBackToThePeriod() {
        Path missing = Path.of("/proc/pressure/memwarden-no-such-file");
        try (LoopWakeUp w = LoopWakeUp.open(PsiTrigger.Spec.parse("some 150000 2000000"), missing, this::sleep,
                () -> false, logs::add)) {
            assertThat(logs).singleElement().asString().contains("no PSI trigger").contains("fixed period")
                    .contains(missing.toString()).contains("some 150000 2000000").contains("ENOENT");
            assertThat(w.spec().text()).isEqualTo("some 150000 2000000");
            assertThat(w.await(40)).isEqualTo(WakeUp.Reason.PERIOD);
            assertThat(w.wokenBy(WakeUp.Reason.PERIOD)).isNull();
            assertThat(sleeps).isNotEmpty().allMatch(ms -> ms > 0 && ms <= 40);
            assertThat(w.periodWakes()).isEqualTo(1);
        }
    }

    @Test
    void offMeansThePeriodOnlyAndSaysNothing() {
        try (LoopWakeUp w = LoopWakeUp.open(null, PsiTrigger.SYSTEM_MEMORY, this::sleep, () -> false, logs::add)) {
            assertThat(w.spec()).isNull();
            assertThat(w.await(20)).isEqualTo(WakeUp.Reason.PERIOD);
            assertThat(logs).isEmpty();
        }
    }

    @Test
    void aPsiWakeNamesTheTrigger() {
        Path missing = Path.of("/proc/pressure/memwarden-no-such-file");
        try (LoopWakeUp w = LoopWakeUp.open(PsiTrigger.Spec.parse("full 100000 4000000"), missing, this::sleep,
                () -> false, logs::add)) {
            assertThat(w.wokenBy(WakeUp.Reason.PSI)).isEqualTo("PSI trigger full 100000/4000000");
        }
    }
}
