package io.memwarden.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Every visible subcommand's {@code --help} ends with 1–3 examples, and every example is a valid command line: it
 * parses against the real command spec, and the files under examples/ it names exist (#18 item 3.5).
 */
class HelpExamplesTest {
    /** The memwarden command line in an example, up to a shell operator (redirect, pipe, end of a substitution). */
    private static final Pattern INVOCATION = Pattern.compile("\\bmemwarden ([^>|<)]*)");

    @Test
    void everySubcommandHasRunnableExamples() {
        CommandLine root = Main.commandLine();
        int examples = 0;
        for (var e : root.getSubcommands().entrySet()) {
            CommandLine.Model.CommandSpec spec = e.getValue().getCommandSpec();
            if (spec.usageMessage().hidden() || e.getKey().equals("help")) {
                continue;
            }
            List<String> lines = examples(spec.usageMessage().footer());
            assertThat(spec.usageMessage().footerHeading()).as(e.getKey()).contains("Examples:");
            // short enough that picocli's 80 columns never wrap one (a wrapped example cannot be pasted)
            assertThat(spec.usageMessage().footer()).as(e.getKey()).allSatisfy(l -> assertThat(l.length())
                    .as(l).isLessThanOrEqualTo(78));
            assertThat(lines).as("examples of %s", e.getKey()).hasSizeBetween(1, 3);
            for (String line : lines) {
                Matcher m = INVOCATION.matcher(line);
                assertThat(m.find()).as("%s: %s", e.getKey(), line).isTrue();
                List<String> args = new ArrayList<>(Arrays.asList(m.group(1).strip().split("\\s+")));
                assertThat(args.getFirst()).as(line).isEqualTo(e.getKey());
                // a fresh command line each time: parseArgs keeps state in the annotated objects
                CommandLine.ParseResult parsed = Main.commandLine().parseArgs(args.toArray(String[]::new));
                assertThat(parsed.hasSubcommand()).as(line).isTrue();
                assertThat(parsed.subcommand().unmatched()).as(line).isEmpty();
                for (String a : args) {
                    if (a.startsWith("examples/")) {
                        assertThat(Files.isRegularFile(Path.of(a))).as("%s names %s", line, a).isTrue();
                    }
                }
                examples++;
            }
        }
        assertThat(examples).isGreaterThanOrEqualTo(13);
    }

    /** The footer's examples, a line ending in {@code \\} joined with the next (a shell line continuation). */
    static List<String> examples(String[] footer) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (String l : footer) {
            if (l.endsWith("\\")) {
                cur.append(l, 0, l.length() - 1).append(' ');
            } else {
                out.add(cur.append(l).toString().replaceAll("\\s+", " ").strip());
                cur.setLength(0);
            }
        }
        assertThat(cur).as("a continuation line ends the footer").isEmpty();
        return out;
    }

    @Test
    void helpPrintsTheExamples() {
        StringWriter out = new StringWriter();
        assertThat(Main.run(new PrintWriter(out), new PrintWriter(new StringWriter()), "plan", "--help")).isZero();
        assertThat(out.toString()).contains("\nExamples:\n  memwarden plan --node examples/node.yaml")
                .doesNotContain("\033[");
    }
}
