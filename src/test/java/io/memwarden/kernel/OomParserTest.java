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
}
