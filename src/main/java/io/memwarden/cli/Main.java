package io.memwarden.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code memwarden} command line. Wiring only: every decision lives in policy. */
@Command(name = "memwarden",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Node-level memory management for Kubernetes: per-container memory cgroup values (swap,"
                + " memory QoS, oom_score_adj), computed kubelet-exact and explained.",
        subcommands = {PlanCommand.class, RunCommand.class, NriCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code (0 ok, 1 runtime failure, 2 usage/validation error). */
    public static int run(String... args) {
        return run(null, null, args);
    }

    /** As {@link #run(String...)}, writing to the given streams (null = stdout/stderr). */
    public static int run(java.io.PrintWriter out, java.io.PrintWriter err, String... args) {
        CommandLine cl = new CommandLine(new Main());
        if (out != null) {
            cl.setOut(out);
        }
        if (err != null) {
            cl.setErr(err);
        }
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("memwarden: " + ex);
            return ExitCodes.FAILURE;
        });
        return cl.execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"memwarden " + (v == null ? "dev" : v)
                    + " (Java " + Runtime.version() + ", " + System.getProperty("os.name") + " "
                    + System.getProperty("os.arch") + ")"};
        }
    }
}
