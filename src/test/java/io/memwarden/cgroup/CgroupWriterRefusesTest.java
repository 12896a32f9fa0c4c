package io.memwarden.cgroup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.memwarden.model.CgroupVersion;
import io.memwarden.model.CgroupFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The writer writes only the memory controller's settings files of its cgroup, whatever a plan names (issue #11,
 * class 4): a path, a dot-dot or another file is refused before anything is read or written.
 */
class CgroupWriterRefusesTest {
    @TempDir
    Path root;

    @Test
    void otherFilesAndPathsAreRefusedAndNothingIsWritten() throws Exception {
        Path cg = Files.createDirectories(root.resolve("a/b/cg"));
        Files.writeString(cg.resolve("memory.max"), "max\n");
        Files.writeString(cg.resolve("cgroup.procs"), "");
        Files.writeString(root.resolve("a/cgroup.procs"), "");
        Files.createDirectories(cg.resolve("memory.max.d"));
        CgroupWriter w = new CgroupWriter(CgroupVersion.V2, 4096);
        for (String bad : List.of("cgroup.procs", "../cgroup.procs", "../../a/cgroup.procs", "memory.max/../cgroup.procs",
                "/etc/passwd", "memory.reclaim", "memory.limit_in_bytes", "", ".", "..")) {
            Map<String, String> plan = new LinkedHashMap<>();
            plan.put("memory.max", "104857600"); // a valid file first: it must not be written either
            plan.put(bad, "1");
            assertThatThrownBy(() -> w.apply(cg, plan)).as(bad).isInstanceOfSatisfying(CgroupWriteException.class, e -> {
                assertThat(e.kind()).isEqualTo(CgroupWriteException.Kind.REFUSED);
                assertThat(e.getMessage()).contains("not a memory controller setting of cgroup 2");
            });
            assertThatThrownBy(() -> w.differing(cg, plan)).as(bad).isInstanceOf(CgroupWriteException.class);
        }
        assertThat(Files.readString(cg.resolve("memory.max"))).isEqualTo("max\n");
        assertThat(Files.readString(cg.resolve("cgroup.procs"))).isEmpty();
        assertThat(Files.readString(root.resolve("a/cgroup.procs"))).isEmpty();
    }

    @Test
    void aValueOfMoreThanOneLineIsRefused() throws Exception {
        Path cg = Files.createDirectories(root.resolve("cg"));
        Files.writeString(cg.resolve("memory.high"), "max\n");
        CgroupWriter w = new CgroupWriter(CgroupVersion.V2, 4096);
        assertThatThrownBy(() -> w.apply(cg, Map.of("memory.high", "1\n2"))).isInstanceOfSatisfying(
                CgroupWriteException.class, e -> assertThat(e.kind()).isEqualTo(CgroupWriteException.Kind.REFUSED));
        assertThat(Files.readString(cg.resolve("memory.high"))).isEqualTo("max\n");
    }

    @Test
    void eachVersionWritesItsOwnSettings() throws Exception {
        Path cg = Files.createDirectories(root.resolve("v1"));
        for (String f : CgroupFiles.V1_SETTINGS) {
            Files.writeString(cg.resolve(f), "0\n");
        }
        CgroupWriter v1 = new CgroupWriter(CgroupVersion.V1, 4096);
        v1.apply(cg, Map.of("memory.swappiness", "0"));
        assertThatThrownBy(() -> v1.apply(cg, Map.of("memory.max", "1"))).isInstanceOf(CgroupWriteException.class);
    }
}
