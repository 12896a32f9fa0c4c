package io.memwarden.cgroup;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The "key value" parser of memory.stat, memory.events and memory.oom_control. */
class MemoryUsageKeyedTest {
    @Test
    void keyValueLinesOnly() {
        assertThat(MemoryUsage.keyed("anon 123\nfile 0\n  total_rss\t456  \nbad line here\nname x\n\nlast 7"))
                .containsExactly(java.util.Map.entry("anon", 123L), java.util.Map.entry("file", 0L),
                        java.util.Map.entry("total_rss", 456L), java.util.Map.entry("last", 7L));
        assertThat(MemoryUsage.keyed("")).isEmpty();
        assertThat(MemoryUsage.keyed("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n")).containsEntry("oom_kill", 3L);
        assertThat(MemoryUsage.keyed("big 99999999999999999999\n")).isEmpty();
    }
}
