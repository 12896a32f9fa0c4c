package io.memwarden.cli;

import io.memwarden.loops.ContainerStatus;
import io.memwarden.runner.RunView;
import java.io.PrintWriter;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * What {@code memwarden run} shows while its containers run. On a terminal: the whole table, redrawn in place at
 * each refresh. Otherwise (piped, redirected, CI): the table once, then one line per change (a container started,
 * ended, was OOM-killed, or its limit or swap limit changed; {@link RunView#changes}) and nothing while nothing
 * changes. The loops' actions are logged on stderr, one line each, in both modes.
 */
final class RunDisplay {
    static final String CLEAR = "\033[H\033[2J";
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss", Locale.ROOT);

    private final PrintWriter out;
    private final boolean terminal;
    private final Supplier<LocalTime> clock;
    private List<ContainerStatus> last;

    RunDisplay(PrintWriter out, boolean terminal, Supplier<LocalTime> clock) {
        this.out = out;
        this.terminal = terminal;
        this.clock = clock;
    }

    /** One refresh with the containers' snapshot. */
    void show(List<ContainerStatus> now) {
        String time = TIME.format(clock.get());
        if (terminal) {
            out.print(CLEAR);
            out.println(time + "  (Ctrl-C stops and cleans up)");
            out.print(RunView.table(now));
        } else if (last == null) {
            out.println(time + "  (Ctrl-C stops and cleans up; one line per change follows)");
            out.print(RunView.table(now));
        } else {
            for (String line : RunView.changes(last, now)) {
                out.println(time + "  " + line);
            }
        }
        last = now;
        out.flush();
    }
}
