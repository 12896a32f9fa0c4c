package io.memwarden.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.xpath.XPathFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;

/**
 * deploy/Dockerfile against the repository it builds (no container engine needed): the jar name is pom.xml's
 * finalName, the JDK is the pom's release, and the JVM flags are bin/memwarden's daemon flags, identical in the
 * AOT training run and the ENTRYPOINT, so that the cache trained at build time is the one used at run time.
 */
class DockerfileTest {

    static final Path ROOT = Manifests.ROOT;

    record Instruction(String keyword, String args) {}

    static List<Instruction> dockerfile;
    static String finalName;
    static String release;
    static List<String> daemonFlags;

    @BeforeAll
    static void parse() throws Exception {
        dockerfile = instructions(Files.readString(ROOT.resolve("deploy/Dockerfile")));
        Document pom = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(ROOT.resolve("pom.xml").toFile());
        var xpath = XPathFactory.newInstance().newXPath();
        finalName = xpath.evaluate(
                "/project/build/plugins/plugin[artifactId='maven-shade-plugin']//configuration/finalName", pom).strip();
        release = xpath.evaluate("/project/properties/*[local-name()='maven.compiler.release']", pom).strip();
        assertThat(finalName).as("shade finalName in pom.xml").isNotEmpty();
        assertThat(release).as("maven.compiler.release in pom.xml").matches("\\d+");
        daemonFlags = daemonFlags(Files.readString(ROOT.resolve("bin/memwarden")));
    }

    /** Dockerfile instructions: comments dropped, continuation lines joined. */
    static List<Instruction> instructions(String text) {
        List<Instruction> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (String line : text.split("\n", -1)) {
            String t = line.strip();
            if (t.startsWith("#") || (t.isEmpty() && cur.isEmpty())) {
                continue;
            }
            if (t.endsWith("\\")) {
                cur.append(t, 0, t.length() - 1).append(' ');
                continue;
            }
            cur.append(t);
            String s = cur.toString().strip();
            cur.setLength(0);
            if (!s.isEmpty()) {
                int sp = s.indexOf(' ');
                out.add(new Instruction(s.substring(0, sp).toUpperCase(), s.substring(sp + 1).strip()));
            }
        }
        assertThat(cur.toString()).as("unterminated continuation").isBlank();
        return out;
    }

    /** The flags bin/memwarden gives a long-running command ("agent"): the common array plus the daemon case. */
    static List<String> daemonFlags(String script) {
        Matcher common = Pattern.compile("(?ms)^flags=\\((.*?)\\)").matcher(script);
        assertThat(common.find()).as("flags=( ... ) in bin/memwarden").isTrue();
        Matcher daemon = Pattern.compile("(?ms)^\\s*([\\w|]+)\\)(?:\\s*\\w+=\\w+)*\\s*flags\\+=\\((.*?)\\)\\s*;;").matcher(script);
        List<String> out = new ArrayList<>(words(common.group(1)));
        boolean found = false;
        while (daemon.find()) {
            if (Arrays.asList(daemon.group(1).split("\\|")).contains("agent")) {
                out.addAll(words(daemon.group(2)));
                found = true;
            }
        }
        assertThat(found).as("a case for `agent` in bin/memwarden").isTrue();
        return out;
    }

    /** Shell words of a flags array, with ${VAR:-default} replaced by its default and comments dropped. */
    static List<String> words(String s) {
        String noComments = s.lines().map(l -> l.replaceFirst("#.*$", "")).reduce("", (a, b) -> a + " " + b);
        String expanded = noComments.replaceAll("\\$\\{\\w+:-([^}]*)}", "$1");
        assertThat(expanded).as("unexpanded shell in %s", s).doesNotContain("$");
        return Arrays.stream(expanded.strip().split("\\s+")).filter(w -> !w.isEmpty()).toList();
    }

    static List<Instruction> all(String keyword) {
        return dockerfile.stream().filter(i -> i.keyword().equals(keyword)).toList();
    }

    /** The instructions of the stage starting at the n-th FROM. */
    static List<Instruction> stage(int n) {
        List<Instruction> out = new ArrayList<>();
        int seen = -1;
        for (Instruction i : dockerfile) {
            if (i.keyword().equals("FROM")) {
                seen++;
            }
            if (seen == n) {
                out.add(i);
            }
        }
        return out;
    }

    static Instruction one(List<Instruction> is) {
        assertThat(is).hasSize(1);
        return is.getFirst();
    }

    static List<String> exec(Instruction i) throws Exception {
        assertThat(i.args()).as("%s in exec (JSON) form", i.keyword()).startsWith("[");
        return Arrays.asList(Manifests.YAML.readValue(i.args(), String[].class));
    }

