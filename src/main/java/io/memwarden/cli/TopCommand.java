package io.memwarden.cli;

import io.memwarden.input.YamlDocs;
import io.memwarden.view.StatusDoc;
import io.memwarden.view.TopFrame;
import io.memwarden.view.UsageExport;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jline.keymap.BindingReader;
import org.jline.keymap.KeyMap;
import org.jline.terminal.Attributes;
import org.jline.terminal.Size;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import org.jline.utils.AttributedString;
import org.jline.utils.AttributedStyle;
import org.jline.utils.Display;
import org.jline.utils.InfoCmp.Capability;
import org.jline.utils.NonBlockingReader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "top", mixinStandardHelpOptions = true,
        footerHeading = "%nExamples:%n",
        footer = {"  memwarden top",
                "  memwarden top --once --sort swap -n shop",
                "  memwarden top --usage -n shop > usage.yaml"},
        description = {"A live view of a running memwarden (`memwarden run --listen`, `memwarden agent`): node memory,"
                + " memory.available, swap, PSI and OOM kills, then one row per managed container with its QoS class,"
                + " swap behaviour, limit, memory.high, usage, working set, swap, memory.high throttle count and the"
                + " control loops' last action. Reads GET /status every --interval.",
                "On a terminal it redraws full-screen: q quits, s cycles the sort, arrow keys and PgUp/PgDn scroll;"
                + " if the server stops answering, the header says so and top keeps asking. When stdout is not a"
                + " terminal it prints one frame per interval (a blank line between frames) and exits 1 at the first"
                + " failure. --once prints one frame and exits.",
                "",
                "Exit codes: 0 ok; 1 the server cannot be read (down, HTTP error, not a status document); 2 usage"
                + " error."})
