package io.memwarden.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.memwarden.k8s.EventCorrelator.Create;
import io.memwarden.k8s.EventCorrelator.Decision;
import io.memwarden.k8s.EventCorrelator.Drop;
import io.memwarden.k8s.EventCorrelator.ObjectKey;
import io.memwarden.k8s.EventCorrelator.Update;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The pure part of event sending: series and the per-object token bucket, on a fake time line. */
class EventCorrelatorTest {
    static final Instant T0 = Instant.parse("2026-11-23T10:00:00Z");
    static final ObjectKey WEB = new ObjectKey("Pod", "shop", "web");

    final EventCorrelator c = new EventCorrelator(Duration.ofMinutes(10), 25, Duration.ofMinutes(5), 4096);

    Decision at(Duration after, String message) {
        return c.observe(WEB, "Normal", "MemwardenThrottleRelief", message, T0.plus(after));
    }

    @Test
    void aSeriesCountsRepeatsWithinTheWindowOfTheLastOccurrence() {
        Create first = (Create) at(Duration.ZERO, "m");
        assertThat(first.name()).startsWith("web.");
        assertThat(at(Duration.ofMinutes(10), "m")).isEqualTo(new Update(first.name(), 2, T0));
        assertThat(at(Duration.ofMinutes(20), "m")).isEqualTo(new Update(first.name(), 3, T0));
        Decision late = at(Duration.ofMinutes(30).plusSeconds(1), "m");
        assertThat(late).isInstanceOf(Create.class);
        assertThat(((Create) late).name()).isNotEqualTo(first.name());
    }

    @Test
    void anotherMessageReasonTypeOrObjectIsAnotherSeries() {
        at(Duration.ZERO, "m");
        assertThat(at(Duration.ZERO, "other")).isInstanceOf(Create.class);
        assertThat(c.observe(WEB, "Warning", "MemwardenThrottleRelief", "m", T0)).isInstanceOf(Create.class);
        assertThat(c.observe(WEB, "Normal", "MemwardenOffload", "m", T0)).isInstanceOf(Create.class);
        assertThat(c.observe(new ObjectKey("Pod", "other", "web"), "Normal", "MemwardenThrottleRelief", "m", T0))
                .isInstanceOf(Create.class);
    }

    @Test
    void namesAreUniqueAtTheSameInstant() {
        Create a = (Create) at(Duration.ZERO, "a");
        Create b = (Create) at(Duration.ZERO, "b");
        assertThat(a.name()).isNotEqualTo(b.name());
    }

    @Test
    void burstThenOneEveryRefillInterval() {
        for (int i = 0; i < 25; i++) {
            assertThat(at(Duration.ZERO, "m" + i)).isNotInstanceOf(Drop.class);
        }
        assertThat(at(Duration.ZERO, "m25")).isInstanceOf(Drop.class);
        assertThat(at(Duration.ofMinutes(4), "m26")).as("not yet refilled").isInstanceOf(Drop.class);
        assertThat(at(Duration.ofMinutes(5), "m27")).isInstanceOf(Create.class);
        assertThat(at(Duration.ofMinutes(5), "m28")).isInstanceOf(Drop.class);
        // a long quiet time refills up to the burst, not beyond
        for (int i = 0; i < 25; i++) {
            assertThat(at(Duration.ofDays(1), "n" + i)).isNotInstanceOf(Drop.class);
        }
        assertThat(at(Duration.ofDays(1), "n25")).isInstanceOf(Drop.class);
    }

    @Test
    void aDroppedRepeatDoesNotCount() {
        Create first = (Create) at(Duration.ZERO, "m");
        for (int i = 0; i < 24; i++) {
            at(Duration.ZERO, "x" + i);
        }
        assertThat(at(Duration.ZERO, "m")).isInstanceOf(Drop.class);
        assertThat(at(Duration.ofMinutes(5), "m")).isEqualTo(new Update(first.name(), 2, T0));
    }

    @Test
    void aForgottenSeriesStartsAgain() {
        at(Duration.ZERO, "m");
        c.forget(WEB, "Normal", "MemwardenThrottleRelief", "m");
        assertThat(at(Duration.ofSeconds(1), "m")).isInstanceOf(Create.class);
    }

    @Test
    void invalidSettingsNameTheSetting() {
        assertThatThrownBy(() -> new EventCorrelator(Duration.ZERO, 25, Duration.ofMinutes(5), 10))
                .hasMessageContaining("aggregation window");
        assertThatThrownBy(() -> new EventCorrelator(Duration.ofMinutes(1), 0, Duration.ofMinutes(5), 10))
                .hasMessageContaining("burst").hasMessageContaining("0");
        assertThatThrownBy(() -> new EventCorrelator(Duration.ofMinutes(1), 1, Duration.ZERO, 10))
                .hasMessageContaining("refill");
    }
}
