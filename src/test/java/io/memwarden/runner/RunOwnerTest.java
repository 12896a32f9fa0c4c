package io.memwarden.runner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.LongRange;

/**
 * The owner of a run's leftovers: names it writes read back as the same owner; any other name (a hostile or foreign
 * directory next to ours) is not taken for one and never throws; /proc/PID/stat with any command name gives the
 * start time.
 */
class RunOwnerTest {

    @Property
    void aNameReadsBackAsItsOwner(@ForAll @LongRange(min = 1, max = 4_194_304) long pid,
                                  @ForAll @LongRange(min = -1, max = Long.MAX_VALUE) long start) {
        RunOwner o = new RunOwner(pid, start);
        assertThat(RunOwner.parse(o.name(Leftovers.RUN_PREFIX), Leftovers.RUN_PREFIX)).contains(o);
        assertThat(o.name(Leftovers.RUN_PREFIX)).doesNotContain("/");
    }

    @Property(tries = 2000)
    void anyNameEitherParsesToWhatItSaysOrIsNotOurs(@ForAll("names") String name) {
        Optional<RunOwner> o = RunOwner.parse(name, Leftovers.RUN_PREFIX);
        // never throws; and whatever parses is exactly the name memwarden would write for that owner
        o.ifPresent(owner -> assertThat(owner.name(Leftovers.RUN_PREFIX)).isEqualTo(name));
    }

    @Provide
    Arbitrary<String> names() {
        Arbitrary<String> tail = Arbitraries.strings().withChars("0123456789-x /.").ofMaxLength(30);
        return Arbitraries.oneOf(tail.map(t -> Leftovers.RUN_PREFIX + t), Arbitraries.strings().ofMaxLength(40),
                Arbitraries.longs().map(l -> Leftovers.RUN_PREFIX + l),
                Arbitraries.longs().map(l -> Leftovers.RUN_PREFIX + "12-" + l));
    }

    @Example
    void foreignNamesAreNotOwners() {
        for (String n : new String[] {"memwarden-run-", "memwarden-run-0", "memwarden-run-012", "memwarden-run-12-",
                "memwarden-run-12-3-4", "memwarden-run-12x", "memwarden-run-99999999999", "memwarden-test-12",
                "memwarden-run-12-99999999999999999999", "memwarden-run-12-9223372036854775808", "x-memwarden-run-1"}) {
            assertThat(RunOwner.parse(n, Leftovers.RUN_PREFIX)).as(n).isEmpty();
        }
        assertThat(RunOwner.parse("memwarden-run-12", Leftovers.RUN_PREFIX))
                .contains(new RunOwner(12, RunOwner.UNKNOWN));
        assertThat(RunOwner.parse("memwarden-run-12-345", Leftovers.RUN_PREFIX)).contains(new RunOwner(12, 345));
    }

    @Property
    void theStartTimeIsFoundWhateverTheCommandName(@ForAll("comms") String comm,
                                                   @ForAll @LongRange(min = 0, max = Long.MAX_VALUE) long start) {
        String stat = "4242 (" + comm + ") S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 " + start
                + " 2273280 224 18446744073709551615 1 1 0 0 0 0 0 0 65536 0 0 0 17 0 0 0 0 0 0\n";
        assertThat(RunOwner.startTicks(stat)).contains(start);
    }

    @Provide
    Arbitrary<String> comms() {
        // the kernel's comm: up to 15 bytes of anything but NUL, ')' and blanks included
        return Arbitraries.strings().withChars(") (\t\n-0123456789abcS").ofMaxLength(15);
    }

    @Property(tries = 2000)
    void aTruncatedOrGarbledStatGivesNoStartTimeAndNeverThrows(@ForAll String stat) {
        Optional<Long> t = RunOwner.startTicks(stat);
        t.ifPresent(v -> assertThat(v).isNotNegative());
    }

    @Example
    void shortStatLinesHaveNoStartTime() {
        assertThat(RunOwner.startTicks("")).isEmpty();
        assertThat(RunOwner.startTicks("1 (sh) S 0 1")).isEmpty();
        assertThat(RunOwner.startTicks("1 sh S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 77 0")).isEmpty();
        assertThat(RunOwner.startTicks("1 (sh) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 -77 0")).isEmpty();
    }

    @Example
    void aliveMeansSamePidAndSameStartTime() throws IOException {
        Path proc = Files.createTempDirectory("memwarden-proc-");
        try {
            Files.createDirectories(proc.resolve("300"));
            Files.writeString(proc.resolve("300/stat"),
                    "300 (java) S 1 300 300 0 -1 0 0 0 0 0 0 0 0 0 20 0 30 0 5000 0 0\n");
            assertThat(new RunOwner(300, 5000).alive(proc)).isTrue();
            assertThat(new RunOwner(300, 4999).alive(proc)).as("pid reused by another process").isFalse();
            assertThat(new RunOwner(300, RunOwner.UNKNOWN).alive(proc)).as("old name: the pid alone").isTrue();
            assertThat(new RunOwner(301, 5000).alive(proc)).as("no such process").isFalse();
            assertThat(new RunOwner(301, RunOwner.UNKNOWN).alive(proc)).isFalse();
        } finally {
            Files.deleteIfExists(proc.resolve("300/stat"));
            Files.deleteIfExists(proc.resolve("300"));
            Files.deleteIfExists(proc);
        }
    }

    @Example
    void thisProcessIsAliveByItsOwnName() throws IOException {
        RunOwner me = RunOwner.current();
        assertThat(me.pid()).isEqualTo(ProcessHandle.current().pid());
        assertThat(me.alive(Path.of("/proc"))).isTrue();
        assertThat(new RunOwner(me.pid(), me.startTicks() + 1).alive(Path.of("/proc"))).isFalse();
    }

    @Example
    void invalidOwnersAreRefused() {
        assertThatThrownBy(() -> new RunOwner(0, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RunOwner(1, -2)).isInstanceOf(IllegalArgumentException.class);
    }
}
