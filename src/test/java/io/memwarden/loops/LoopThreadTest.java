package io.memwarden.loops;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** {@link LoopThread}: rounds on the period, a failing round contained, stop. */
class LoopThreadTest {

    @Test
    void aRoundThatThrowsIsHandedToTheFailureSinkAndTheThreadGoesOn() throws Exception {
        AtomicInteger rounds = new AtomicInteger();
        List<Exception> failures = new CopyOnWriteArrayList<>();
        List<String> wokenBy = new CopyOnWriteArrayList<>();
        CountDownLatch five = new CountDownLatch(5);
        LoopThread t = LoopThread.start(() -> new LoopThread.Pace(10, null), w -> {
            wokenBy.add(String.valueOf(w));
            five.countDown();
            int n = rounds.incrementAndGet();
            if (n == 2) {
                throw new IOException("cgroup gone");
            }
            if (n == 3) {
                throw new IllegalStateException("a bug");
            }
        }, line -> { }, failures::add);
        try {
            assertThat(five.await(10, TimeUnit.SECONDS)).as("five rounds").isTrue();
        } finally {
            t.stop(Duration.ofSeconds(2));
        }
        assertThat(t.running()).isFalse();
        assertThat(failures).extracting(Exception::getMessage).containsExactly("cgroup gone", "a bug");
        assertThat(wokenBy).as("the period wakes every round").containsOnly("null");
    }

    @Test
    void stopEndsTheWaitAtOnceAndNoRoundFollows() throws Exception {
        AtomicInteger rounds = new AtomicInteger();
        CountDownLatch first = new CountDownLatch(1);
        LoopThread t = LoopThread.start(() -> new LoopThread.Pace(60_000, null), w -> {
            rounds.incrementAndGet();
            first.countDown();
        }, line -> { }, e -> { });
        assertThat(first.await(10, TimeUnit.SECONDS)).isTrue();
        long t0 = System.nanoTime();
        t.stop(Duration.ofSeconds(5));
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(2));
        assertThat(t.running()).isFalse();
        assertThat(rounds.get()).isEqualTo(1);
    }

    @Test
    void thePaceIsReadBeforeEveryRound() throws Exception {
        AtomicInteger reads = new AtomicInteger();
        CountDownLatch three = new CountDownLatch(3);
        LoopThread t = LoopThread.start(() -> {
            reads.incrementAndGet();
            return new LoopThread.Pace(5, null);
        }, w -> three.countDown(), line -> { }, e -> { });
        try {
            assertThat(three.await(10, TimeUnit.SECONDS)).isTrue();
        } finally {
            t.stop(Duration.ofSeconds(2));
        }
        assertThat(reads.get()).isGreaterThanOrEqualTo(3);
    }
}
