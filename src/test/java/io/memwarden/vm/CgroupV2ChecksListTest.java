package io.memwarden.vm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Unit tier: the vm tier's check list in Java is the guest script's, in the same order, and every check has its
 * function, so a check added on one side only fails here and not after a VM boot.
 */
class CgroupV2ChecksListTest {
    @Test
    void javaAndGuestScriptListTheSameChecks() throws IOException {
        String script = Files.readString(VmRun.projectDir().resolve("test/vm/guest/cgroup-v2-checks.sh"));
        Matcher m = Pattern.compile("(?s)\nALL_CHECKS=\\(([^)]*)\\)").matcher(script);
        assertThat(m.find()).isTrue();
        List<String> all = Arrays.stream(m.group(1).trim().split("\\s+")).toList();
        assertThat(all).containsExactlyElementsOf(CgroupV2VmTest.CHECKS);
        for (String c : all) {
            assertThat(script).contains("\ncheck_" + c + "() {");
        }
    }
}
