package io.memwarden.input;

import io.memwarden.model.KubeQuantity;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.MappingIterator;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.dataformat.yaml.YAMLMapper;

/** Reading YAML documents and typed fields with errors that name the file, field and value. */
public final class YamlDocs {
    private YamlDocs() {}

    public static final ObjectMapper MAPPER = YAMLMapper.builder().build();

    /** Every document of a (multi-document) YAML file; empty documents are skipped. */
    public static List<JsonNode> readAll(Path file) throws InputException {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new InputException(file + ": cannot read: " + e.getMessage(), e);
        }
        return readAll(file.toString(), text);
    }

    public static List<JsonNode> readAll(String name, String text) throws InputException {
        List<JsonNode> docs = new ArrayList<>();
        try (MappingIterator<JsonNode> it = MAPPER.readerFor(JsonNode.class).readValues(text)) {
            while (it.hasNextValue()) {
                JsonNode n = it.nextValue();
                if (n != null && !n.isNull() && !n.isMissingNode()) {
                    docs.add(n);
                }
            }
        } catch (JacksonException e) {
            throw new InputException(name + ": not valid YAML: " + e.getOriginalMessage()
                    + (e.getLocation() != null ? " (line " + e.getLocation().getLineNr() + ")" : ""), e);
        }
        return docs;
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
