package io.memwarden.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/** {@code memwarden completion}: a script generated from the whole command line, every visible subcommand in it. */
class CompletionCommandTest {

    @ParameterizedTest
    @ValueSource(strings = {"bash", "zsh"})
    void theScriptCompletesEverySubcommandAndTheirOptions(String shell) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), "completion", shell);
        String script = out.toString();
        assertThat(code).as(err.toString()).isZero();
        assertThat(script).startsWith("#!/usr/bin/env bash").contains("complete -F _complete_memwarden")
                .contains("bashcompinit"); // zsh loads the same script through bashcompinit
        CommandLine full = Main.commandLine();
        for (var e : full.getSubcommands().entrySet()) {
            if (e.getValue().getCommandSpec().usageMessage().hidden()) {
                assertThat(script).as("hidden %s", e.getKey()).doesNotContain("\"" + e.getKey() + "\"");
                continue;
            }
            assertThat(script).as("subcommand %s", e.getKey()).containsPattern("\\b" + e.getKey() + "\\b");
        }
        // options and fixed values of a subcommand, e.g. plan's -o json|yaml|table and swap's nested subcommands
        assertThat(script).contains("--kubelet-config").contains("--kubevirt-config").contains("(\"json\" \"yaml\" \"table\")")
                .contains("zram");
        assertThat(err.toString()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"fish", "--nope"})
    void anUnknownShellIsAUsageError(String arg) {
        StringWriter err = new StringWriter();
        assertThat(Main.run(new PrintWriter(new StringWriter()), new PrintWriter(err), "completion", arg)).isEqualTo(2);
        assertThat(err.toString()).isNotEmpty();
    }
}
