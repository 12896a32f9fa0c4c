package io.memwarden.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A memwarden command (or another main class of the test classpath) as a real process: this JDK, the test
 * classpath, output (stdout + stderr) to a file. For what only a process shows: signals and exit codes.
 */
public final class CliProcess implements AutoCloseable {
    public final Process process;
    public final Path log;

    private CliProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /** {@code memwarden ARGS}. */
    public static CliProcess memwarden(Path log, String... args) throws IOException {
        return start(log, List.of(), Main.class.getName(), args);
    }

    /** {@code memwarden ARGS}, started by {@code prefix} (e.g. a shell that enters a cgroup first, then execs). */
    public static CliProcess start(Path log, List<String> prefix, String mainClass, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(prefix);
        // a test JVM started as a background job (e.g. `bin/test &` from a script) inherits SIGINT ignored, and the
        // JVM leaves an ignored signal ignored: reset both stop signals to their defaults for the command under test
        cmd.addAll(List.of("env", "--default-signal=INT,TERM"));
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of("--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-Xshare:auto", "-cp", System.getProperty("java.class.path"), mainClass));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        return new CliProcess(p, log);
    }

    /** Waits until the output contains {@code text}; fails with the output when the process ends or time is up. */
    public String await(String text, Duration timeout) throws IOException, InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (true) {
            String out = output();
            if (out.contains(text)) {
                return out;
            }
            if (!process.isAlive() || System.nanoTime() > end) {
                throw new AssertionError("no \"" + text + "\" in the output (process "
                        + (process.isAlive() ? "still running" : "exited " + process.exitValue()) + "):\n" + out);
            }
            Thread.sleep(50);
        }
    }

    public String output() throws IOException {
        return Files.readString(log);
    }

    /** Sends a signal by name ({@code TERM}, {@code INT}, {@code KILL}) with kill(1). */
    public void signal(String name) throws IOException, InterruptedException {
        signal(process.pid(), name);
    }

    static void signal(long pid, String name) throws IOException, InterruptedException {
        int rc = new ProcessBuilder("kill", "-s", name, Long.toString(pid)).inheritIO().start().waitFor();
        if (rc != 0) {
            throw new IOException("kill -s " + name + " " + pid + " exited " + rc);
        }
    }

    /** Waits for the exit code; fails with the output when it takes longer than {@code timeout}. */
    public int exitCode(Duration timeout) throws IOException, InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("still running after " + timeout + ":\n" + output());
        }
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
