package io.memwarden.cli;

import io.memwarden.view.Explanation;
import io.memwarden.view.StatusDoc;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "explain", mixinStandardHelpOptions = true,
        footerHeading = "%nExamples:%n",
        footer = {"  memwarden explain shop/web",
                "  memwarden explain shop/web/app -o json",
                "  memwarden explain demo/swap-demo --server http://10.0.0.5:9767"},
        description = {"Why a managed pod's containers have the memory values they have, asked of a running memwarden"
                + " (GET /status): for each container (or the one named) its QoS class, swap behaviour and"
                + " oom_score_adj, the planned cgroup files next to the values read from its cgroup now, the plan's"
                + " reasons, the live memory numbers and events, and the control loops' decisions about it or its"
                + " whole pod (oldest first); for the pressure guard's, which threshold acted (memwarden's own"
                + " loops.guard or the kubelet's eviction thresholds) and where the other stood.",
                "",
                "Exit codes: 0 ok; 1 the server cannot be read, or it does not manage that pod or container;"
                + " 2 usage error."})
final class ExplainCommand implements Callable<Integer> {
    static final String PREFIX = "memwarden explain: ";

    enum Format { text, json }

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NS/POD[/CONTAINER]", description = "The pod, and optionally one container.")
    String target;

    @Option(names = "--server", paramLabel = "URL", defaultValue = StatusClient.DEFAULT_SERVER,
            description = "memwarden's API (default ${DEFAULT-VALUE}).")
    String server;

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "text",
            description = "text or json (default ${DEFAULT-VALUE}).")
    Format output;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String[] parts = target.split("/", -1);
        if (parts.length < 2 || parts.length > 3 || java.util.Arrays.stream(parts).anyMatch(String::isEmpty)) {
            err.println(PREFIX + "\"" + target + "\" is not NS/POD or NS/POD/CONTAINER");
            return ExitCodes.USAGE;
        }
        StatusClient client;
        try {
            client = StatusClient.of(server);
        } catch (IllegalArgumentException e) {
            err.println(PREFIX + e.getMessage());
            return ExitCodes.USAGE;
        }
        try (client) {
            StatusDoc d = client.fetch();
            Explanation x = Explanation.of(d, client.server(), parts[0], parts[1], parts.length == 3 ? parts[2] : null);
            switch (output) {
                case json -> out.println(PlanOutput.JSON.writeValueAsString(x));
                case text -> x.text().forEach(out::println);
            }
            return ExitCodes.OK;
        } catch (StatusClient.Failure | Explanation.NotFound e) {
            err.println(PREFIX + e.getMessage());
            return ExitCodes.FAILURE;
        }
    }
}
