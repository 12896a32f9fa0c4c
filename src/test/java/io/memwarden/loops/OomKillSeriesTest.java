package io.memwarden.loops;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * The bound of {@code memwarden_oom_kills_total}'s series ({@link OomKillSeries}): whatever kills of whatever number
 * of pods, containers and process names arrive, and whatever pods come and go, the family never has more than its
 * bound, no series of a pod that left survives, and while no pod leaves every kill is counted exactly once.
 */
class OomKillSeriesTest {

    /** One step: a kill (pod index, container index, process name, system?, attributed?) or a pod leaving. */
    record Step(boolean leave, int pod, int container, String process, boolean system, boolean attributed) {}

    @Provide
    Arbitrary<List<Step>> steps() {
        Arbitrary<Step> kill = Combinators.combine(Arbitraries.integers().between(0, 400),
                Arbitraries.integers().between(0, 6), Arbitraries.strings().ofMinLength(0).ofMaxLength(20)
                        .withCharRange('\u0000', '\u007f'),
                Arbitraries.of(true, false), Arbitraries.integers().between(0, 9))
                .as((p, c, name, sys, a) -> new Step(false, p, c, name, sys, a > 0));
        Arbitrary<Step> leave = Arbitraries.integers().between(0, 400).map(p -> new Step(true, p, 0, "", false, true));
        return Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(9, kill), net.jqwik.api.Tuple.of(1, leave)).list()
                .ofMinSize(1).ofMaxSize(1500);
    }

    static String pod(int i) {
        return "ns" + (i % 7) + "/pod-" + i;
    }

    @Property(tries = 200)
    void neverMoreSeriesThanTheBoundAndNoneOfAPodThatLeft(@ForAll("steps") List<Step> steps,
                                                          @ForAll @IntRange(min = 5, max = 60) int max) {
        OomKillSeries s = new OomKillSeries(max);
        Set<String> onNode = new HashSet<>();
        for (int i = 0; i <= 400; i++) {
            onNode.add(pod(i));
        }
        long kills = 0;
        boolean left = false;
        for (Step st : steps) {
            if (st.leave()) {
                left |= onNode.remove(pod(st.pod()));
            } else {
                String p = pod(st.pod());
                if (!onNode.contains(p)) {
                    onNode.add(p); // a new pod of that name arrives
                }
                s.record(st.system(), st.attributed() ? new OomAttribution.Victim(p, "c" + st.container()) : null,
                        st.process(), Set.copyOf(onNode));
                kills++;
            }
            List<OomKillSeries.Series> now = s.series(Set.copyOf(onNode));
            assertThat(now.size()).isLessThanOrEqualTo(max);
            assertThat(now).allSatisfy(x -> {
                assertThat(x.namespace().isEmpty() || onNode.contains(x.namespace() + "/" + x.pod())).isTrue();
                assertThat(x.victim().length()).isLessThanOrEqualTo(OomKillSeries.COMM_MAX);
                assertThat(x.victim().chars().noneMatch(Character::isISOControl)).isTrue();
            });
            Map<String, Set<String>> victims = new HashMap<>();
            for (OomKillSeries.Series x : now) {
                if (!x.namespace().isEmpty() && !x.victim().equals(OomKillSeries.OTHER)) {
                    victims.computeIfAbsent(x.namespace() + "/" + x.pod() + "/" + x.container(),
                            k -> new HashSet<>()).add(x.victim());
                }
            }
            assertThat(victims.values()).allSatisfy(v -> assertThat(v.size())
                    .isLessThanOrEqualTo(OomKillSeries.VICTIMS_PER_CONTAINER));
            long total = now.stream().mapToLong(OomKillSeries.Series::count).sum();
            if (!left) {
                assertThat(total).as("every kill counted once while no pod left").isEqualTo(kills);
            } else {
                assertThat(total).isLessThanOrEqualTo(kills);
            }
        }
    }

    @Test
    void aContainersSeriesByVictimThenOtherThenTheOverflowAndAPodThatLeftIsDropped() {
        OomKillSeries s = new OomKillSeries(6); // 4 fixed + 2 container series
        Set<String> pods = Set.of("shop/web", "shop/db");
        OomAttribution.Victim web = new OomAttribution.Victim("shop/web", "app");
        s.record(false, web, "java", pods);
        s.record(false, web, "java", pods);
        s.record(false, web, "sh\u001b[2J", pods);
        s.record(false, new OomAttribution.Victim("shop/db", "pg"), "postgres", pods); // over the bound
        s.record(true, null, "chrome", pods);
        List<OomKillSeries.Series> all = s.series(pods);
        assertThat(all).containsExactly(
                new OomKillSeries.Series("cgroup", "", "", "", "", 0),
                new OomKillSeries.Series("cgroup", "", "", "", OomKillSeries.OTHER, 1),
                new OomKillSeries.Series("cgroup", "shop", "web", "app", "java", 2),
                new OomKillSeries.Series("cgroup", "shop", "web", "app", "sh?[2J", 1),
                new OomKillSeries.Series("system", "", "", "", "", 1));
        assertThat(s.series(Set.of("shop/db"))).extracting(OomKillSeries.Series::pod).containsOnly("");
        s.record(false, new OomAttribution.Victim("shop/db", "pg"), "postgres", Set.of("shop/db"));
        assertThat(s.series(null)).contains(new OomKillSeries.Series("cgroup", "shop", "db", "pg", "postgres", 1));
    }

    @Test
    void aContainersFifthProcessNameCountsAsOther() {
        OomKillSeries s = new OomKillSeries();
        List<String> names = new ArrayList<>(List.of("a", "b", "c", "d", "e", "f", "a"));
        for (String n : names) {
            s.record(false, new OomAttribution.Victim("shop/web", "app"), n, null);
        }
        assertThat(s.series(null)).filteredOn(x -> x.pod().equals("web"))
                .extracting(OomKillSeries.Series::victim, OomKillSeries.Series::count)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("a", 2L), org.assertj.core.groups.Tuple.tuple("b", 1L),
                        org.assertj.core.groups.Tuple.tuple("c", 1L), org.assertj.core.groups.Tuple.tuple("d", 1L),
                        org.assertj.core.groups.Tuple.tuple(OomKillSeries.OTHER, 2L));
    }
}
