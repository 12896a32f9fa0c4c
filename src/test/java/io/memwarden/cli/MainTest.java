package io.memwarden.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Main's own argument handling (the daemons' manifest read ahead of picocli). */
class MainTest {
    @Test
    void podsArgumentInBothFormsAndOnlyAfterTheSubcommand() {
        assertThat(Main.podsArgument("nri", "--socket", "s", "--pods", "p.yaml")).isEqualTo("p.yaml");
        assertThat(Main.podsArgument("agent", "--pods=/x/p.yaml", "--kube", "off")).isEqualTo("/x/p.yaml");
        assertThat(Main.podsArgument("nri", "--socket", "s")).isNull();
        assertThat(Main.podsArgument("nri", "--pods")).as("no value: picocli reports it").isNull();
        assertThat(Main.podsArgument("--pods", "p.yaml")).as("not a subcommand's option").isNull();
    }
}
