package io.memwarden.input;

import io.memwarden.model.KubeQuantity;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.common.ScalarStyle;
import org.snakeyaml.engine.v2.events.AliasEvent;
import org.snakeyaml.engine.v2.events.CollectionEndEvent;
import org.snakeyaml.engine.v2.events.CollectionStartEvent;
import org.snakeyaml.engine.v2.events.DocumentStartEvent;
import org.snakeyaml.engine.v2.events.Event;
import org.snakeyaml.engine.v2.events.ImplicitTuple;
import org.snakeyaml.engine.v2.events.MappingStartEvent;
import org.snakeyaml.engine.v2.events.NodeEvent;
import org.snakeyaml.engine.v2.events.ScalarEvent;
import org.snakeyaml.engine.v2.exceptions.Mark;
import tools.jackson.core.ObjectReadContext;
import tools.jackson.core.StreamReadConstraints;
import tools.jackson.core.io.IOContext;
import tools.jackson.core.util.BufferRecycler;
import tools.jackson.dataformat.yaml.YAMLFactory;
import tools.jackson.dataformat.yaml.YAMLFactoryBuilder;
import tools.jackson.dataformat.yaml.YAMLParser;

/**
 * The YAML token stream every memwarden input is read through: Jackson's YAML parser (on SnakeYAML Engine) with
 * aliases resolved and every size bounded.
 *
 * <p>Jackson's YAML parser does not resolve aliases: it hands {@code *name} on as the string {@code "name"}, so
 * {@code memory: *big} silently read as the quantity "big" (and {@code *1Gi} as 1 GiB). Here an alias is replaced by
 * the events of its anchored node (as the YAML spec means), before Jackson turns events into tokens, so every reader
 * sees the expanded value with Jackson's usual scalar typing. The expansion is bounded by {@link Limits#aliasNodes}
 * per file (a "billion laughs" fails on its first few thousand nodes, not after filling the heap). An alias to no
 * anchor, an alias inside its own anchor, or a merge key {@code <<} (a YAML 1.1 extension memwarden does not
 * implement) becomes a {@link #problems() problem}: the token stream carries a marker string in its place and the
 * reader decides whether that is a file error (configs) or one pod's error (manifests).
 */
final class YamlStream {
    private YamlStream() {}

    /** Marker of a problem in the token stream: the prefix, then the problem's index. */
    static final String MARKER = "\u0000memwarden-yaml-problem#";

    /** The bounds of one read; {@link #fromEnvironment()} are the defaults and their overrides. */
    record Limits(long bytes, int depth, long aliasNodes) {
        static final String SIZE_ENV = "MEMWARDEN_MAX_INPUT_SIZE";
        static final String DEPTH_ENV = "MEMWARDEN_MAX_YAML_DEPTH";
        static final String ALIAS_ENV = "MEMWARDEN_MAX_YAML_ALIAS_NODES";
        static final int DEFAULT_DEPTH = 100;
        static final long DEFAULT_ALIAS_NODES = 100_000;

        /** A sixteenth of the JVM's maximum heap (a parsed YAML tree takes 7-8 times its text), at least 1 MiB. */
        static long defaultBytes() {
            return Math.max(1L << 20, Runtime.getRuntime().maxMemory() / 16);
        }

        static Limits fromEnvironment() {
            return new Limits(env(SIZE_ENV, defaultBytes()), (int) Math.min(Integer.MAX_VALUE,
                    env(DEPTH_ENV, DEFAULT_DEPTH)), env(ALIAS_ENV, DEFAULT_ALIAS_NODES));
        }

        private static long env(String name, long dflt) {
            String v = System.getenv(name);
            if (v == null || v.isBlank()) {
                return dflt;
            }
            try {
                long n = KubeQuantity.parse(v.strip()).bytes();
                if (n <= 0) {
                    throw new IllegalArgumentException("must be positive");
                }
                return n;
            } catch (IllegalArgumentException e) {
                throw new LimitExceeded(name + "=\"" + v + "\" is not a positive number or quantity (e.g. 64Mi)");
            }
        }
    }

    /** A limit hit while reading: the whole file is refused. The message names the limit and how to raise it. */
    static final class LimitExceeded extends RuntimeException {
        LimitExceeded(String message) {
            super(message, null, false, false);
        }
    }

