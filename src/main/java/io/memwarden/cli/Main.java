package io.memwarden.cli;

import io.memwarden.input.PodManifestReader;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code memwarden} command line. Wiring only: every decision lives in policy. */
@Command(name = "memwarden",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Node-level memory management for Kubernetes: per-container memory cgroup values (swap,"
                + " memory QoS, oom_score_adj), computed kubelet-exact and explained.")
public final class Main implements Runnable {

    /**
     * The subcommands, in help order. Building picocli's model of a command reads its annotations reflectively, so
     * a command line that names one of them gets only that one (a daemon starts ~0.3 s sooner); anything else gets
     * them all. AotTrainCommand is hidden.
     */
    static final List<Class<?>> SUBCOMMANDS = List.of(DoctorCommand.class, PlanCommand.class, DensityCommand.class, RunCommand.class, DemoCommand.class,
            SwapCommand.class, KsmCommand.class, OomWatchCommand.class, BenchCommand.class, TopCommand.class, ExplainCommand.class,
            NriCommand.class, AgentCommand.class, CompletionCommand.class, AotTrainCommand.class, CommandLine.HelpCommand.class);

    /** Subcommands that run as daemons and read a {@code --pods} manifest at start. */
    private static final java.util.Set<String> DAEMONS = java.util.Set.of("nri", "agent");

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** The whole command line, every subcommand included (tests and tools that inspect it). */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        SUBCOMMANDS.forEach(cl::addSubcommand);
        return cl;
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
        String manifest = args.length > 0 && DAEMONS.contains(args[0]) ? podsArgument(args) : null;
        if (manifest != null) {
            // a daemon with a pod manifest: parsing it and building Jackson's Pod deserializers (the longest part of
            // its start) run on a second thread while picocli and the configs are handled on this one
            try {
                PodManifestReader.prepareInBackground(java.nio.file.Path.of(manifest));
            } catch (java.nio.file.InvalidPathException e) {
                // picocli reports it
            }
        }
        CommandLine cl = new CommandLine(new Main(), factory);
        List<Class<?>> named = args.length == 0 ? List.of() : SUBCOMMANDS.stream()
                .filter(c -> c != CommandLine.HelpCommand.class
                        && c.getAnnotation(Command.class).name().equals(args[0]))
                .toList();
        for (Class<?> c : named.isEmpty() ? SUBCOMMANDS : named) {
            cl.addSubcommand(c);
        }
        // help in colour only on a terminal and without NO_COLOR (OutputTarget), the rule of every memwarden output
        cl.setColorScheme(CommandLine.Help.defaultColorScheme(OutputTarget.detect().colour()
                ? CommandLine.Help.Ansi.ON : CommandLine.Help.Ansi.OFF));
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
            // a failure no command foresaw is a bug: said in words; the Java details only on request
            cmd.getErr().println(cmd.getCommandSpec().qualifiedName() + ": stopped by an internal error (a bug in"
                    + " memwarden: please report it with the command and its input; set MEMWARDEN_DEBUG=1 to see the"
                    + " details)");
            if (System.getenv("MEMWARDEN_DEBUG") != null) {
                ex.printStackTrace(cmd.getErr());
            }
            return ExitCodes.FAILURE;
        });
        return cl.execute(args);
    }

    /** The value of {@code --pods FILE} or {@code --pods=FILE}, or null. */
    static String podsArgument(String... args) {
        for (int i = 1; i < args.length; i++) {
            if (args[i].equals("--pods") && i + 1 < args.length) {
                return args[i + 1];
            }
            if (args[i].startsWith("--pods=")) {
                return args[i].substring("--pods=".length());
            }
        }
        return null;
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
