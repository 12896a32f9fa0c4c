package io.memwarden.input;

import io.memwarden.model.KubeQuantity;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.core.JacksonException;
import tools.jackson.core.exc.JacksonIOException;
import tools.jackson.core.exc.StreamConstraintsException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.MappingIterator;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.dataformat.yaml.YAMLFactory;
import tools.jackson.dataformat.yaml.YAMLMapper;

/** Reading YAML documents and typed fields with errors that name the file, field and value. */
public final class YamlDocs {
    private YamlDocs() {}

    public static final ObjectMapper MAPPER = YAMLMapper.builder().build();

    /** The limits from the environment (read once: they do not change while memwarden runs). */
    private static final YamlStream.Limits LIMITS;
    private static final YAMLFactory FACTORY;
    private static final String LIMITS_ERROR;

    static {
        YamlStream.Limits l;
        String err = null;
        try {
            l = YamlStream.Limits.fromEnvironment();
        } catch (YamlStream.LimitExceeded e) {
            err = e.getMessage();
            l = new YamlStream.Limits(YamlStream.Limits.defaultBytes(), YamlStream.Limits.DEFAULT_DEPTH,
                    YamlStream.Limits.DEFAULT_ALIAS_NODES);
        }
        LIMITS = l;
        LIMITS_ERROR = err;
        FACTORY = YamlStream.factory(l);
    }

    /** The input size limit in bytes (MEMWARDEN_MAX_INPUT_SIZE, else a sixteenth of the heap). */
    public static long maxInputBytes() {
        return LIMITS.bytes();
    }

    /**
     * The documents of a YAML file and the problems found in them (an alias to no anchor, a merge key): each problem
     * stands in the documents as a marker string, so a reader can tell which part of the file it is in.
     */
    public record Docs(List<JsonNode> docs, List<String> problems) {
        /** The first problem inside {@code n} (a value or a property name), or null. */
        public String problemIn(JsonNode n) {
            if (problems.isEmpty() || n == null) {
                return null;
            }
            ArrayDeque<JsonNode> todo = new ArrayDeque<>();
            todo.push(n);
            while (!todo.isEmpty()) {
                JsonNode x = todo.pop();
                if (x.isString()) {
                    String p = problem(x.stringValue());
                    if (p != null) {
                        return p;
                    }
                } else if (x.isObject()) {
                    for (var e : x.properties()) {
                        String p = problem(e.getKey());
                        if (p != null) {
                            return p;
                        }
                        todo.push(e.getValue());
                    }
                } else if (x.isArray()) {
                    x.values().forEach(todo::push);
                }
            }
            return null;
        }

        /** The problem that {@code text} is the marker of, or null. */
        public String problem(String text) {
            if (text == null || !text.startsWith(YamlStream.MARKER)) {
                return null;
            }
            try {
                return problems.get(Integer.parseInt(text.substring(YamlStream.MARKER.length())));
            } catch (RuntimeException e) {
                return null;
            }
        }
    }

    /** Every document of a (multi-document) YAML file; empty documents are skipped; an alias problem is an error. */
    public static List<JsonNode> readAll(Path file) throws InputException {
        return strict(file.toString(), readDocs(file));
    }

    public static List<JsonNode> readAll(String name, String text) throws InputException {
        return strict(name, readDocs(name, text));
    }

    private static List<JsonNode> strict(String name, Docs d) throws InputException {
        if (!d.problems().isEmpty()) {
            throw new InputException(name + ": " + d.problems().getFirst());
        }
        return d.docs();
    }

    /** {@link #readAll(Path)}, leaving alias problems in the {@link Docs} for the caller to place. */
    public static Docs readDocs(Path file) throws InputException {
        try (InputStream in = Files.newInputStream(file)) {
            return read(file.toString(), in, LIMITS);
        } catch (IOException e) {
            throw new InputException(file + ": cannot read: " + ioReason(e), e);
        }
    }

    /** {@link #readDocs(Path)} from a stream that {@code name} names in errors. */
    public static Docs readDocs(String name, InputStream in) throws InputException {
        return read(name, in, LIMITS);
    }