    /** The factory for {@link Limits}: SnakeYAML's own 3 MiB code point limit lifted (the byte limit bounds). */
    static YAMLFactory factory(Limits limits) {
        return new Factory(YAMLFactory.builder()
                .loadSettings(LoadSettings.builder().setCodePointLimit(Integer.MAX_VALUE).setUseMarks(true).build())
                .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(limits.depth()).build()));
    }

    /** A parser over {@code in} (UTF-8; more than {@link Limits#bytes} bytes is a {@link LimitExceeded}). */
    static Parser open(YAMLFactory factory, Limits limits, InputStream in) {
        var decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        Reader r = new InputStreamReader(new Bounded(in, limits.bytes()), decoder);
        Parser p = (Parser) factory.createParser(ObjectReadContext.empty(), r);
        p.limits = limits;
        return p;
    }

    private static final class Factory extends YAMLFactory {
        Factory(YAMLFactoryBuilder b) {
            super(b);
        }

        @Override
        protected YAMLParser _createParser(ObjectReadContext readCtxt, IOContext ioCtxt, Reader r) {
            return new Parser(readCtxt, ioCtxt, _getBufferRecycler(), readCtxt.getStreamReadFeatures(_streamReadFeatures),
                    readCtxt.getFormatReadFeatures(_formatReadFeatures), _loadSettings, r);
        }
    }

    /** Counts bytes; one more than the limit ends the read. */
    private static final class Bounded extends InputStream {
        private final InputStream in;
        private final long max;
        private long count;

        Bounded(InputStream in, long max) {
            this.in = in;
            this.max = max;
        }

        @Override
        public int read() throws IOException {
            int b = in.read();
            if (b >= 0) {
                count(1);
                line = b == '\n' ? 0 : line + 1;
            }
            return b;
        }

        @Override
        public int read(byte[] buf, int off, int len) throws IOException {
            int n = in.read(buf, off, (int) Math.min(len, max + 1 - count));
            if (n > 0) {
                count(n);
                for (int i = off; i < off + n; i++) {
                    line = buf[i] == '\n' ? 0 : line + 1;
                }
                if (line > MAX_LINE) {
                    throw new LimitExceeded("has a line longer than the limit of " + MAX_LINE + " bytes (SnakeYAML"
                            + " scans a long line in time that grows with its square; fold long values over lines)");
                }
            }
            return n;
        }

        /** 1 MiB: kubectl's longest lines (a last-applied-configuration annotation) stay far below. */
        static final int MAX_LINE = 1 << 20;
        private long line;

        private void count(int n) {
            count += n;
            if (count > max) {
                throw new LimitExceeded("larger than the input size limit of " + max + " bytes (raise it with the"
                        + " environment variable " + Limits.SIZE_ENV + ", e.g. " + Limits.SIZE_ENV + "=64Mi, and the"
                        + " heap with MEMWARDEN_HEAP: a parsed file takes about 8 times its size)");
            }
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }

    /** Jackson's YAML parser with aliases replaced by their anchored nodes' events. */
    static final class Parser extends YAMLParser {
        private Limits limits;
        /** Complete anchored nodes of the current document; a value of null: too large to replay. */
        private final Map<String, List<Event>> anchors = new HashMap<>();
        /** Anchored collections still open, innermost first. */
        private final ArrayDeque<Recording> recording = new ArrayDeque<>();
        private final ArrayDeque<Event> replay = new ArrayDeque<>();
        /** Per open collection: is it a mapping, and is its next node a key. */
        private final ArrayDeque<boolean[]> open = new ArrayDeque<>();
        private final List<String> problems = new ArrayList<>();
        private long expanded;

        private static final class Recording {
            final String anchor;
            List<Event> events = new ArrayList<>();
            int depth;

            Recording(String anchor) {
                this.anchor = anchor;
            }
        }

        Parser(ObjectReadContext readCtxt, IOContext ioCtxt, BufferRecycler br, int streamReadFeatures,
               int formatFeatures, LoadSettings loadSettings, Reader reader) {
            super(readCtxt, ioCtxt, br, streamReadFeatures, formatFeatures, loadSettings, reader);
        }

        /** Problems found so far, each naming the line and alias; markers in the tokens index into this list. */
        List<String> problems() {
            return problems;
        }

        @Override
        protected Event nextEvent() {
            Event e;
            boolean replayed = !replay.isEmpty();
            if (replayed) {
                e = replay.removeFirst();
            } else {
                e = super.nextEvent();
                if (e == null) {
                    return null;
                }
                if (e instanceof DocumentStartEvent) {
                    anchors.clear(); // anchors are per document
                }
                if (e instanceof AliasEvent a) {
                    e = resolve(a);
                    replayed = e != a;
                }
            }
            if (!replayed && e instanceof NodeEvent ne && ne.getAnchor().isPresent()) {
                String name = ne.getAnchor().get().getValue();
                if (e instanceof CollectionStartEvent) {
                    recording.push(new Recording(name));
                } else {
                    anchors.put(name, List.of(e));
                }
            }
            e = checkMergeKey(e);
            record(e);
            return e;
        }

        private Event resolve(AliasEvent a) {
            String name = a.getAlias().getValue();
            int line = line(a.getStartMark());
            for (Recording r : recording) {
                if (r.anchor.equals(name)) {
                    return problem(a, "line " + line + ": alias *" + name + " refers to the node that contains it");
                }
            }
            if (!anchors.containsKey(name)) {
                return problem(a, "line " + line + ": alias *" + name + " refers to no anchor &" + name
                        + " before it in the same document");
            }
            List<Event> events = anchors.get(name);
            long nodes = events == null ? Long.MAX_VALUE : events.stream().filter(ev -> !(ev instanceof CollectionEndEvent)).count();
            if (events == null || (expanded += nodes) > limits.aliasNodes()) {
                throw new LimitExceeded("line " + line + ": aliases expand to more than " + limits.aliasNodes()
                        + " YAML nodes (the alias expansion limit; raise it with the environment variable "
                        + Limits.ALIAS_ENV + ")");
            }
            replay.addAll(events);
            return replay.removeFirst();
        }

        private Event problem(Event at, String message) {
            problems.add(message);
            return new ScalarEvent(Optional.empty(), Optional.empty(), new ImplicitTuple(false, true),
                    MARKER + (problems.size() - 1), ScalarStyle.DOUBLE_QUOTED, at.getStartMark(), at.getEndMark());
        }

        /** Tracks key/value positions; a merge key {@code <<} in key position becomes a problem. */
        private Event checkMergeKey(Event e) {
            boolean[] top = open.peek();
            boolean startsNode = e instanceof NodeEvent;
            if (startsNode && top != null && top[0] && top[1] && e instanceof ScalarEvent s && s.isPlain()
                    && s.getValue().equals("<<")) {
                e = problem(e, "line " + line(e.getStartMark()) + ": merge key << is not supported (write the keys"
                        + " out, or use an alias as the whole value)");
            }
            if (e instanceof CollectionStartEvent) {
                open.push(new boolean[] {e instanceof MappingStartEvent, true});
            } else if (e instanceof CollectionEndEvent) {
                open.pop();
                flip();
            } else if (startsNode) {
                flip();
            }
            return e;
        }

        private void flip() {
            boolean[] top = open.peek();
            if (top != null && top[0]) {
                top[1] = !top[1];
            }
        }

        /** Adds {@code e} to every open anchored collection; closes the one it ends. */
        private void record(Event e) {
            if (recording.isEmpty()) {
                return;
            }
            for (Recording r : recording) {
                if (r.events != null) {
                    r.events.add(e);
                    if (r.events.size() > limits.aliasNodes() * 2 + 2) {
                        r.events = null; // could never be replayed within the limit: stop keeping it
                    }
                }
                if (e instanceof CollectionStartEvent) {
                    r.depth++;
                } else if (e instanceof CollectionEndEvent) {
                    r.depth--;
                }
            }
            Recording inner = recording.peek();
            if (inner.depth == 0) {
                recording.pop();
                anchors.put(inner.anchor, inner.events);
            }
        }

        private static int line(Optional<Mark> m) {
            return m.map(x -> x.getLine() + 1).orElse(0);
        }
    }

    /** Whether {@code e} (or a cause) is a failure to decode the bytes as UTF-8. */
    static boolean isEncoding(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof CharacterCodingException) {
                return true;
            }
        }
        return false;
    }
}
