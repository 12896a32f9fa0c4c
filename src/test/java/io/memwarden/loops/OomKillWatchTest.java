package io.memwarden.loops;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.kernel.KmsgEntry;
import io.memwarden.kernel.KmsgRecord;
import io.memwarden.kernel.KmsgSource;
import io.memwarden.kernel.Libc;
import io.memwarden.model.OomEvent;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The agent's OOM watch survives whatever the kernel log delivers: bad records (skipped, counted, warned about),
 * failed reads and re-opens (warned about once, then the log is opened again), a throwing listener; kills on
 * either side are counted. The log is a scripted {@link KmsgSource} (the real {@code /dev/kmsg}: MetricsKernelTest).
 */
class OomKillWatchTest {

    /** One step of a script: entries to hand out, or a failure to throw. */
    record Step(List<String> lines, IOException failure) {}

    /** A log that plays its steps, one per drain, and counts down when all are played. */
    static final class Script implements KmsgSource {
        private final Deque<Step> steps;
        private final CountDownLatch done;
        private long number;

        Script(Deque<Step> steps, CountDownLatch done) {
            this.steps = steps;
            this.done = done;
        }

        @Override
        public List<KmsgEntry> drain() throws IOException {
            Step s = steps.poll();
            if (s == null) {
                done.countDown();
                return List.of();
            }
            if (s.failure() != null) {
                throw s.failure();
            }
            List<KmsgEntry> out = new ArrayList<>();
            for (String l : s.lines()) {
                byte[] b = l.getBytes(StandardCharsets.ISO_8859_1);
                out.add(new KmsgEntry(++number, KmsgRecord.read(b, 0, b.length)));
            }
            return out;
        }

        @Override
        public boolean await(int timeoutMillis) {
            if (steps.isEmpty()) {
                java.util.concurrent.locks.LockSupport.parkNanos(10_000_000L); // played out: idle like a quiet log
            }
            return !steps.isEmpty();
        }

        @Override
        public String name() {
            return "/dev/kmsg";
        }

        @Override
        public void close() {
        }
    }

    static List<String> kill(long pid, boolean system) {
        return List.of("4,1,100,-;x invoked oom-killer: gfp_mask=0x0",
                system ? "3,2,200,-;Out of memory: Killed process " + pid + " (x) total-vm:1kB"
                        : "6,2,150,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,"
                        + "oom_memcg=/a,task_memcg=/a/b,task=x,pid=" + pid + ",uid=0");
    }

    @Test
    void survivesBadRecordsFailedReadsAndFailedReopens() throws Exception {
        Deque<Step> steps = new ArrayDeque<>();
        List<String> first = new ArrayList<>(kill(10, true));
        first.add("99999999999,3,300,-;hello");
        first.add("6,4,400,-;caf\u00e9 not UTF-8"); // ISO-8859-1 bytes
        first.add("3,5,500,-;Killed process 0 (x)");
        first.addAll(kill(11, false));
        steps.add(new Step(first, null));
        steps.add(new Step(null, new Libc.ErrnoException("read(fd 5)", 5)));
        steps.add(new Step(kill(12, false), null));
        List<String> many = new ArrayList<>();
        for (int i = 0; i < 120; i++) {
            many.add("6," + i + ",1,?;bad flags");
        }
        many.addAll(kill(13, true));
        steps.add(new Step(many, null));
        CountDownLatch done = new CountDownLatch(1);
        AtomicInteger opens = new AtomicInteger();
        List<String> warnings = Collections.synchronizedList(new ArrayList<>());
        List<Long> pids = Collections.synchronizedList(new ArrayList<>());
        OomKillWatch w = OomKillWatch.start(() -> {
            int n = opens.incrementAndGet();
            if (n == 2) {
                throw new Libc.ErrnoException("open(/dev/kmsg)", 24); // the first re-open fails too
            }
            return new Script(steps, done);
        }, k -> {
            pids.add(k.event().pid());
            throw new IllegalStateException("a listener that fails");
        }, warnings::add, OomAttribution.Kill::unattributed, Duration.ofMillis(1));
        try {
            assertThat(done.await(60, TimeUnit.SECONDS)).as("the script was played to its end").isTrue();
            assertThat(w.running()).isTrue();
            assertThat(pids).containsExactly(10L, 11L, 12L, 13L);
            assertThat(w.counts()).isEqualTo(new NodeStatus.OomKills(2, 2)); // unattributed: no workload
            assertThat(w.skipped()).isEqualTo(123);
            assertThat(w.failures()).isEqualTo(2);
            assertThat(opens).hasValue(3);
            assertThat(warnings).containsSubsequence(
                    "/dev/kmsg record 3 skipped: priority \"99999999999\": out of range 0–2047 (facility × 8 + level)",
                    "/dev/kmsg record 4 skipped: text \"6,4,400,-;caf\u00e9 not UTF-8\": not valid UTF-8 (byte 0xe9 at byte 14)",
                    "/dev/kmsg record 5 skipped: pid \"0\": not a process id (1–2147483647)",
                    "reading /dev/kmsg failed (read(fd 5) failed: errno 5 (see errno(3))); opening it again at its end"
                            + " in 1 ms (kills logged in between are not seen)",
                    "opening /dev/kmsg again failed (open(/dev/kmsg) failed: errno 24 (see errno(3))); trying again every 1 ms",
                    "100 /dev/kmsg records skipped so far (the first 10 were listed)");
            assertThat(warnings).hasSize(OomKillWatch.WARNINGS_LISTED + 2 + 1);
            assertThat(String.join("\n", warnings)).doesNotContain("Exception").doesNotContain("java.");
        } finally {
            w.close();
        }
        assertThat(w.running()).isFalse();
    }

    @Test
    void killsAreCountedByKind() {
        OomKillWatch w = new OomKillWatch();
        w.accept(new OomEvent(42, "perl", "/kubepods/pod1/c", "/kubepods/pod1/c", false, "CONSTRAINT_MEMCG", 1));
        w.accept(new OomEvent(43, "java", "/user.slice", "/", true, "CONSTRAINT_NONE", 2));
        w.accept(new OomEvent(44, "perl", "/kubepods/pod1/c", "/kubepods/pod1/c", false, "CONSTRAINT_MEMCG", 3));
        assertThat(w.counts()).isEqualTo(new NodeStatus.OomKills(1, 2));
        w.close();
    }
}