    public static Docs readDocs(String name, String text) throws InputException {
        return read(name, new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), LIMITS);
    }

    /** Reads with explicit limits (tests; the defaults come from the environment). */
    static Docs read(String name, InputStream in, YamlStream.Limits limits) throws InputException {
        if (LIMITS_ERROR != null) {
            throw new InputException(name + ": cannot read: " + LIMITS_ERROR);
        }
        List<JsonNode> docs = new ArrayList<>();
        YAMLFactory factory = limits.equals(LIMITS) ? FACTORY : YamlStream.factory(limits);
        YamlStream.Parser p = YamlStream.open(factory, limits, in);
        try (MappingIterator<JsonNode> it = MAPPER.readerFor(JsonNode.class).readValues(p)) {
            while (it.hasNextValue()) {
                JsonNode n = it.nextValue();
                if (n != null && !n.isNull() && !n.isMissingNode()) {
                    docs.add(n);
                }
            }
        } catch (YamlStream.LimitExceeded e) {
            throw new InputException(name + ": " + e.getMessage());
        } catch (JacksonException e) {
            int at = e.getLocation() != null && e.getLocation().getLineNr() > 0 ? e.getLocation().getLineNr()
                    : p.currentTokenLocation() != null ? p.currentTokenLocation().getLineNr() : 0;
            throw new InputException(name + ": " + jacksonReason(e, at, limits), e);
        } catch (OutOfMemoryError e) {
            docs = null;
            throw new InputException(name + ": not enough memory to read it with a heap of "
                    + Runtime.getRuntime().maxMemory() / (1 << 20) + " MiB (raise MEMWARDEN_HEAP, or lower "
                    + YamlStream.Limits.SIZE_ENV + " to refuse such files early)");
        }
        return new Docs(docs, List.copyOf(p.problems()));
    }

    /** A Jackson/SnakeYAML failure in words, with the line; never a Java class name. */
    private static String jacksonReason(JacksonException e, int at, YamlStream.Limits limits) {
        String line = at > 0 ? "line " + at + ": " : "";
        if (e.getCause() instanceof YamlStream.LimitExceeded l) {
            return l.getMessage();
        }
        if (YamlStream.isEncoding(e)) {
            return line + "not UTF-8 text (binary data?)";
        }
        if (e instanceof JacksonIOException io) {
            return "cannot read: " + ioReason(io.getCause());
        }
        String m = String.valueOf(e.getOriginalMessage());
        if (e instanceof StreamConstraintsException) {
            if (m.contains("nesting depth")) {
                return line + "nested deeper than " + limits.depth() + " levels (the nesting limit; raise it with"
                        + " the environment variable " + YamlStream.Limits.DEPTH_ENV + ")";
            }
            if (m.contains("Number value length")) {
                return line + "a number longer than 1000 digits (a fixed limit: no memwarden field takes one)";
            }
            return line + "exceeds a parser limit: " + clean(m);
        }
        return "not valid YAML: " + clean(m) + (line.isEmpty() ? "" : " (" + line.substring(0, line.length() - 2) + ")");
    }

    private static final java.util.regex.Pattern JAVA_NUMBER = java.util.regex.Pattern.compile(
            "\\bjava\\.(?:math\\.Big(?:Integer|Decimal)|lang\\.(?:Long|Integer|Short|Byte|Double|Float|Number))\\b");
    private static final java.util.regex.Pattern JAVA_TYPE = java.util.regex.Pattern.compile(
            "\\b(?:java|javax|jdk|sun|tools\\.jackson|com\\.fasterxml|org\\.snakeyaml)(?:\\.[A-Za-z_$][\\w$]*)+");

    /**
     * A parser's message as users see it: Java type names said in words (a parser may name the type it failed to
     * make: "number", "text", else "value"), control characters (a NUL in the input, say) shown as \\uXXXX.
     */
    static String clean(String raw) {
        String m = JAVA_NUMBER.matcher(raw).replaceAll("number");
        m = m.replace("java.lang.String", "text");
        m = JAVA_TYPE.matcher(m).replaceAll("value");
        StringBuilder sb = new StringBuilder(m.length());
        m.chars().forEach(c -> {
            if (c < 0x20 && c != '\n' && c != '\t' || c == 0x7f) {
                sb.append(String.format("\\u%04x", c));
            } else {
                sb.append((char) c);
            }
        });
        return sb.toString();
    }

    private static String ioReason(Throwable e) {
        if (e instanceof NoSuchFileException) {
            return "no such file";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        String m = e == null ? null : e.getMessage();
        return m == null ? "read error" : m;
    }

    /** The single document of a file; an object is required. */
    public static JsonNode readOne(Path file) throws InputException {
        List<JsonNode> docs = readAll(file);
        if (docs.size() != 1 || !docs.getFirst().isObject()) {
            throw new InputException(file + ": expected one YAML mapping, found "
                    + (docs.isEmpty() ? "nothing" : docs.size() + " document(s)"));
        }
        return docs.getFirst();
    }

    /** A quantity field (string or number) in bytes, or null when absent; negative values are rejected. */
    public static Long quantity(String file, String field, JsonNode n) throws InputException {
        if (n == null || n.isNull() || n.isMissingNode()) {
            return null;
        }
        if (!(n.isString() || n.isNumber())) {
            throw InputException.field(file, field, "expected a quantity such as 16Gi, got " + n);
        }
        String text = n.isString() ? n.stringValue() : n.asString();
        try {
            KubeQuantity q = KubeQuantity.parse(text);
            if (q.signum() < 0) {
                throw InputException.field(file, field, "\"" + text + "\" must not be negative");
            }
            return q.bytes();
        } catch (IllegalArgumentException e) {
            throw InputException.field(file, field, e.getMessage());
        }
    }

    public static Boolean bool(String file, String field, JsonNode n) throws InputException {
        if (n == null || n.isNull() || n.isMissingNode()) {
            return null;
        }
        if (!n.isBoolean()) {
            throw InputException.field(file, field, "expected true or false, got " + n);
        }
        return n.booleanValue();
    }

    public static String string(String file, String field, JsonNode n) throws InputException {
        if (n == null || n.isNull() || n.isMissingNode()) {
            return null;
        }
        if (!n.isString()) {
            throw InputException.field(file, field, "expected a string, got " + n);
        }
        return n.stringValue();
    }

    public static List<String> strings(String file, String field, JsonNode n) throws InputException {
        List<String> out = new ArrayList<>();
        if (n == null || n.isNull() || n.isMissingNode()) {
            return out;
        }
        if (!n.isArray()) {
            throw InputException.field(file, field, "expected a list of strings, got " + n);
        }
        int i = 0;
        for (JsonNode e : n.values()) {
            out.add(string(file, field + "[" + i++ + "]", e));
        }
        return out;
    }

    public static void requireObject(String file, String field, JsonNode n) throws InputException {
        if (n != null && !n.isNull() && !n.isObject()) {
            throw InputException.field(file, field, "expected a mapping, got " + n);
        }
    }

    /** Rejects keys of {@code n} that are not in {@code known}. */
    public static void onlyKnown(String file, String prefix, JsonNode n, String... known) throws InputException {
        if (n == null || !n.isObject()) {
            return;
        }
        List<String> k = List.of(known);
        for (String name : n.propertyNames()) {
            if (!k.contains(name)) {
                throw InputException.field(file, prefix + name, "unknown field (known: " + String.join(", ", known) + ")");
            }
        }
    }

    private static final Pattern DURATION_PART = Pattern.compile("([0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)");

    /** A Go duration string ({@code 1m30s}, {@code 500ms}); "0" is zero. */
    public static Duration goDuration(String text) {
        String t = text.strip();
        if (t.equals("0")) {
            return Duration.ZERO;
        }
        boolean neg = t.startsWith("-");
        if (neg || t.startsWith("+")) {
            t = t.substring(1);
        }
        Matcher m = DURATION_PART.matcher(t);
        int pos = 0;
        double nanos = 0;
        while (pos < t.length() && m.find(pos) && m.start() == pos) {
            double v = Double.parseDouble(m.group(1));
            nanos += v * switch (m.group(2)) {
                case "ns" -> 1;
                case "us", "µs", "μs" -> 1e3;
                case "ms" -> 1e6;
                case "s" -> 1e9;
                case "m" -> 60e9;
                default -> 3600e9;
            };
            pos = m.end();
        }
        if (pos != t.length() || t.isEmpty()) {
            throw new IllegalArgumentException("\"" + text + "\" is not a duration (e.g. 90s, 1m30s, 500ms)");
        }
        Duration d = Duration.ofNanos((long) nanos);
        return neg ? d.negated() : d;
    }
}
