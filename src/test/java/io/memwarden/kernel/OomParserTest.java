package io.memwarden.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.model.OomEvent;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** kubelet-semantics.md §6 "System OOM detection": every log shape, parsed as the kubelet's oomparser does. */
class OomParserTest {

    static List<OomEvent> parse(String... lines) {
        return OomParser.parseAll(Arrays.stream(lines).map(KmsgRecord::parse).toList());
    }

    @Test
    void newFormatMemcgOom_s6a() {
        var e = parse(
                "4,1001,2142155683,-;perl invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0",
                "4,1002,2142155713,-;CPU: 1 UID: 0 PID: 15712 Comm: perl Not tainted 6.18.44 #1",
                "6,1003,2167175000,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,"
                        + "oom_memcg=/kubepods/burstable/pod1f0e2c5a-5b7e-4c43-9d3a-0123456789ab,"
                        + "task_memcg=/kubepods/burstable/pod1f0e2c5a-5b7e-4c43-9d3a-0123456789ab/c0ffee,task=perl,pid=15712,uid=0",
                "3,1004,2167216000,-;Memory cgroup out of memory: Killed process 15712 (perl) total-vm:138956kB, anon-rss:64640kB");
        assertThat(e).singleElement().satisfies(o -> {
            assertThat(o.pid()).isEqualTo(15712);
            assertThat(o.process()).isEqualTo("perl");
            assertThat(o.victimCgroup()).isEqualTo("/kubepods/burstable/pod1f0e2c5a-5b7e-4c43-9d3a-0123456789ab");
            assertThat(o.containerCgroup()).endsWith("/c0ffee");
            assertThat(o.constraint()).isEqualTo("CONSTRAINT_MEMCG");
            assertThat(o.systemOom()).isFalse();
            assertThat(o.timestampMicros()).isEqualTo(2167175000L); // the finishing line's time
            assertThat(o.podUid()).isEqualTo("1f0e2c5a-5b7e-4c43-9d3a-0123456789ab");
        });
    }

    @Test
    void globalOomOnNewKernelsIsASystemOom_s6() {
        var e = parse(
                "4,1,100,-;java invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0",
                "6,2,200,-;oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,"
                        + "task_memcg=/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1f0e2c5a_5b7e_4c43_9d3a_0123456789ab.slice/cri-containerd-abc.scope,task=java,pid=4242,uid=1000",
                "3,3,300,-;Out of memory: Killed process 4242 (java) total-vm:9000000kB, anon-rss:8000000kB");
        assertThat(e).singleElement().satisfies(o -> {
            assertThat(o.systemOom()).isTrue();
            assertThat(o.victimCgroup()).isEqualTo("/");
            assertThat(o.containerCgroup()).isEqualTo("/"); // (a) did not match, so the kubelet never learns it
            assertThat(o.pid()).isEqualTo(4242);
            assertThat(o.process()).isEqualTo("java");
            assertThat(o.systemOomMessage()).isEqualTo("System OOM encountered, victim process: java, pid: 4242");
            assertThat(o.timestampMicros()).isEqualTo(300);
        });
    }

    @Test
    void legacyFormat_s6b() {
        var e = parse(
                "<4>[  100.000001] mysqld invoked oom-killer: gfp_mask=0xd0, order=0, oom_score_adj=0",
                "<3>[  100.000002] Task in /kubepods/burstable/podx/c1 killed as a result of limit of /kubepods/burstable/podx",
                "<3>[  100.000300] Killed process 999 (mysqld) total-vm:1000kB, anon-rss:500kB, file-rss:0kB");
        assertThat(e).singleElement().satisfies(o -> {
            assertThat(o.containerCgroup()).isEqualTo("/kubepods/burstable/podx/c1");
            assertThat(o.victimCgroup()).isEqualTo("/kubepods/burstable/podx");
            assertThat(o.pid()).isEqualTo(999);
            assertThat(o.systemOom()).isFalse();
            assertThat(o.timestampMicros()).isEqualTo(100_000_300L);
        });
    }