    @Test
    void stagesUseThePomsJdk() {
        List<Instruction> from = all("FROM");
        assertThat(from).hasSize(2);
        assertThat(from.get(0).args()).matches("maven:[\\w.-]*eclipse-temurin-" + release + " AS build");
        assertThat(from.get(1).args()).isEqualTo("eclipse-temurin:" + release + "-jre");
        assertThat(stage(0)).filteredOn(i -> i.keyword().equals("RUN"))
                .anySatisfy(i -> assertThat(i.args()).endsWith("mvn -B -ntp package -DskipTests"));
    }

    @Test
    void theJarIsThePomsFinalName() throws Exception {
        String jar = finalName + ".jar";
        List<Instruction> copies = stage(1).stream().filter(i -> i.keyword().equals("COPY")).toList();
        assertThat(copies).singleElement().satisfies(c ->
                assertThat(c.args()).isEqualTo("--from=build /src/target/" + jar + " /opt/memwarden/" + jar));
        List<String> entry = exec(one(all("ENTRYPOINT")));
        assertThat(entry.get(entry.size() - 2)).isEqualTo("-jar");
        assertThat(entry.getLast()).isEqualTo("/opt/memwarden/" + jar);
        assertThat(exec(one(all("CMD")))).containsExactly("agent");
    }

    @Test
    void jvmFlagsAreBinMemwardensDaemonFlagsInTrainingAndAtRunTime() throws Exception {
        // the JVM refuses -XX:AOTCache with any -Xshare option: the image uses the AOT cache in its place
        List<String> expected = daemonFlags.stream().filter(f -> !f.startsWith("-Xshare:")).toList();
        assertThat(expected).contains("-XX:+UseSerialGC", "--enable-native-access=ALL-UNNAMED");

        List<String> entry = exec(one(all("ENTRYPOINT")));
        assertThat(entry.getFirst()).isEqualTo("java");
        List<String> runFlags = entry.subList(1, entry.indexOf("-jar"));
        List<String> aot = runFlags.stream().filter(f -> f.startsWith("-XX:AOTCache=")).toList();
        assertThat(aot).hasSize(1);
        // the flags bin/memwarden adds when it uses its cache (besides -XX:AOTCache itself)
        Matcher use = Pattern.compile("flags\\+=\\(-XX:AOTCache=\"\\$aot\"([^)]*)\\)")
                .matcher(Files.readString(ROOT.resolve("bin/memwarden")));
        assertThat(use.find()).as("bin/memwarden's flags for using its AOT cache").isTrue();
        List<String> cacheUse = words(use.group(1));
        List<String> withCache = new ArrayList<>(expected);
        withCache.addAll(cacheUse);
        assertThat(runFlags.stream().filter(f -> !aot.contains(f)).toList()).isEqualTo(withCache);

        Instruction train = stage(1).stream().filter(i -> i.keyword().equals("RUN")
                && i.args().contains("-XX:AOTCacheOutput=")).collect(java.util.stream.Collectors.collectingAndThen(java.util.stream.Collectors.toList(), DockerfileTest::one));
        List<String> t = Arrays.asList(train.args().split("\\s+"));
        assertThat(t.getFirst()).isEqualTo("java");
        assertThat(t.subList(t.size() - 3, t.size()))
                .containsExactly("-jar", entry.getLast(), "aot-train");
        List<String> trainFlags = t.subList(1, t.indexOf("-jar"));
        String output = aot.getFirst().replace("-XX:AOTCache=", "-XX:AOTCacheOutput=");
        assertThat(trainFlags).contains(output);
        assertThat(trainFlags.stream().filter(f -> !f.equals(output)).toList())
                .as("training flags = run-time flags (the cache is only used with the flags it was made with)")
                .isEqualTo(expected);
        assertThat(dockerfile).noneMatch(i -> i.args().contains("-Xshare"));
    }

    @Test
    void theBuildContextHoldsWhatTheBuildCopies() throws Exception {
        List<String> ignore = Files.readAllLines(ROOT.resolve("deploy/Dockerfile.dockerignore")).stream()
                .map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        assertThat(ignore.getFirst()).isEqualTo("*");
        for (Instruction c : stage(0)) {
            if (c.keyword().equals("COPY")) {
                String[] parts = c.args().split("\\s+");
                for (int i = 0; i < parts.length - 1; i++) {
                    String src = parts[i].replaceFirst("/$", "");
                    assertThat(ignore).as("context path %s re-included", src).contains("!" + src);
                    assertThat(ROOT.resolve(src)).exists();
                }
            }
        }
    }
}
