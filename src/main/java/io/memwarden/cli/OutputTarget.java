package io.memwarden.cli;

import java.io.Console;
import java.util.Map;

/**
 * Where standard output goes: a terminal or not (pipe, file, CI), and whether colour is allowed. Colour only on a
 * terminal and only while {@code NO_COLOR} is unset or empty (https://no-color.org: any non-empty value disables
 * it).
 *
 * @param terminal stdin and stdout are both a terminal ({@link Console#isTerminal()})
 * @param colour   ANSI colour may be printed
 */
record OutputTarget(boolean terminal, boolean colour) {

    /** This process's: {@link System#console()} and the environment. */
    static OutputTarget detect() {
        Console c = System.console();
        return of(c != null && c.isTerminal(), System.getenv());
    }

    static OutputTarget of(boolean terminal, Map<String, String> env) {
        String noColor = env.get("NO_COLOR");
        return new OutputTarget(terminal, terminal && (noColor == null || noColor.isEmpty()));
    }
}
