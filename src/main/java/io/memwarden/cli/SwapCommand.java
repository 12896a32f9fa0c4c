package io.memwarden.cli;

import io.memwarden.kernel.Host;
import io.memwarden.kernel.SwapArea;
import io.memwarden.kernel.SwapDeviceException;
import io.memwarden.kernel.SwapFiles;
import io.memwarden.kernel.Zram;
import io.memwarden.kernel.ZramDevice;
import io.memwarden.kernel.Zswap;
import io.memwarden.model.KubeQuantity;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code memwarden swap}: swap files, zram and zswap status, as KEP-2400's "do it yourself" steps. Wiring only. */
@Command(name = "swap", mixinStandardHelpOptions = true,
        footerHeading = "%nExamples:%n",
        footer = {"  memwarden swap status",
                "  memwarden swap file create /var/tmp/memwarden.swap --size 1Gi",
                "  memwarden swap zram setup --size 2Gi"},
        description = {"Swap devices on this node: show them, create and remove swap files, set up and reset zram.",
                "Changing swap needs root. zswap is shown, never changed.",
                "",
                "Exit codes: 0 done; 1 runtime failure (not root, device busy, a tool or kernel write failed);"
                + " 2 usage or validation error (bad size/priority/device/algorithm, path exists or is not a swap"
                + " file, no such device)."},
        subcommands = {SwapCommand.Status.class, SwapCommand.FileCommand.class, SwapCommand.ZramCommand.class})
final class SwapCommand implements Runnable {

    static final String PREFIX = "memwarden swap: ";

    final Host host;

    @Spec
    CommandSpec spec;

    SwapCommand() {
        this(Host.system());
    }

