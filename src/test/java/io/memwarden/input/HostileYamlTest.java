package io.memwarden.input;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.memwarden.model.PodSpec;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** Aliases, sizes and garbage in YAML inputs (issue #11): resolved or refused with a clear, bounded error. */
class HostileYamlTest {

    static String pod(String name, String memory) {
        return "apiVersion: v1\nkind: Pod\nmetadata: {name: " + name + "}\nspec:\n  containers:\n  - name: c\n"
                + "    resources: {limits: {memory: " + memory + "}}\n";
    }

    @Test
    void anAliasIsItsAnchoredValueNotTheAnchorName() throws Exception {
        var r = PodManifestReader.parse("pods.yaml", """
                apiVersion: v1
                kind: Pod
                metadata: {name: a}
                spec:
                  containers:
                  - name: c
                    resources: {requests: {memory: &1Gi 512Mi}, limits: {memory: *1Gi}}
                  - &side {name: d, resources: {limits: {memory: 64Mi}}}
                """);
        assertThat(r.errors()).isEmpty();
        PodSpec p = r.pods().getFirst();
        assertThat(p.containers().getFirst().resources().memoryLimit()).isEqualTo(512L << 20);
        JsonNode n = YamlDocs.readAll("x.yaml", "a: &m {x: [1, 2]}\nb: *m\nc: &s 3\nd: [*s, *m]\n").getFirst();
        assertThat(n.toString()).isEqualTo("{\"a\":{\"x\":[1,2]},\"b\":{\"x\":[1,2]},\"c\":3,\"d\":[3,{\"x\":[1,2]}]}");
    }

    @Test
    void aBadAliasIsOnePodsErrorAndTheOtherPodsAreStillPlanned() throws Exception {
        var r = PodManifestReader.parse("pods.yaml", pod("a", "1Gi") + "---\n" + pod("b", "*nope") + "---\n"
                + pod("c", "2Gi"));
        assertThat(r.pods()).extracting(PodSpec::name).containsExactly("a", "c");
        assertThat(r.errors()).singleElement().satisfies(e -> {
            assertThat(e.pod()).isEqualTo("default/b");
            assertThat(e.message()).isEqualTo("pods.yaml: line 15: alias *nope refers to no anchor &nope before it in"
                    + " the same document");
        });
        // an anchor of another document is not visible (YAML anchors are per document)
        var r2 = PodManifestReader.parse("pods.yaml", pod("a", "&m 1Gi") + "---\n" + pod("b", "*m"));
        assertThat(r2.errors()).extracting(e -> e.pod()).containsExactly("default/b");
    }

    @Test
    void anAliasedOrBrokenItemsListIsAFileError() {
        assertThatThrownBy(() -> PodManifestReader.parse("p.yaml", "apiVersion: v1\nkind: List\nitems: *a\n"))
                .isInstanceOf(InputException.class).hasMessage("p.yaml document 1: line 3: alias *a refers to no"
                        + " anchor &a before it in the same document");
        assertThatThrownBy(() -> PodManifestReader.parse("p.yaml", "x: &a 1\nkind: List\nitems: *a\n"))
                .isInstanceOf(InputException.class).hasMessage("p.yaml document 1: field items: expected a list of"
                        + " Pods, got 1");
        assertThatThrownBy(() -> YamlDocs.readAll("c.yaml", "a: &a [*a]\n"))
                .hasMessage("c.yaml: line 1: alias *a refers to the node that contains it");
        assertThatThrownBy(() -> YamlDocs.readAll("c.yaml", "b: &b {x: 1}\na:\n  <<: *b\n  y: 2\n"))
                .hasMessageStartingWith("c.yaml: line 3: merge key << is not supported");
    }

    @Test
    void configReadersResolveAliasesToo() throws Exception {
        var n = NodeFactsReader.parse("node.yaml", YamlDocs.readAll("node.yaml",
                "memoryCapacity: &m 16Gi\nallocatableMemory: *m\ncgroupVersion: 2\n").getFirst());
        assertThat(n.allocatableMemory()).isEqualTo(16L << 30);
        assertThatThrownBy(() -> NodeFactsReader.read(java.nio.file.Path.of("/nonexistent/node.yaml")))
                .hasMessage("/nonexistent/node.yaml: cannot read: no such file");
    }

    static String laughs(int levels) {
        StringBuilder b = new StringBuilder("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (int i = 1; i < levels; i++) {
            b.append("a").append(i).append(": &a").append(i).append(" [");
            for (int j = 0; j < 9; j++) {
                b.append(j > 0 ? ", " : "").append("*a").append(i - 1);
            }
            b.append("]\n");
        }
        return b.toString();
    }

    @Test
    void aBillionLaughsStopsAtTheAliasLimit() throws Exception {
        assertThatThrownBy(() -> YamlDocs.readAll("bomb.yaml", laughs(10)))
                .isInstanceOf(InputException.class)
                .hasMessageContaining("bomb.yaml: line ").hasMessageContaining("more than 100000 YAML nodes")
                .hasMessageContaining("MEMWARDEN_MAX_YAML_ALIAS_NODES");
        // below the limit it is simply expanded
        JsonNode n = YamlDocs.readAll("ok.yaml", laughs(4)).getFirst();
        assertThat(n.get("a3").size()).isEqualTo(9);
        assertThat(n.get("a3").get(8).get(8).get(8).get(8).stringValue()).isEqualTo("lol");
    }

    @Test
    void deepNestingHugeNumbersNulsAndBinaryAreClearErrors() {
        assertThatThrownBy(() -> YamlDocs.readAll("d.yaml", "[".repeat(100_000)))
                .hasMessageStartingWith("d.yaml: ").hasMessageContaining("nested deeper than 100 levels")
                .hasMessageContaining("MEMWARDEN_MAX_YAML_DEPTH");
        assertThatThrownBy(() -> YamlDocs.readAll("n.yaml", "a: " + "9".repeat(5000) + "\n"))
                .hasMessage("n.yaml: line 1: a number longer than 1000 digits (a fixed limit: no memwarden field takes one)");
        assertThatThrownBy(() -> YamlDocs.readAll("z.yaml", "\0".repeat(10_000)))
                .hasMessageStartingWith("z.yaml: not valid YAML: ").hasMessageNotContaining("\0");
        assertThatThrownBy(() -> YamlDocs.read("b.yaml", new ByteArrayInputStream(new byte[] {'a', ':', ' ',
                (byte) 0xff, (byte) 0xfe, '\n'}), limits(1000)))
                .hasMessage("b.yaml: line 1: not UTF-8 text (binary data?)");
    }

    static YamlStream.Limits limits(long bytes) {
        return new YamlStream.Limits(bytes, 100, 100_000);
    }

    /** An endless stream (/dev/zero, a FIFO that is never closed) ends at the size limit. */
    @Test
    void anEndlessInputEndsAtTheSizeLimit() {
        InputStream endless = new InputStream() {
            @Override
            public int read() {
                return 'a';
            }
        };
        assertThatThrownBy(() -> YamlDocs.read("fifo", new ByteArrayInputStream(("x: [" + "1, ".repeat(400_000))
                .getBytes(StandardCharsets.UTF_8)), limits(1 << 20)))
                .hasMessage("fifo: larger than the input size limit of 1048576 bytes (raise it with the environment"
                        + " variable MEMWARDEN_MAX_INPUT_SIZE, e.g. MEMWARDEN_MAX_INPUT_SIZE=64Mi, and the heap with"
                        + " MEMWARDEN_HEAP: a parsed file takes about 8 times its size)");
        assertThatThrownBy(() -> YamlDocs.read("line", endless, limits(64 << 20)))
                .hasMessageStartingWith("line: has a line longer than the limit of 1048576 bytes");
    }

    @Test
    void aFifteenMegabyteKubectlPodListIsPlanned() throws Exception {
        String text = KubectlPodList.yaml(2050, 7);
        assertThat(text.length()).isGreaterThan(15_000_000);
        var r = PodManifestReader.parse("pods.yaml", text);
        assertThat(r.errors()).isEmpty();
        assertThat(r.pods()).hasSize(2050);
        assertThat(r.pods().get(5).key()).isEqualTo(KubectlPodList.key(5));
    }

    // ---- properties ----

    /** A YAML value (flow style) and the same value with every alias written out by hand. */
    record Generated(String yaml, String expanded) {}

    @Provide
    Arbitrary<List<String>> scalars() {
        return Arbitraries.oneOf(
                Arbitraries.strings().alpha().numeric().ofMinLength(1).ofMaxLength(8),
                Arbitraries.integers().between(-1000, 1000).map(String::valueOf),
                Arbitraries.of("512Mi", "1Gi", "true", "null", "1.5", "\"a b\"", "'x: y'", "\"\\u00e9\u00e9\"", "~"))
                .list().ofMinSize(1).ofMaxSize(6);
    }

    /**
     * Anchored scalars and collections, then a mapping that refers to them by alias: read, it equals the mapping
     * with each alias replaced by its anchored text.
     */
    @Property(tries = 300)
    void anAliasReadsAsItsValueWrittenOut(@ForAll("scalars") List<String> values, @ForAll @IntRange(min = 0, max = 20)
            int uses, @ForAll long seed) throws Exception {
        java.util.Random r = new java.util.Random(seed);
        List<String> anchors = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        StringBuilder yaml = new StringBuilder();
        StringBuilder plain = new StringBuilder();
        for (int i = 0; i < values.size(); i++) {
            String name = i % 2 == 0 ? "a" + i : i + "Gi";
            String text = switch (r.nextInt(3)) {
                case 0 -> values.get(i);
                case 1 -> "[" + values.get(i) + ", " + values.get((i + 1) % values.size()) + "]";
                default -> "{k: " + values.get(i) + "}";
            };
            anchors.add(name);
            texts.add(text);
            yaml.append("d").append(i).append(": &").append(name).append(" ").append(text).append("\n");
            plain.append("d").append(i).append(": ").append(text).append("\n");
        }
        for (int u = 0; u < uses; u++) {
            int i = r.nextInt(anchors.size());
            String ws = r.nextBoolean() ? " " : "   ";
            yaml.append("u").append(u).append(":").append(ws).append("[*").append(anchors.get(i)).append(" ]\n");
            plain.append("u").append(u).append(":").append(ws).append("[").append(texts.get(i)).append(" ]\n");
        }
        JsonNode read = YamlDocs.readAll("p.yaml", yaml.toString()).getFirst();
        JsonNode byHand = YamlDocs.MAPPER.readTree(plain.toString());
        assertThat(read).isEqualTo(byHand);
    }

    @Provide
    Arbitrary<String> garbage() {
        Arbitrary<String> pieces = Arbitraries.of("[", "]", "{", "}", ":", "- ", "&a ", "*a", "*b", "&b ", "<<: ",
                "\n", "  ", "\t", "---\n", "\"", "'", "#", "!!binary ", "!!int ", "9".repeat(1200), "1e999",
                "0x", "\u00e9", "\u202e", "\ud83d\ude00", "\0", "\u0007", "key", "kind: Pod", "? ", "|", ">", "%YAML 1.2\n");
        return pieces.list().ofMaxSize(60).map(l -> String.join("", l));
    }

    /** Whatever the text, the readers throw nothing but InputException, naming the file, with no Java text. */
    @Property(tries = 1000)
    void onlyInputExceptionsNamingTheFile(@ForAll("garbage") String text) {
        for (Reader reader : List.<Reader>of(
                t -> PodManifestReader.parse("g.yaml", t),
                t -> NodeFactsReader.parse("g.yaml", YamlDocs.readAll("g.yaml", t).getFirst()),
                t -> KubeletConfigReader.parse("g.yaml", YamlDocs.readAll("g.yaml", t).getFirst()),
                t -> WardenConfigReader.parse("g.yaml", YamlDocs.readAll("g.yaml", t).getFirst()),
                t -> UsageReader.parse("g.yaml", YamlDocs.readAll("g.yaml", t).getFirst()))) {
            try {
                reader.read(text);
            } catch (InputException e) {
                assertThat(e.getMessage()).startsWith("g.yaml").doesNotContain("java.", "Exception", "\0");
            } catch (java.util.NoSuchElementException e) {
                // getFirst() of no documents: the test's shortcut, not the reader's
            }
        }
    }

    interface Reader {
        void read(String text) throws InputException;
    }

    /** One bad document (a bad alias, a merge key, a bad value) never changes another pod's result. */
    @Property(tries = 200)
    void aBadDocumentLeavesTheOtherPodsAlone(@ForAll @IntRange(min = 1, max = 5) int good,
                                             @ForAll @IntRange(min = 0, max = 5) int at,
                                             @ForAll("badMemory") String bad) throws Exception {
        List<String> docs = new ArrayList<>();
        for (int i = 0; i < good; i++) {
            docs.add(pod("p" + i, "&m" + i + " " + (i + 1) + "Gi"));
        }
        docs.add(Math.min(at, docs.size()), pod("bad", bad));
        var alone = PodManifestReader.parse("pods.yaml", docs.stream()
                .filter(d -> !d.contains("name: bad")).reduce((a, b) -> a + "---\n" + b).orElseThrow());
        var r = PodManifestReader.parse("pods.yaml", String.join("---\n", docs));
        assertThat(r.pods().stream().filter(p -> !p.name().equals("bad")).toList()).isEqualTo(alone.pods());
        assertThat(r.errors()).allSatisfy(e -> assertThat(e.pod()).isEqualTo("default/bad"));
    }

    @Provide
    Arbitrary<String> badMemory() {
        return Arbitraries.of("*nope", "*m0", "1GB", "[1, *x]", "{a: &q 1, b: *q}", "-1Gi", "*bad", "\"*m1\"");
    }

    /** A parser's message that names Java types (seen once from random garbage) is said in words. */
    @Test
    void javaTypeNamesInAParserMessageAreSaidInWords() {
        assertThat(YamlDocs.clean("Cannot coerce `java.math.BigInteger` to `java.lang.String` (tools.jackson.core"
                + ".exc.StreamReadException)")).isEqualTo("Cannot coerce `number` to `text` (value)")
                .doesNotContain("java.", "Exception");
    }
}