final class TopCommand implements Callable<Integer> {
    static final String PREFIX = "memwarden top: ";

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--server", paramLabel = "URL", defaultValue = StatusClient.DEFAULT_SERVER,
            description = "memwarden's API (default ${DEFAULT-VALUE}).")
    String server;

    @Option(names = "--interval", paramLabel = "DURATION", defaultValue = "2s",
            description = "Time between frames (default ${DEFAULT-VALUE}).")
    String interval;

    @Option(names = "--usage", description = "Print the node's observed use once as a USAGE.yaml (per running container"
            + " workingSet and coldBytes) for 'memwarden density --usage' and 'plan --usage', and exit (docs/density.md).")
    boolean usage;

    @Option(names = "--once", description = "Print one frame and exit.")
    boolean once;

    @Option(names = "--count", paramLabel = "N", description = "Stop after N frames (default: until q or Ctrl-C).")
    Integer count;

    @Option(names = "--sort", paramLabel = "KEY", defaultValue = "memory",
            description = "memory (cgroup usage), swap, psi (container PSI, when the server sends it) or name"
                    + " (default ${DEFAULT-VALUE}).")
    TopFrame.Sort sort;

    @Option(names = {"-n", "--namespace"}, paramLabel = "NS", description = "Show only this namespace.")
    String namespace;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Duration every;
        StatusClient client;
        try {
            every = YamlDocs.goDuration(interval);
            if (every.toMillis() < 100) {
                throw new IllegalArgumentException("--interval \"" + interval + "\" is shorter than 100ms");
            }
            if (count != null && count < 1) {
                throw new IllegalArgumentException("--count " + count + " must be at least 1");
            }
            client = StatusClient.of(server);
        } catch (IllegalArgumentException e) {
            err.println(PREFIX + e.getMessage());
            return ExitCodes.USAGE;
        }
        try (client) {
            if (usage) {
                try {
                    out.print(UsageExport.yaml(client.fetch(), namespace, client.server()));
                    out.flush();
                    return ExitCodes.OK;
                } catch (StatusClient.Failure e) {
                    err.println(PREFIX + e.getMessage());
                    return ExitCodes.FAILURE;
                }
            }
            int frames = once ? 1 : count == null ? Integer.MAX_VALUE : count;
            if (!once && System.console() != null && System.console().isTerminal()) {
                return interactive(client, every, frames, err);
            }
            return plain(client, every, frames, out, err);
        }
    }

    /** One frame per interval, as plain lines; stops at the first failure. */
    private int plain(StatusClient client, Duration every, int frames, PrintWriter out, PrintWriter err)
            throws InterruptedException {
        for (int i = 0; i < frames; i++) {
            long start = System.nanoTime();
            StatusDoc d;
            try {
                d = client.fetch();
            } catch (StatusClient.Failure e) {
                err.println(PREFIX + e.getMessage());
                return ExitCodes.FAILURE;
            }
            if (i > 0) {
                out.println();
            }
            TopFrame.of(d, options(client)).lines().forEach(out::println);
            out.flush();
            if (i + 1 < frames) {
                Thread.sleep(Math.max(0, every.toMillis() - (System.nanoTime() - start) / 1_000_000));
            }
        }
        return ExitCodes.OK;
    }

    private TopFrame.Options options(StatusClient client) {
        return new TopFrame.Options(sort, namespace, client.server());
    }

    private enum Key { QUIT, SORT, UP, DOWN, PAGE_UP, PAGE_DOWN, HOME, END, REFRESH, NONE }

    /** Full-screen on the terminal until q (or Ctrl-C, or --count frames). */
    private int interactive(StatusClient client, Duration every, int frames, PrintWriter err)
            throws IOException, InterruptedException {
        StatusDoc first;
        try {
            first = client.fetch();
        } catch (StatusClient.Failure e) {
            err.println(PREFIX + e.getMessage());
            return ExitCodes.FAILURE;
        }
        try (Terminal t = TerminalBuilder.builder().system(true).nativeSignals(true).build()) {
            AtomicBoolean resized = new AtomicBoolean(true);
            t.handle(Terminal.Signal.WINCH, s -> resized.set(true));
            Attributes saved = t.enterRawMode();
            // Ctrl-C as a key (bound to quit), not SIGINT: the screen is restored on the way out
            Attributes raw = t.getAttributes();
            raw.setLocalFlag(Attributes.LocalFlag.ISIG, false);
            t.setAttributes(raw);
            t.puts(Capability.enter_ca_mode);
            t.puts(Capability.keypad_xmit);
            t.puts(Capability.cursor_invisible);
            t.flush();
            try {
                return loop(client, every, frames, t, first, resized);
            } finally {
                t.puts(Capability.cursor_visible);
                t.puts(Capability.keypad_local);
                t.puts(Capability.exit_ca_mode);
                t.flush();
                t.setAttributes(saved);
            }
        }
    }

    private int loop(StatusClient client, Duration every, int frames, Terminal t, StatusDoc first,
                     AtomicBoolean resized) throws InterruptedException, IOException {
        Display display = new Display(t, true);
        KeyMap<Key> keys = keys(t);
        BindingReader reader = new BindingReader(t.reader());
        StatusDoc doc = first;
        String error = null;
        int offset = 0;
        int shown = 1;
        long nextFetch = System.nanoTime() + every.toNanos();
        while (true) {
            Size size = t.getSize();
            int rows = Math.max(size.getRows(), 5);
            // one column short of the width: a line that fills the last column makes the terminal wrap
            int cols = Math.max(size.getColumns(), 20) - 1;
            if (resized.getAndSet(false)) {
                display.clear();
                display.resize(rows, cols + 1);
            }
            TopFrame f = TopFrame.of(doc, options(client));
            List<AttributedString> lines = new ArrayList<>();
            for (String h : f.header()) {
                lines.add(fit(h, cols, AttributedStyle.DEFAULT));
            }
            if (error != null) {
                lines.add(fit("server: " + error + " (retrying every " + interval + ")", cols,
                        OutputTarget.detect().colour() ? AttributedStyle.DEFAULT.foreground(AttributedStyle.RED).bold()
                                : AttributedStyle.DEFAULT.bold()));
            }
            lines.add(fit(f.columns(), cols, AttributedStyle.DEFAULT.inverse()));
            int room = Math.max(1, rows - lines.size() - 1);
            offset = Math.max(0, Math.min(offset, f.rows().size() - room));
            int end = Math.min(f.rows().size(), offset + room);
            for (String r : f.rows().subList(offset, end)) {
                lines.add(fit(r, cols, AttributedStyle.DEFAULT));
            }
            while (lines.size() < rows - 1) {
                lines.add(new AttributedString(" "));
            }
            lines.add(fit("q quit  s sort (" + sort + ")  arrows/PgUp/PgDn scroll  rows " + (f.rows().isEmpty() ? 0
                    : offset + 1) + "-" + end + " of " + f.rows().size(), cols, AttributedStyle.DEFAULT.faint()));
            display.update(lines, -1);
            t.flush();

            long waitMillis = Math.max(1, (nextFetch - System.nanoTime()) / 1_000_000);
            int c = reader.peekCharacter(waitMillis);
            if (c == NonBlockingReader.EOF) {
                return ExitCodes.OK;
            }
            if (c != NonBlockingReader.READ_EXPIRED) {
                Key k = reader.readBinding(keys);
                switch (k == null ? Key.NONE : k) {
                    case QUIT -> {
                        return ExitCodes.OK;
                    }
                    case SORT -> sort = sort.next();
                    case UP -> offset--;
                    case DOWN -> offset++;
                    case PAGE_UP -> offset -= room;
                    case PAGE_DOWN -> offset += room;
                    case HOME -> offset = 0;
                    case END -> offset = Integer.MAX_VALUE / 2;
                    case REFRESH -> nextFetch = System.nanoTime();
                    case NONE -> { }
                }
                offset = Math.max(0, offset);
                if (System.nanoTime() < nextFetch) {
                    continue;
                }
            }
            if (shown >= frames) {
                return ExitCodes.OK;
            }
            try {
                doc = client.fetch();
                error = null;
            } catch (StatusClient.Failure e) {
                error = e.getMessage();
            }
            shown++;
            nextFetch = System.nanoTime() + every.toNanos();
        }
    }

    private static KeyMap<Key> keys(Terminal t) {
        KeyMap<Key> k = new KeyMap<>();
        k.setNomatch(Key.NONE);
        k.setUnicode(Key.NONE);
        k.bind(Key.QUIT, "q", "Q", KeyMap.ctrl('c'), KeyMap.ctrl('d'));
        k.bind(Key.SORT, "s", "S");
        k.bind(Key.REFRESH, " ", KeyMap.ctrl('l'));
        bind(k, t, Key.UP, Capability.key_up, "\033[A", "\033OA", "k");
        bind(k, t, Key.DOWN, Capability.key_down, "\033[B", "\033OB", "j");
        bind(k, t, Key.PAGE_UP, Capability.key_ppage, "\033[5~");
        bind(k, t, Key.PAGE_DOWN, Capability.key_npage, "\033[6~");
        bind(k, t, Key.HOME, Capability.key_home, "\033[H", "\033OH", "\033[1~", "g");
        bind(k, t, Key.END, Capability.key_end, "\033[F", "\033OF", "\033[4~", "G");
        return k;
    }

    private static void bind(KeyMap<Key> k, Terminal t, Key key, Capability cap, String... fallbacks) {
        String fromTerminfo = KeyMap.key(t, cap);
        if (fromTerminfo != null && !fromTerminfo.isEmpty()) {
            k.bind(key, fromTerminfo);
        }
        k.bind(key, fallbacks);
    }

    private static AttributedString fit(String s, int cols, AttributedStyle style) {
        AttributedString a = new AttributedString(s, style);
        return a.columnLength() <= cols ? a : a.columnSubSequence(0, cols);
    }
}
