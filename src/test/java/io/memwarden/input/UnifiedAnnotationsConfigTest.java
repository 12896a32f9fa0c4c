package io.memwarden.input;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.memwarden.model.CgroupFiles;
import java.util.List;
import org.junit.jupiter.api.Test;

/** memoryQos.unifiedannotations names only a container's memory controller settings (issue #11, class 4). */
class UnifiedAnnotationsConfigTest {

    private static void read(String files) throws InputException {
        WardenConfigReader.parse("c.yaml", YamlDocs.readAll("c.yaml", "memoryQos: {unifiedannotations: " + files
                + "}\n").getFirst());
    }

    @Test
    void everyMemorySettingIsAccepted() throws Exception {
        var cfg = WardenConfigReader.parse("c.yaml", YamlDocs.readAll("c.yaml", "memoryQos: {unifiedannotations: "
                + CgroupFiles.V2_SETTINGS + "}\n").getFirst());
        assertThat(cfg.memoryQos().unifiedAnnotations()).containsExactlyInAnyOrderElementsOf(CgroupFiles.V2_SETTINGS);
    }

    @Test
    void anyOtherFileOrPathIsRefusedNamingFieldAndValue() {
        for (String bad : List.of("cgroup.procs", "../../cgroup.procs", "memory.max/../../cgroup.procs", "/etc/passwd",
                "memory.reclaim", "memory.peak", "memory.pressure", "cpu.max", "memory.limit_in_bytes", "", ".",
                "memory.max ", "\"memory.max\\n\"")) {
            assertThatThrownBy(() -> read("[memory.high, '" + bad.replace("'", "''") + "']")).as(bad)
                    .isInstanceOf(InputException.class)
                    .hasMessageStartingWith("c.yaml: field memoryQos.unifiedannotations[1]: \"")
                    .hasMessageContaining("is not a memory controller setting")
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        }
    }
}
