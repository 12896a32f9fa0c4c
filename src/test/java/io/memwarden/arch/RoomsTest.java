package io.memwarden.arch;

import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import io.memwarden.model.Clock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The rooms (top-level packages under {@code io.memwarden}) and the rooms each may depend on: DESIGN.md §2, the table
 * in docs/architecture.md. A change that adds an edge the table does not allow fails here, naming the classes.
 */
class RoomsTest {
    static final String BASE = "io.memwarden.";

    /** Room → the other rooms it may use. Every room of src/main must be listed. */
    static final Map<String, Set<String>> ALLOWED = Map.ofEntries(
            Map.entry("model", Set.of()),
            Map.entry("policy", Set.of("model")),
            Map.entry("density", Set.of("model", "policy")),
            Map.entry("input", Set.of("model", "policy")),
            Map.entry("cgroup", Set.of("model")),
            Map.entry("kernel", Set.of("model")),
            Map.entry("control", Set.of("model", "policy")),
            Map.entry("loops", Set.of("model", "policy", "control", "cgroup", "kernel")),
            Map.entry("nri", Set.of("model", "policy", "input")),
            Map.entry("k8s", Set.of("model", "input")),
            Map.entry("runner", Set.of("model", "policy", "input", "control", "cgroup", "kernel", "loops")),
            Map.entry("api", Set.of("model", "loops")),
            Map.entry("view", Set.of("model")),
            Map.entry("agent", Set.of("model", "policy", "input", "control", "cgroup", "kernel", "loops", "nri", "k8s",
                    "runner", "api", "view")),
            Map.entry("bench", Set.of("model", "policy", "input", "control", "cgroup", "kernel", "loops", "runner",
                    "api", "view")),
            Map.entry("cli", Set.of("model", "policy", "input", "control", "cgroup", "kernel", "loops", "nri", "k8s",
                    "runner", "api", "view", "agent", "bench", "density")));

    static JavaClasses classes;

    @BeforeAll
    static void importMain() {
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.memwarden");
    }

    static String room(JavaClass c) {
        String p = c.getPackageName();
        if (!p.startsWith(BASE)) {
            return null;
        }
        String rest = p.substring(BASE.length());
        int dot = rest.indexOf('.');
        return dot < 0 ? rest : rest.substring(0, dot);
    }

    @Test
    void everyRoomIsInTheTable() {
        Set<String> rooms = new TreeSet<>();
        for (JavaClass c : classes) {
            String r = room(c);
            if (r != null) {
                rooms.add(r);
            }
        }
        assertThat(rooms).isNotEmpty();
        assertThat(ALLOWED.keySet()).as("rooms of src/main missing from the table (add them with their edges)")
                .containsAll(rooms);
    }

    @Test
    void everyEdgeBetweenRoomsIsAllowed() {
        Set<String> violations = new TreeSet<>();
        for (JavaClass c : classes) {
            String from = room(c);
            if (from == null || !ALLOWED.containsKey(from)) {
                continue;
            }
            for (Dependency d : c.getDirectDependenciesFromSelf()) {
                String to = room(d.getTargetClass());
                if (to == null || to.equals(from) || ALLOWED.get(from).contains(to)) {
                    continue;
                }
                violations.add(from + " -> " + to + ": " + c.getName() + " uses " + d.getTargetClass().getName());
            }
        }
        assertThat(violations).as("edges the rooms table does not allow (docs/architecture.md)").isEmpty();
    }

    @Test
    void theTableItselfHasNoCycle() {
        for (String room : ALLOWED.keySet()) {
            assertThat(reaches(room, room, new TreeSet<>())).as("a cycle through " + room).isFalse();
        }
    }

    private static boolean reaches(String from, String target, Set<String> seen) {
        for (String next : ALLOWED.getOrDefault(from, Set.of())) {
            if (next.equals(target)) {
                return true;
            }
            if (seen.add(next) && reaches(next, target, seen)) {
                return true;
            }
        }
        return false;
    }

    /** The rooms that must stay pure: no file, socket, process or clock of their own (DESIGN.md §2). */
    static final List<String> PURE = List.of("model", "policy", "density", "control", "view");
    static final String CLOCK = Clock.class.getName();

    @Test
    void pureRoomsDoNoIo() {
        Set<String> violations = new TreeSet<>();
        for (JavaClass c : classes) {
            String r = room(c);
            if (r == null || !PURE.contains(r) || c.getName().startsWith(CLOCK)) {
                continue; // model.Clock is the vocabulary of time and holds the one system clock (Clock.SYSTEM)
            }
            for (Dependency d : c.getDirectDependenciesFromSelf()) {
                String t = d.getTargetClass().getName();
                if (t.startsWith("java.nio.file.") || t.startsWith("java.nio.channels.") || t.startsWith("java.net.")
                        || t.equals("java.io.File") || t.startsWith("java.io.FileInputStream")
                        || t.startsWith("java.io.FileOutputStream") || t.equals("java.lang.ProcessBuilder")
                        || t.equals("java.lang.Runtime") || t.equals("java.time.Clock")
                        || d.getDescription().contains("System.currentTimeMillis")
                        || d.getDescription().contains("System.nanoTime")
                        || d.getDescription().contains("Thread.sleep")) {
                    violations.add(r + ": " + c.getName() + " uses " + t + " (" + d.getDescription() + ")");
                }
            }
        }
        assertThat(violations).as("I/O or a clock in a pure room").isEmpty();
    }

    /** A project type named in full in code hides an edge from the import lines: import it instead. */
    @Test
    void noInlineQualifiedProjectNames() throws Exception {
        Pattern inline = Pattern.compile("(?<![\\w.\"])io\\.memwarden\\.[a-z0-9.]+\\.[A-Z]");
        List<String> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(Path.of("src/main/java"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                List<String> lines = Files.readAllLines(f);
                for (int n = 0; n < lines.size(); n++) {
                    String l = lines.get(n).strip();
                    if (l.startsWith("import ") || l.startsWith("package ") || l.startsWith("*") || l.startsWith("/*")
                            || l.startsWith("//")) {
                        continue;
                    }
                    if (inline.matcher(l).find()) {
                        found.add(f + ":" + (n + 1) + ": " + l);
                    }
                }
            }
        }
        assertThat(found).as("inline fully-qualified project names in src/main").isEmpty();
    }
}
