package io.memwarden.cgroup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.memwarden.model.CgroupVersion;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cgroup reader on plain files laid out like a cgroup: the full read ({@link MemoryUsage#read}) and the loops'
 * lazy view ({@link MemoryUsage#lazy}), which reads a file only when one of its values is asked for.
 */
class MemoryUsageLazyTest {
    static final long MI = 1L << 20;

    @TempDir
    Path dir;

    Path v1(Path cg) throws IOException {
        Files.createDirectories(cg);
        Files.writeString(cg.resolve("memory.usage_in_bytes"), (100 * MI) + "\n");
        Files.writeString(cg.resolve("memory.memsw.usage_in_bytes"), (130 * MI) + "\n");
        Files.writeString(cg.resolve("memory.limit_in_bytes"), (256 * MI) + "\n");
        Files.writeString(cg.resolve("memory.memsw.limit_in_bytes"), (512 * MI) + "\n");
        Files.writeString(cg.resolve("memory.failcnt"), "7\n");
        Files.writeString(cg.resolve("memory.memsw.failcnt"), "2\n");
        Files.writeString(cg.resolve("memory.oom_control"), "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
        Files.writeString(cg.resolve("memory.stat"), "cache 0\nrss " + (90 * MI) + "\ntotal_inactive_file "
                + (10 * MI) + "\ntotal_rss " + (90 * MI) + "\ntotal_workingset_refault_anon 5\n");
        Files.writeString(cg.resolve("memory.max_usage_in_bytes"), (120 * MI) + "\n");
        Files.writeString(cg.resolve("cgroup.procs"), "12\n\n345\n");
        return cg;
    }

    @Test
    void theFullReadOfAV1Cgroup() throws IOException {
        MemoryUsage u = MemoryUsage.read(v1(dir.resolve("a")), CgroupVersion.V1);
        assertThat(u.usageBytes()).isEqualTo(100 * MI);
        assertThat(u.swapBytes()).isEqualTo(30 * MI); // memsw − usage: no "swap" in this memory.stat
        assertThat(u.limitBytes()).isEqualTo(256 * MI);
        assertThat(u.swapLimitBytes()).isEqualTo(256 * MI);
        assertThat(u.highBytes()).isEqualTo(-1);
        assertThat(u.events()).containsExactly(Map.entry("failcnt", 7L), Map.entry("memsw_failcnt", 2L),
                Map.entry("oom_kill", 1L), Map.entry("under_oom", 0L));
        assertThat(u.event("failcnt")).isEqualTo(7);
        assertThat(u.workingSetBytes()).isEqualTo(90 * MI);
        assertThat(u.pressure()).isNull();
        assertThat(u.pids()).containsExactly(12L, 345L);
        assertThat(u.peaks()).containsExactly(Map.entry("memory.max_usage_in_bytes", 120 * MI));
    }

    @Test
    void theFullReadFailsWhenARequiredFileIsMissing() throws IOException {
        Path cg = v1(dir.resolve("b"));
        Files.delete(cg.resolve("memory.stat"));
        assertThatThrownBy(() -> MemoryUsage.read(cg, CgroupVersion.V1)).isInstanceOf(IOException.class)
                .hasMessageContaining("memory.stat");
    }

    @Test
    void theLazyViewReadsOnlyWhatIsAskedAndKeepsIt() throws IOException {
        Path cg = v1(dir.resolve("c"));
        // what throttle relief needs of a v1 container without a limit: the limit and failcnt
        Files.writeString(cg.resolve("memory.limit_in_bytes"), "9223372036854771712\n");
        for (String f : new String[] {"memory.stat", "memory.usage_in_bytes", "memory.oom_control", "cgroup.procs",
                "memory.memsw.failcnt", "memory.memsw.usage_in_bytes"}) {
            Files.delete(cg.resolve(f));
        }
        MemoryUsage u = MemoryUsage.lazy(cg, CgroupVersion.V1);
        assertThat(u.limitBytes()).isEqualTo(-1);
        assertThat(u.event("failcnt")).isEqualTo(7);
        assertThat(u.swapLimitBytes()).isEqualTo(512 * MI); // memsw limit − (no) limit
        // read once, then kept for the round
        Files.writeString(cg.resolve("memory.failcnt"), "8\n");
        assertThat(u.event("failcnt")).isEqualTo(7);
        // a value whose file is gone: the caller sees the cgroup removed during the round
        assertThatThrownBy(u::usageBytes).isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining("memory.usage_in_bytes");
        assertThatThrownBy(u::stat).isInstanceOf(UncheckedIOException.class);
        assertThat(u.pids()).isEmpty(); // no cgroup.procs: no processes, as the full read says
    }

    @Test
    void v2LimitsEventsAndOptionalFiles() throws IOException {
        Path cg = Files.createDirectories(dir.resolve("v2"));
        Files.writeString(cg.resolve("memory.current"), "4096\n");
        Files.writeString(cg.resolve("memory.max"), "max\n");
        Files.writeString(cg.resolve("memory.high"), "1048576\n");
        Files.writeString(cg.resolve("memory.events"), "low 0\nhigh 42\nmax 0\noom 0\noom_kill 0\n");
        Files.writeString(cg.resolve("memory.stat"), "anon 4096\ninactive_file 1024\n");
        MemoryUsage u = MemoryUsage.read(cg, CgroupVersion.V2);
        assertThat(u.limitBytes()).isEqualTo(-1);
        assertThat(u.highBytes()).isEqualTo(MI);
        assertThat(u.swapBytes()).isZero(); // no memory.swap.current
        assertThat(u.swapLimitBytes()).isEqualTo(-1); // no memory.swap.max
        assertThat(u.pressure()).isNull(); // no memory.pressure
        assertThat(u.event("high")).isEqualTo(42);
        assertThat(u.workingSetBytes()).isEqualTo(3072);
        Files.writeString(cg.resolve("memory.swap.max"), "0\n");
        Files.writeString(cg.resolve("memory.pressure"),
                "some avg10=1.50 avg60=0.00 avg300=0.00 total=1234\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=5\n");
        MemoryUsage l = MemoryUsage.lazy(cg, CgroupVersion.V2);
        assertThat(l.swapLimitBytes()).isZero();
        assertThat(l.pressure().someTotalMicros()).isEqualTo(1234);
        assertThat(l.pressure().someAvg10()).isEqualTo(1.5);
    }

    @Test
    void aFileLargerThanTheReusedBufferIsReadWhole() throws IOException {
        Path cg = v1(dir.resolve("big"));
        StringBuilder stat = new StringBuilder();
        for (int i = 0; i < 2000; i++) {
            stat.append("key_").append(i).append(' ').append(i).append('\n');
        }
        stat.append("total_inactive_file 3\n");
        Files.writeString(cg.resolve("memory.stat"), stat);
        MemoryUsage u = MemoryUsage.lazy(cg, CgroupVersion.V1);
        assertThat(u.stat()).hasSize(2001).containsEntry("key_1999", 1999L).containsEntry("total_inactive_file", 3L);
        assertThat(u.usageBytes()).isEqualTo(100 * MI); // the buffer is still good after it grew
    }

    @Test
    void aBadNumberNamesTheFile() throws IOException {
        Path cg = v1(dir.resolve("bad"));
        Files.writeString(cg.resolve("memory.failcnt"), "seven\n");
        assertThatThrownBy(() -> MemoryUsage.lazy(cg, CgroupVersion.V1).event("failcnt"))
                .isInstanceOf(NumberFormatException.class).hasMessageContaining("memory.failcnt")
                .hasMessageContaining("seven");
    }
}