    SwapCommand(Host host) {
        this.host = host;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** A command-line value that cannot be used; the message names the option and the value. */
    static final class UsageError extends Exception {
        UsageError(String message) {
            super(message);
        }
    }

    static long size(String option, String text) throws UsageError {
        long bytes;
        try {
            bytes = KubeQuantity.parse(text).bytes();
        } catch (IllegalArgumentException e) {
            throw new UsageError(option + ": " + e.getMessage());
        }
        String problem = SwapArea.sizeProblem(bytes);
        if (problem != null) {
            throw new UsageError(option + ": \"" + text + "\" = " + problem);
        }
        return bytes;
    }

    static void check(String option, String problem) throws UsageError {
        if (problem != null) {
            throw new UsageError(option + ": " + problem);
        }
    }

    /** Prints the error (and failed undo steps) and maps its kind to an exit code. */
    static int fail(PrintWriter err, SwapDeviceException e) {
        err.println(PREFIX + e.getMessage());
        for (Throwable s : e.getSuppressed()) {
            err.println(PREFIX + "undo failed: " + s.getMessage());
        }
        return switch (e.kind()) {
            case INVALID, NOT_FOUND -> ExitCodes.USAGE;
            case NOT_ROOT, BUSY, COMMAND_FAILED -> ExitCodes.FAILURE;
        };
    }

    static int usage(PrintWriter err, UsageError e) {
        err.println(PREFIX + e.getMessage());
        return ExitCodes.USAGE;
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "Show active swap areas (/proc/swaps), zram devices with their mm_stat, and zswap's"
                    + " parameters.")
    static final class Status implements Callable<Integer> {
        @ParentCommand
        SwapCommand parent;

        @Spec
        CommandSpec spec;

        @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table",
                description = "Output format: json, yaml or table (default: ${DEFAULT-VALUE}).")
        PlanOutput.Format output;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            Host host = parent.host;
            SwapOutput.Status status;
            try {
                Zram zram = new Zram(host);
                List<ZramDevice> devices = new ArrayList<>();
                for (String d : zram.devices()) {
                    devices.add(zram.read(d));
                }
                status = SwapOutput.status(host.swaps(), devices, Zswap.read(host.zswapParameters()).orElse(null));
            } catch (SwapDeviceException e) {
                return fail(err, e);
            } catch (IOException e) {
                err.println(PREFIX + e.getMessage());
                return ExitCodes.FAILURE;
            }
            SwapOutput.write(status, output, out);
            out.flush();
            return ExitCodes.OK;
        }
    }

    @Command(name = "file", mixinStandardHelpOptions = true, description = "Create or remove a swap file.",
            subcommands = {FileCreate.class, FileRemove.class})
    static final class FileCommand implements Runnable {
        @ParentCommand
        SwapCommand parent;

        @Spec
        CommandSpec spec;

        @Override
        public void run() {
            spec.commandLine().usage(spec.commandLine().getOut());
        }
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = {"Create a swap file and turn it on: fallocate (dd where unsupported), chmod 600, mkswap,"
                    + " swapon. Refuses a path that exists. Undoes every step on failure."})
    static final class FileCreate implements Callable<Integer> {
        @ParentCommand
        FileCommand parent;

        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "PATH", description = "The swap file to create (must not exist).")
        Path path;

        @Option(names = "--size", required = true, paramLabel = "SIZE",
                description = "Size as a Kubernetes quantity, e.g. 4Gi, 512Mi (at least 40Ki).")
        String size;

        @Option(names = "--priority", paramLabel = "N",
                description = "Swap priority 0..32767, higher is used first (default: the kernel's, negative).")
        Integer priority;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            long bytes;
            try {
                bytes = size("--size", size);
                if (priority != null) {
                    check("--priority", SwapArea.priorityProblem(priority));
                }
            } catch (UsageError e) {
                return usage(err, e);
            }
            try {
                SwapArea a = new SwapFiles(parent.parent.host).create(path,
                        bytes, priority == null ? OptionalInt.empty() : OptionalInt.of(priority));
                out.println("swap file " + a.path() + " created and on: " + SwapOutput.human(a.size()) + " ("
                        + a.size() + " bytes) usable, priority " + a.priority());
                out.flush();
                return ExitCodes.OK;
            } catch (SwapDeviceException e) {
                return fail(err, e);
            }
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true,
            description = "Turn a swap file off and delete it. Refuses anything that is not an active swap file in"
                    + " /proc/swaps.")
    static final class FileRemove implements Callable<Integer> {
        @ParentCommand
        FileCommand parent;

        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "PATH", description = "An active swap file.")
        Path path;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            try {
                new SwapFiles(parent.parent.host).remove(path);
            } catch (SwapDeviceException e) {
                return fail(spec.commandLine().getErr(), e);
            }
            out.println("swap file " + path.toAbsolutePath().normalize() + " off and deleted");
            out.flush();
            return ExitCodes.OK;
        }
    }

    @Command(name = "zram", mixinStandardHelpOptions = true, description = "Set up or reset a zram swap device.",
            subcommands = {ZramSetup.class, ZramReset.class})
    static final class ZramCommand implements Runnable {
        @ParentCommand
        SwapCommand parent;

        @Spec
        CommandSpec spec;

        @Override
        public void run() {
            spec.commandLine().usage(spec.commandLine().getOut());
        }
    }

    @Command(name = "setup", mixinStandardHelpOptions = true,
            description = {"Set up a free zram device as swap: comp_algorithm, disksize, mkswap, swapon -p. Refuses a"
                    + " device that is swap, mounted or already initialised. Undoes every step on failure."})
    static final class ZramSetup implements Callable<Integer> {
        @ParentCommand
        ZramCommand parent;

        @Spec
        CommandSpec spec;

        @Option(names = "--device", paramLabel = "zramN", defaultValue = Zram.DEFAULT_DEVICE,
                description = "The device under /sys/block (default: ${DEFAULT-VALUE}).")
        String device;

        @Option(names = "--size", required = true, paramLabel = "SIZE",
                description = "disksize (uncompressed capacity) as a Kubernetes quantity, e.g. 4Gi.")
        String size;

        @Option(names = "--algorithm", paramLabel = "ALG", defaultValue = Zram.DEFAULT_ALGORITHM,
                description = "Compression algorithm, one listed in comp_algorithm (default: ${DEFAULT-VALUE}).")
        String algorithm;

        @Option(names = "--priority", paramLabel = "N", defaultValue = "" + Zram.DEFAULT_PRIORITY,
                description = "Swap priority 0..32767, higher is used first (default: ${DEFAULT-VALUE}).")
        int priority;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            long bytes;
            try {
                check("--device", Zram.deviceProblem(device));
                bytes = size("--size", size);
                check("--algorithm", Zram.algorithmProblem(algorithm));
                check("--priority", SwapArea.priorityProblem(priority));
            } catch (UsageError e) {
                return usage(err, e);
            }
            try {
                SwapArea a = new Zram(parent.parent.host).setup(device, bytes, algorithm, priority);
                out.println(device + " set up as swap " + a.path() + ": disksize " + SwapOutput.human(bytes) + " ("
                        + bytes + " bytes), " + algorithm + ", priority " + a.priority());
                out.flush();
                return ExitCodes.OK;
            } catch (SwapDeviceException e) {
                return fail(err, e);
            }
        }
    }

    @Command(name = "reset", mixinStandardHelpOptions = true,
            description = "swapoff a zram device if it is swap, then reset it (disksize 0, its memory freed).")
    static final class ZramReset implements Callable<Integer> {
        @ParentCommand
        ZramCommand parent;

        @Spec
        CommandSpec spec;

        @Option(names = "--device", paramLabel = "zramN", defaultValue = Zram.DEFAULT_DEVICE,
                description = "The device under /sys/block (default: ${DEFAULT-VALUE}).")
        String device;

        @Override
        public Integer call() {
            PrintWriter err = spec.commandLine().getErr();
            try {
                check("--device", Zram.deviceProblem(device));
                new Zram(parent.parent.host).reset(device);
            } catch (UsageError e) {
                return usage(err, e);
            } catch (SwapDeviceException e) {
                return fail(err, e);
            }
            spec.commandLine().getOut().println(device + " reset (disksize 0)");
            spec.commandLine().getOut().flush();
            return ExitCodes.OK;
        }
    }
}
