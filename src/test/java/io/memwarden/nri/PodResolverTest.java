package io.memwarden.nri;

import static io.memwarden.nri.NriFixtures.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.model.Clock;
import io.memwarden.model.PodSpec;
import io.memwarden.nri.api.ContainerState;
import io.memwarden.nri.api.PodSandbox;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The bounded wait for a pod spec that may arrive later, under a fake clock that only the test moves: a waiting
 * call ends when the source signals a pod it can use or when the clock passes the deadline, never by polling. No
 * assertion depends on how long anything took.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class PodResolverTest {
    final AtomicLong now = new AtomicLong(1_000);
    final Clock clock = now::get;

    static final PodSandbox WEB = sandbox("pod-web", "shop", "web", "uid-web", Map.of(),
            "kubepods-burstable-poduid_web.slice");
    static final PodQuery QUERY = new PodQuery(WEB, List.of(), container("c1", "pod-web", "app", GI,
            ContainerState.CONTAINER_CREATED));

    /** A watch-like source: knows the pods the test lets it learn, and tells its listeners when it learns one. */
    static final class Watch implements PodSpecSource {
        final Map<String, PodSpec> pods = new ConcurrentHashMap<>();
        final List<Runnable> listeners = new CopyOnWriteArrayList<>();
        final AtomicInteger lookups = new AtomicInteger();
        final boolean mayArriveLater;

        Watch(boolean mayArriveLater) {
            this.mayArriveLater = mayArriveLater;
        }

        @Override
        public Optional<ResolvedPod> lookup(PodQuery q) {
            lookups.incrementAndGet();
            return Optional.ofNullable(pods.get(q.key())).map(p -> new ResolvedPod(p, "watch", false, List.of()));
        }

        @Override
        public boolean mayArriveLater() {
            return mayArriveLater;
        }

        @Override
        public void onLearned(Runnable listener) {
            listeners.add(listener);
        }

        @Override
        public String describe() {
            return "watch";
        }

        void learn(PodSpec p) {
            pods.put(p.key(), p);
            listeners.forEach(Runnable::run);
        }

        /** Learned some other pod. */
        void learnOther() {
            listeners.forEach(Runnable::run);
        }

        void awaitLookups(int n) throws InterruptedException {
            while (lookups.get() < n) {
                Thread.sleep(1); // the test waits for the resolver's thread to get there; nothing is timed
            }
        }
    }

    PodResolver resolver(Watch w, Duration requestTimeout) {
        return new PodResolver(w, clock, Duration.ofMillis(500), () -> requestTimeout);
    }

    static CompletableFuture<ResolvedPod> resolveAsync(PodResolver r, boolean mayWait) {
        CompletableFuture<ResolvedPod> f = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> f.complete(r.resolve(QUERY, mayWait)));
        return f;
    }

    @Test
    void aPodLearnedWhileWaitingEndsTheWaitWithoutTheClockMoving() throws Exception {
        Watch w = new Watch(true);
        CompletableFuture<ResolvedPod> f = resolveAsync(resolver(w, Duration.ofSeconds(2)), true);
        w.awaitLookups(1);
        w.learn(pod("web"));
        ResolvedPod r = f.get(20, TimeUnit.SECONDS);
        assertThat(r.degraded()).isFalse();
        assertThat(r.source()).isEqualTo("watch");
        assertThat(r.spec()).isEqualTo(pod("web"));
        assertThat(now.get()).as("the fake clock never moved").isEqualTo(1_000);
    }

    @Test
    void theDeadlineComesFromTheClock() throws Exception {
        Watch w = new Watch(true);
        CompletableFuture<ResolvedPod> f = resolveAsync(resolver(w, Duration.ofSeconds(2)), true);
        w.awaitLookups(1);
        now.set(1_400); // before the deadline (1 000 + 500): another pod arrives, this one still is not known
        w.learnOther();
        w.awaitLookups(2);
        assertThat(f).as("still waiting: the clock has not reached the deadline").isNotDone();
        now.set(1_500);
        w.learnOther();
        ResolvedPod r = f.get(20, TimeUnit.SECONDS);
        assertThat(r.degraded()).isTrue();
        assertThat(r.notes().getFirst()).isEqualTo("pod shop/web not found in watch");
    }

    @Test
    void theWaitIsAtMostHalfTheRequestTimeout() throws Exception {
        Watch w = new Watch(true);
        CompletableFuture<ResolvedPod> f = resolveAsync(resolver(w, Duration.ofMillis(600)), true);
        w.awaitLookups(1);
        now.set(1_300); // 600 / 2 = 300 < podSpecWait 500
        w.learnOther();
        assertThat(f.get(20, TimeUnit.SECONDS).degraded()).isTrue();
    }

    @Test
    void aSourceThatNeverLearnsPodsLaterIsAskedOnceWithoutWaiting() {
        Watch w = new Watch(false);
        ResolvedPod r = resolver(w, Duration.ofSeconds(2)).resolve(QUERY, true);
        assertThat(r.degraded()).isTrue();
        assertThat(w.lookups.get()).isEqualTo(1);
    }

    @Test
    void onlyCallsThatMayWaitWait() {
        Watch w = new Watch(true);
        ResolvedPod r = resolver(w, Duration.ofSeconds(2)).resolve(QUERY, false);
        assertThat(r.degraded()).isTrue();
        assertThat(w.lookups.get()).isEqualTo(1);
    }

    @Test
    void aPodAlreadyKnownIsNotWaitedFor() {
        Watch w = new Watch(true);
        w.learn(pod("web"));
        ResolvedPod r = resolver(w, Duration.ofSeconds(2)).resolve(QUERY, true);
        assertThat(r.degraded()).isFalse();
        assertThat(w.lookups.get()).isEqualTo(1);
    }

    @Test
    void aSignalBeforeTheWaitStartsIsNotLost() throws Exception {
        PodArrivals a = new PodArrivals();
        long seen = a.count();
        a.signal();
        assertThat(a.awaitAfter(seen, 0)).isTrue();
        assertThat(a.awaitAfter(a.count(), 0)).isFalse();
    }
}
