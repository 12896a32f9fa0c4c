package io.memwarden.cgroup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.memwarden.model.CgroupVersion;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The validated writer on the real cgroup v1 memory controller (kernel tier). */
@Tag("kernel")
class CgroupWriterKernelTest {

    static Map<String, String> v1(String limit, String memsw) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("memory.limit_in_bytes", limit);
        m.put("memory.memsw.limit_in_bytes", memsw);
        return m;
    }

    static String read(Path cg, String f) throws Exception {
        return Files.readString(cg.resolve(f)).strip();
    }

    @Test
    void raisingAndLoweringWithMemswNeverFails() throws Exception {
        HostFacts h = KernelAssumptions.requireMemoryCgroup();
        assumeTrue(h.memoryController() == CgroupVersion.V1 && h.swapAccounting(), "needs cgroup v1 with memsw");
        CgroupWriter w = new CgroupWriter(CgroupVersion.V1, h.pageSize());
        try (CgroupTree t = KernelAssumptions.newTree(h)) {
            Path cg = t.mkdirs("c");
            // each step would fail with EINVAL in at least one naive order
            String[][] steps = {
                    {"100000000", "100000000"}, {"200000000", "300000000"}, {"50000000", "60000000"},
                    {"50000000", "-1"}, {"400000000", "400000000"}, {"10000000", "10000000"}, {"-1", "-1"},
                    {"30000000", "90000000"}, {"80000000", "80000000"}};
            for (String[] s : steps) {
                var applied = w.apply(cg, v1(s[0], s[1]));
                assertThat(applied.files()).containsKeys("memory.limit_in_bytes", "memory.memsw.limit_in_bytes");
                assertThat(w.same(s[0], read(cg, "memory.limit_in_bytes"))).as("limit after %s/%s", s[0], s[1]).isTrue();
                assertThat(w.same(s[1], read(cg, "memory.memsw.limit_in_bytes"))).isTrue();
            }
        }
    }

    @Test
    void rejectedWriteIsTypedAndNothingIsHalfApplied() throws Exception {
        HostFacts h = KernelAssumptions.requireMemoryCgroup();
        assumeTrue(h.memoryController() == CgroupVersion.V1 && h.swapAccounting(), "needs cgroup v1 with memsw");
        CgroupWriter w = new CgroupWriter(CgroupVersion.V1, h.pageSize());
        try (CgroupTree t = KernelAssumptions.newTree(h)) {
            Path cg = t.mkdirs("c");
            w.apply(cg, v1("100000000", "200000000"));
            // memsw below the limit is EINVAL in any order; swappiness was written first and must be restored
            Map<String, String> bad = new LinkedHashMap<>();
            bad.put("memory.swappiness", "0");
            bad.put("memory.limit_in_bytes", "150000000");
            bad.put("memory.memsw.limit_in_bytes", "120000000");
            String swappiness = read(cg, "memory.swappiness");
            assertThatThrownBy(() -> w.apply(cg, bad)).isInstanceOfSatisfying(CgroupWriteException.class, e -> {
                assertThat(e.kind()).isEqualTo(CgroupWriteException.Kind.INVALID);
                assertThat(e.cgroup()).isEqualTo(cg);
                assertThat(e.getMessage()).contains("EINVAL").contains(cg.toString());
            });
            assertThat(read(cg, "memory.limit_in_bytes")).isEqualTo("99999744");
            assertThat(read(cg, "memory.memsw.limit_in_bytes")).isEqualTo("199999488");
            assertThat(read(cg, "memory.swappiness")).isEqualTo(swappiness);
        }
    }

    @Test
    void limitBelowUnreclaimableUsageIsBusyAndRestored() throws Exception {
        HostFacts h = KernelAssumptions.requireMemoryCgroup();
        assumeTrue(h.memoryController() == CgroupVersion.V1 && h.swapAccounting(), "needs cgroup v1 with memsw");
        CgroupWriter w = new CgroupWriter(CgroupVersion.V1, h.pageSize());
        try (CgroupTree t = KernelAssumptions.newTree(h)) {
            Path cg = t.mkdirs("c");
            Map<String, String> start = v1("100000000", "100000000");
            start.put("memory.swappiness", "0"); // memcg reclaim may not swap: anon memory is unreclaimable
            w.apply(cg, start);
            Process hog = new ProcessBuilder("/bin/sh", "-c", "echo $$ > \"$0\" && exec perl -e '$|=1; $n=60*1024*1024;"
                    + " $x=\"\"; vec($x,$n-1,8)=0; for($i=0;$i<$n;$i+=4096){vec($x,$i,8)=1} print \"ok\\n\"; sleep 60'",
                    cg.resolve("cgroup.procs").toString()).redirectErrorStream(true).start();
            try {
                assertThat(new String(hog.getInputStream().readNBytes(3))).isEqualTo("ok\n");
                assertThatThrownBy(() -> w.apply(cg, v1("20000000", "20000000")))
                        .isInstanceOfSatisfying(CgroupWriteException.class,
                                e -> assertThat(e.kind()).isEqualTo(CgroupWriteException.Kind.BUSY));
                assertThat(read(cg, "memory.limit_in_bytes")).isEqualTo("99999744");
                assertThat(read(cg, "memory.memsw.limit_in_bytes")).isEqualTo("99999744");
                assertThat(hog.isAlive()).isTrue();
            } finally {
                hog.destroyForcibly().waitFor();
            }
        }
    }

    @Test
    void treeCleanupKillsAndRemovesEverything() throws Exception {
        HostFacts h = KernelAssumptions.requireMemoryCgroup();
        Path root;
        Process p;
        try (CgroupTree t = KernelAssumptions.newTree(h)) {
            root = t.root();
            Path cg = t.mkdirs("kubepods/burstable/podx/c");
            p = new ProcessBuilder("/bin/sh", "-c", "echo $$ > \"$0\" && exec sleep 60", cg.resolve("cgroup.procs").toString()).start();
            while (t.pids().isEmpty()) {
                Thread.sleep(10);
            }
            assertThat(t.pids()).contains(p.pid());
        }
        assertThat(p.waitFor()).isEqualTo(137);
        assertThat(root).doesNotExist();
    }
}
