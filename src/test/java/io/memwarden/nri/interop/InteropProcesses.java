package io.memwarden.nri.interop;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Child processes of the NRI interop tier: one-shot commands, the NRI harness and the memwarden plugin. */
final class InteropProcesses {
    private InteropProcesses() {}

    static final JsonMapper JSON = JsonMapper.builder().build();

    record Result(int code, String out, String err) {}

    /** Runs a command to completion (output via files, so no pipe can fill up); kills it after the timeout. */
    static Result run(Path dir, Duration timeout, List<String> cmd) throws IOException, InterruptedException {
        Path out = Files.createTempFile(dir, "out", ".txt");
        Path err = Files.createTempFile(dir, "err", ".txt");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError("timed out after " + timeout + ": " + String.join(" ", cmd) + "\n"
                        + tail(err, 40));
            }
            return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            kill(p);
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** Kills a process and its descendants, and waits for them. */
    static void kill(Process p) {
        if (p == null) {
            return;
        }
        List<ProcessHandle> all = new ArrayList<>(p.descendants().toList());
        all.add(p.toHandle());
        all.forEach(ProcessHandle::destroyForcibly);
        for (ProcessHandle h : all) {
            try {
                h.onExit().get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                // best effort: it was SIGKILLed
            }
        }
    }

    static String tail(Path f, int lines) {
        try {
            if (!Files.exists(f)) {
                return "(" + f + " missing)";
            }
            List<String> all = Files.readAllLines(f);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(" + f + ": " + e + ")";
        }
    }

    /**
     * The NRI harness (test/nri/harness): the real NRI runtime adaptation (v0.6.1: nri-harness; v0.8.0:
     * nri-harness08), driven step by step through its stdin; each step's result is one JSON line on its stdout.
     */
    static final class Harness implements AutoCloseable {
        final Process process;
        final Path log;
        private final Writer in;
        private final BlockingQueue<Object> lines = new LinkedBlockingQueue<>();
        final List<JsonNode> events = new ArrayList<>();
        /** The NRI version of the runtime library, from the harness's "listening" line ("" before it was read). */
        String nri = "";
        private static final Object EOF = new Object();

        Harness(Path harnessBin, Path socket, Path log) throws IOException {
            this(harnessBin, socket, log, List.of());
        }

        /** @param extraArgs more harness options, e.g. {@code -runtime-name containerd -runtime-version v2.1.9} */
        Harness(Path harnessBin, Path socket, Path log, List<String> extraArgs) throws IOException {
            this.log = log;
            List<String> cmd = new ArrayList<>(List.of(harnessBin.toString(), "-socket", socket.toString(),
                    "-plugins", "0", "-wait", "60s"));
            cmd.addAll(extraArgs);
            cmd.add("-");
            this.process = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
            this.in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) {
                        lines.add(line);
                    }
                } catch (IOException e) {
                    lines.add(e.toString());
                } finally {
                    lines.add(EOF);
                }
            }, "nri-harness-stdout");
            reader.setDaemon(true);
            reader.start();
        }

        /** The next JSON line; unsolicited events (UpdateContainers) are collected in {@link #events}. */
        JsonNode next(Duration timeout, boolean skipEvents) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                Object o = lines.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (o == null) {
                    throw new AssertionError("NRI harness: no output within " + timeout + "; its log:\n"
                            + tail(log, 40));
                }
                if (o == EOF) {
                    throw new AssertionError("NRI harness exited; its log:\n" + tail(log, 40));
                }
                JsonNode n;
                try {
                    n = JSON.readTree((String) o);
                } catch (RuntimeException e) {
                    throw new AssertionError("NRI harness printed a non-JSON line: " + o, e);
                }
                if ("listening".equals(n.path("event").asString(""))) {
                    nri = n.path("nri").asString("");
                }
                if (skipEvents && n.has("event") && !n.has("step")) {
                    events.add(n);
                    continue;
                }
                return n;
            }
        }

        /** Sends one step and returns its result line. */
        JsonNode step(JsonNode step, Duration timeout) throws InterruptedException {
            try {
                in.write(JSON.writeValueAsString(step));
                in.write('\n');
                in.flush();
            } catch (IOException e) {
                throw new UncheckedIOException("NRI harness stdin; its log:\n" + tail(log, 40), e);
            }
            return next(timeout, true);
        }

        @Override
        public void close() {
            try {
                in.close(); // end of scenario: the harness stops the adaptation and exits
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    kill(process);
                }
            } catch (IOException | InterruptedException e) {
                kill(process);
            }
        }
    }

    /** {@code bin/memwarden nri ...} as an external NRI plugin; may be killed and started again. */
    static final class Plugin implements AutoCloseable {
        private final List<String> cmd;
        private final Map<String, String> env;
        private final Path log;
        private Process process;

        Plugin(List<String> cmd, Map<String, String> env, Path log) {
            this.cmd = cmd;
            this.env = env;
            this.log = log;
        }

        void start() throws IOException {
            Files.writeString(log, "== start " + String.join(" ", cmd) + "\n", StandardCharsets.UTF_8,
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
            ProcessBuilder pb = new ProcessBuilder(cmd);
            pb.environment().putAll(env);
            process = pb.redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        }

        /** SIGKILL, as a crash or an OOM kill of the plugin would. */
        void kill() {
            InteropProcesses.kill(process);
            process = null;
        }

        boolean alive() {
            return process != null && process.isAlive();
        }

        /** The plugin's resident memory now (VmRSS, bytes), or -1. */
        long rssBytes() {
            try {
                for (String l : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
                    if (l.startsWith("VmRSS:")) {
                        return Long.parseLong(l.replaceAll("[^0-9]", "")) * 1024;
                    }
                }
            } catch (IOException | RuntimeException e) {
                return -1;
            }
            return -1;
        }

        String logTail() {
            return tail(log, 40);
        }

        @Override
        public void close() {
            kill();
        }
    }
}
