package io.memwarden.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** {@code memwarden run --listen}: a bad address is a usage error before anything is planned or started. */
class RunListenTest {

    @Test
    void aBadListenAddressIsAUsageError() {
        for (String bad : new String[] {"127.0.0.1:http", "localhost:99999", "::1:9767"}) {
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true),
                    "run", "-f", "does-not-matter.yaml", "--listen", bad);
            assertThat(code).as(bad).isEqualTo(ExitCodes.USAGE);
            assertThat(err.toString()).as(bad).startsWith("memwarden run: --listen \"" + bad + "\"");
        }
    }

    @Test
    void helpMentionsListen() {
        StringWriter out = new StringWriter();
        Main.run(new PrintWriter(out, true), new PrintWriter(new StringWriter(), true), "run", "--help");
        assertThat(out.toString()).contains("--listen=[HOST:]PORT").contains("/metrics");
    }
}