    @Test
    void legacyGlobalOomWithoutTaskLine() {
        var e = parse("a invoked oom-killer: gfp_mask=0x0", "Out of memory: Killed process 7 (a) score 900 or sacrifice child");
        assertThat(e).singleElement().satisfies(o -> {
            assertThat(o.systemOom()).isTrue();
            assertThat(o.containerCgroup()).isEqualTo("/");
        });
    }

    @Test
    void processNamesWithSpacesAndParenthesesAreKeptVerbatim_s6c() {
        assertThat(parse("x invoked oom-killer:", "Killed process 77 (Web Content) total-vm:1kB").getFirst().process())
                .isEqualTo("Web Content");
        assertThat(parse("x invoked oom-killer:", "Killed process 78 ((sd-pam)) total-vm:1kB").getFirst().process())
                .isEqualTo("(sd-pam)");
        // greedy like the kubelet's regexp: everything up to the last ')'
        assertThat(parse("x invoked oom-killer:", "Killed process 79 (a) b (c) total-vm:1kB").getFirst().process())
                .isEqualTo("a) b (c");
        assertThat(parse("x invoked oom-killer:", "Killed process 80 (\"quoted\") total-vm:1kB").getFirst().process())
                .isEqualTo("\"quoted\"");
    }

    @Test
    void greedyGroupsWithCommasInTheTaskName() {
        var e = parse("x invoked oom-killer:", "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,"
                + "oom_memcg=/a,task_memcg=/a/b,task=we,ird,pid=12,uid=0");
        assertThat(e.getFirst().process()).isEqualTo("we,ird");
        assertThat(e.getFirst().pid()).isEqualTo(12);
    }

    @Test
    void linesOutsideARecordAndUnfinishedRecordsAreIgnored() {
        assertThat(parse("Killed process 5 (x)", "oom-kill:constraint=C,nodemask=n,cpuset=/,mems_allowed=0,oom_memcg=/a,"
                + "task_memcg=/a,task=x,pid=5,uid=0")).isEmpty();
        assertThat(parse("x invoked oom-killer:", "some other line")).isEmpty();
    }

    @Test
    void aRecordInProgressIsNotRestartedBySecondStartLine() {
        var e = parse("a invoked oom-killer:", "Task in /x killed as a result of limit of /y", "b invoked oom-killer:",
                "Killed process 3 (b)");
        assertThat(e).singleElement().satisfies(o -> {
            assertThat(o.victimCgroup()).isEqualTo("/y");
            assertThat(o.process()).isEqualTo("b");
        });
    }

    @Test
    void kmsgRecordsAndEscapes() {
        var r = KmsgRecord.parse("6,12,345,-,caller=T1;hello\\x20world\n SUBSYSTEM=x\n");
        assertThat(r.priority()).isEqualTo(6);
        assertThat(r.sequence()).isEqualTo(12);
        assertThat(r.timestampMicros()).isEqualTo(345);
        assertThat(r.message()).isEqualTo("hello world");
        assertThat(KmsgRecord.parse("plain line; with semicolon").message()).isEqualTo("plain line; with semicolon");
        assertThat(OomParser.join("kubepods//burstable/../x")).isEqualTo("/kubepods/x");
    }

    /** The figures a v1 memcg OOM prints (this host's 6.18 kernel, memory + memsw): usage, limits, total_rss. */
    @Test
    void memoryFiguresOfAV1MemcgOom() {
        var e = parse(
                "<4>[19699.478200] perl invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0",
                "<6>[19699.478468] memory: usage 32768kB, limit 32768kB, failcnt 0",
                "<6>[19699.478473] memory+swap: usage 40960kB, limit 40960kB, failcnt 0",
                "<6>[19699.478474] kmem: usage 148kB, limit 9007199254740988kB, failcnt 0",
                "<6>[19699.478475] Memory cgroup stats for /memwarden-test-1/oom:",
                "<6>[19699.478516] cache 0",
                "<6>[19699.478517] rss 33402880",
                "<6>[19699.478518] swap 8388608",
                "<6>[19699.478527] total_rss 33402881",
                "<6>[19699.478536] Tasks state (memory values in pages):",
                "<6>[19699.478537] rss 1",
                "<6>[19699.478544] oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,"
                        + "oom_memcg=/memwarden-test-1/oom,task_memcg=/memwarden-test-1/oom,task=perl,pid=9144,uid=0");
        assertThat(e).singleElement().extracting(OomEvent::memory).isEqualTo(new OomEvent.Memory(32 << 20, 32 << 20,
                8 << 20, 8 << 20, 33402881, -1, -1));
    }

