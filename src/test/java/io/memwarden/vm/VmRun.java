package io.memwarden.vm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One run of test/vm/run-in-vm.sh: boots the guest once, runs a command, and keeps everything under
 * {@code target/vm-results/<run>/} — the harness's own stdout/stderr and the guest's results dir (serial console,
 * dmesg, the command's stdout/stderr/rc).
 *
 * @param exitCode the harness's exit code: the guest command's, or {@link #HARNESS_FAILURE}
 * @param guestStdout the guest command's stdout (also what a timed-out run got to write)
 */
record VmRun(int exitCode, String guestStdout, String harnessStderr, Path dir, Duration took) {
    /** run-in-vm.sh's exit code when the VM could not run the command (boot failure, timeout, crash). */
    static final int HARNESS_FAILURE = 125;

    private static final Pattern CHECK = Pattern.compile("^CHECK (\\S+) (PASS|FAIL) ?(.*)$", Pattern.MULTILINE);

    record Check(String name, boolean passed, String detail) {}

    static Path projectDir() {
        return Path.of(System.getProperty("memwarden.project.dir", ".")).toAbsolutePath().normalize();
    }

    /**
     * Runs {@code command} in a VM. {@code options} are run-in-vm.sh options (e.g. {@code --swap 1G}); the results
     * dir and, when the system property {@code memwarden.vm.kernel} is set, the kernel are added here.
     */
    static VmRun run(List<String> options, List<String> command, Duration timeout) throws IOException, InterruptedException {
        return run(options, command, timeout, results -> () -> { });
    }

    /** Something that runs on the host beside the VM (the balloon's QMP bridge), closed when the VM is gone. */
    interface Sidecar extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * As {@link #run(List, List, Duration)}, with {@code sidecar} started on the guest's results dir (which does not
     * exist yet: the harness creates it) before the VM boots and closed after it stopped.
     */
    static VmRun run(List<String> options, List<String> command, Duration timeout,
                     java.util.function.Function<Path, Sidecar> sidecar) throws IOException, InterruptedException {
        Path project = projectDir();
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss-SSS"));
        Path dir = project.resolve("target/vm-results/" + stamp);
        Path results = dir.resolve("guest");
        Files.createDirectories(dir);

        List<String> argv = new ArrayList<>();
        argv.add(project.resolve("test/vm/run-in-vm.sh").toString());
        argv.addAll(List.of("--results", results.toString(), "--timeout", Long.toString(timeout.toSeconds())));
        String kernel = System.getProperty("memwarden.vm.kernel", "");
        if (!kernel.isBlank()) {
            argv.addAll(List.of("--kernel", kernel));
        }
        argv.addAll(options);
        argv.add("--");
        argv.addAll(command);

        Path out = dir.resolve("harness-stdout.txt");
        Path err = dir.resolve("harness-stderr.txt");
        long start = System.nanoTime();
        Process p;
        try (Sidecar beside = sidecar.apply(results)) {
            p = new ProcessBuilder(argv).directory(project.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            // the harness enforces the timeout itself; this is a backstop
            if (!p.waitFor(timeout.toSeconds() + 120, TimeUnit.SECONDS)) {
                p.destroy();
                if (!p.waitFor(30, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor();
                }
            }
        }
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        // on success the harness copies the guest's stdout to its own; after a failure only the results dir has it
        Path guestOut = results.resolve("stdout");
        String stdout = Files.exists(guestOut) ? Files.readString(guestOut) : Files.readString(out);
        return new VmRun(p.exitValue(), stdout, Files.readString(err), dir, took);
    }

    /** The guest's {@code CHECK <name> PASS|FAIL <detail>} lines, by name, in output order. */
    Map<String, Check> checks() {
        Map<String, Check> checks = new LinkedHashMap<>();
        Matcher m = CHECK.matcher(guestStdout);
        while (m.find()) {
            checks.put(m.group(1), new Check(m.group(1), m.group(2).equals("PASS"), m.group(3)));
        }
        return checks;
    }

    String summary() {
        return "run-in-vm.sh exit " + exitCode + " after " + took.toSeconds() + "s; logs in " + dir
                + "\n--- guest stdout ---\n" + guestStdout + "--- harness stderr ---\n" + harnessStderr;
    }
}
