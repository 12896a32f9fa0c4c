package io.memwarden.kernel;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/** Runs a tool (fallocate, dd, mkswap, swapon, swapoff) and captures its exit code and output. */
@FunctionalInterface
interface CommandRunner {

    /** What a finished command did. */
    record Result(List<String> command, int exitCode, String stdout, String stderr) {
        public Result {
            command = List.copyOf(command);
        }

        public boolean ok() {
            return exitCode == 0;
        }
    }

    /** Runs the command to completion; a non-zero exit is a result, not an exception. */
    Result run(List<String> command) throws IOException;

    /**
     * Runs real processes with {@code LC_ALL=C} (stable messages), stdin closed, and the tool looked up on
     * {@code PATH} and then in /usr/sbin, /sbin, /usr/bin, /bin (non-login shells often lack the sbin directories).
     */
    CommandRunner SYSTEM = command -> {
        List<String> argv = new ArrayList<>(command);
        argv.set(0, locate(argv.getFirst()));
        ProcessBuilder pb = new ProcessBuilder(argv).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().put("LC_ALL", "C");
        Process p = pb.start();
        CompletableFuture<String> stdout = CompletableFuture.supplyAsync(() -> drain(p.getInputStream()),
                r -> Thread.ofVirtual().start(r));
        String stderr;
        try {
            stderr = drain(p.getErrorStream());
        } catch (UncheckedIOException e) {
            p.destroy();
            throw new IOException("reading the stderr of " + String.join(" ", command) + ": " + e.getCause(), e);
        }
        try {
            int code = p.waitFor();
            return new Result(command, code, stdout.get(), stderr);
        } catch (InterruptedException e) {
            p.destroy();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + String.join(" ", command), e);
        } catch (ExecutionException e) {
            throw new IOException("reading the output of " + String.join(" ", command) + ": " + e.getCause(), e);
        }
    };

    private static String drain(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String locate(String tool) {
        if (tool.contains("/")) {
            return tool;
        }
        List<String> dirs = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            dirs.addAll(List.of(path.split(":")));
        }
        dirs.addAll(List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin"));
        for (String d : dirs) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, tool))) {
                return Path.of(d, tool).toString();
            }
        }
        return tool;
    }
}