    /** v2: {@code swap:} instead of memsw, {@code anon} in the stats; "max" printed as PAGE_COUNTER_MAX in kB. */
    @Test
    void memoryFiguresOfAV2MemcgOomWithStatsInOneMessage() {
        var e = parse(
                "4,1,100,-;hog invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0",
                "6,2,101,-;memory: usage 262144kB, limit 262144kB, failcnt 12",
                "6,3,102,-;swap: usage 0kB, limit 9007199254740988kB, failcnt 0",
                "6,4,103,-;Memory cgroup stats for /kubepods/burstable/podx/c1:",
                "6,5,104,-;anon 262000000\\x0afile 4096\\x0akernel 1000",
                "6,6,105,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,"
                        + "oom_memcg=/kubepods/burstable/podx/c1,task_memcg=/kubepods/burstable/podx/c1,task=hog,pid=7,"
                        + "uid=0");
        assertThat(e).singleElement().extracting(OomEvent::memory).isEqualTo(new OomEvent.Memory(256 << 20,
                256 << 20, 0, OomEvent.Memory.UNLIMITED, 262000000, -1, -1));
    }

    /** A global OOM prints the node's swap; garbage figures stay unknown and change nothing else. */
    @Test
    void nodeSwapOfAGlobalOomAndBadFiguresLeftUnknown() {
        var e = parse(
                "4,1,100,-;java invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0",
                "6,2,101,-;memory: usage 12x4kB, limit -5kB, failcnt 0",
                "6,3,102,-;Free swap  = 1024kB",
                "6,4,103,-;Total swap = 2097152kB",
                "6,5,200,-;oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,"
                        + "task_memcg=/x,task=java,pid=4242,uid=1000",
                "3,6,300,-;Out of memory: Killed process 4242 (java) total-vm:9000000kB, anon-rss:8000000kB");
        assertThat(e).singleElement().satisfies(o -> {
            assertThat(o.systemOom()).isTrue();
            assertThat(o.pid()).isEqualTo(4242);
            assertThat(o.memory()).isEqualTo(new OomEvent.Memory(-1, -1, -1, -1, -1, 2L << 30, 1L << 20));
        });
        // a record without figures
        assertThat(parse("a invoked oom-killer: gfp_mask=0x0", "Out of memory: Killed process 7 (a) score 900"))
                .singleElement().extracting(OomEvent::memory).isEqualTo(OomEvent.Memory.UNKNOWN);
    }

    /**
     * Plain {@code dmesg} lines (a "[seconds]" prefix kept in the message) of a v2 record, as Debian 13's 6.12 kernel
     * printed it in the vm tier's containerd e2e (noswap_hog, memory.max 64Mi, memory.swap.max 0).
     */
    @Test
    void memoryFiguresOfPlainDmesgLinesFromA612Kernel() {
        String cg = "/kubepods/burstable/pod00000000-0000-0000-0000-00000000000f/10c46487";
        var e = parse(
                "[  661.220000] dd invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=984",
                "[  661.221700] memory: usage 65536kB, limit 65536kB, failcnt 21",
                "[  661.221715] swap: usage 0kB, limit 0kB, failcnt 0",
                "[  661.221728] Memory cgroup stats for " + cg + ":",
                "[  661.225815] anon 66744320",
                "[  661.225820] file 0",
                "[  661.226492] oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=10c46487,mems_allowed=0,"
                        + "oom_memcg=" + cg + ",task_memcg=" + cg + ",task=dd,pid=4148,uid=0",
                "[  661.227299] Memory cgroup out of memory: Killed process 4148 (dd) total-vm:207128kB,"
                        + " anon-rss:65076kB, file-rss:0kB, shmem-rss:1392kB, UID:0 pgtables:168kB oom_score_adj:984");
        assertThat(e).singleElement().extracting(OomEvent::memory).isEqualTo(new OomEvent.Memory(64 << 20, 64 << 20,
                0, 0, 66744320, -1, -1));
    }
}
