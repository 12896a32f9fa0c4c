package io.memwarden.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code memwarden} command line. Wiring only: every decision lives in policy. */
@Command(name = "memwarden",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Node-level memory management for Kubernetes: per-container memory cgroup values (swap,"
                + " memory QoS, oom_score_adj), computed kubelet-exact and explained.",
        subcommands = {PlanCommand.class, RunCommand.class, DemoCommand.class, SwapCommand.class, OomWatchCommand.class, BenchCommand.class,
                TopCommand.class, ExplainCommand.class,
                NriCommand.class, AgentCommand.class,
                CommandLine.HelpCommand.class})
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
        return run(CommandLine.defaultFactory(), out, err, args);
    }

    /** As {@link #run(java.io.PrintWriter, java.io.PrintWriter, String...)}, creating commands with {@code factory}. */
    static int run(CommandLine.IFactory factory, java.io.PrintWriter out, java.io.PrintWriter err, String... args) {
        CommandLine cl = new CommandLine(new Main(), factory);
        if (out != null) {
            cl.setOut(out);
        }
        if (err != null) {
            cl.setErr(err);
        }
        CommandLine.IParameterExceptionHandler picocliDefault = cl.getParameterExceptionHandler();
        cl.setParameterExceptionHandler((ex, badArgs) -> {
            if (!isUnder(ex.getCommandLine(), "swap")) {
                return picocliDefault.handleParseException(ex, badArgs);
            }
            // memwarden swap: errors start with "memwarden swap:" and name the option and value
            CommandLine cmd = ex.getCommandLine();
            cmd.getErr().println(SwapCommand.PREFIX + ex.getMessage());
            CommandLine.UnmatchedArgumentException.printSuggestions(ex, cmd.getErr());
            cmd.getErr().println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for more information.");
            return ExitCodes.USAGE;
        });
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("memwarden: " + ex);
            return ExitCodes.FAILURE;
        });
        return cl.execute(args);
    }

    private static boolean isUnder(CommandLine cmd, String name) {
        for (CommandLine c = cmd; c != null; c = c.getParent()) {
            if (c.getParent() != null && c.getParent().getParent() == null) {
                return c.getCommandName().equals(name);
            }
        }
        return false;
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
