package io.memwarden.loops;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The kernel OOM kills by (kind, namespace, pod, container, victim) for {@code memwarden_oom_kills_total}, with a
 * bounded number of series (docs/metrics.md, "OOM kills"):
 * <ul>
 *   <li>a kill in a managed container counts in its container's series, {@code victim} the killed process's name
 *       ({@code comm}, at most 15 characters, control characters as {@code ?}); a container's fifth and later
 *       distinct names count as {@code victim="other"} ({@link #VICTIMS_PER_CONTAINER});</li>
 *   <li>series exist only for pods on the node: those of a pod that left are dropped (at the next kill or read);</li>
 *   <li>a kill no managed container took (a host process, another cgroup, a system OOM outside the pods) counts in
 *       {@code namespace="", pod="", container="", victim=""} of its kind; those two series always exist;</li>
 *   <li>at most {@code maxSeries} series in all: once the container series fill what the four fixed ones leave, a
 *       new one's kills count in the overflow series {@code namespace="", pod="", container="", victim="other"}.</li>
 * </ul>
 * Thread-safe.
 */
public final class OomKillSeries {
    /** The default bound on the family's series (two kinds × (unattributed + overflow) included). */
    public static final int DEFAULT_MAX_SERIES = 200;
    /** Distinct victim names per container before the rest count as {@code other}. */
    public static final int VICTIMS_PER_CONTAINER = 4;
    /** The victim label of kills beyond a bound. */
    public static final String OTHER = "other";
    /** The series always present or reserved: unattributed and overflow, for each kind. */
    static final int FIXED = 4;
    /** The kernel's TASK_COMM_LEN − 1: a task name is at most this long. */
    static final int COMM_MAX = 15;

    /** One series; empty namespace/pod/container for kills of no pod on the node. */
    public record Series(String kind, String namespace, String pod, String container, String victim, long count) {}

    private record Key(String kind, String namespace, String pod, String container, String victim) {
        String podKey() {
            return namespace + "/" + pod;
        }

        boolean attributed() {
            return !namespace.isEmpty();
        }
    }

    private static final Comparator<Key> ORDER = Comparator.comparing(Key::kind).thenComparing(Key::namespace)
            .thenComparing(Key::pod).thenComparing(Key::container).thenComparing(Key::victim);

    private final int maxSeries;
    private final Map<Key, Long> counts = new LinkedHashMap<>();

    public OomKillSeries() {
        this(DEFAULT_MAX_SERIES);
    }

    /** @param maxSeries the bound on series, at least {@link #FIXED} + 1 */
    public OomKillSeries(int maxSeries) {
        if (maxSeries <= FIXED) {
            throw new IllegalArgumentException("maxSeries must be more than " + FIXED + ", got " + maxSeries);
        }
        this.maxSeries = maxSeries;
        for (String kind : new String[] {"cgroup", "system"}) {
            counts.put(new Key(kind, "", "", "", ""), 0L);
        }
    }

    public int maxSeries() {
        return maxSeries;
    }

    /**
     * Counts one kill.
     *
     * @param victim     the managed container it hit, or null
     * @param process    the killed process's name (from the kernel log)
     * @param podsOnNode the pods on the node now ("namespace/name"), or null when not known: series of the others are
     *                   dropped first
     */
    public synchronized void record(boolean systemOom, OomAttribution.Victim victim, String process,
                                    Set<String> podsOnNode) {
        if (podsOnNode != null) {
            retain(podsOnNode);
        }
        String kind = systemOom ? "system" : "cgroup";
        Key unattributed = new Key(kind, "", "", "", "");
        if (victim == null || victim.name().isEmpty() || podsOnNode != null && !podsOnNode.contains(victim.pod())) {
            counts.merge(unattributed, 1L, Long::sum);
            return;
        }
        String name = victimLabel(process);
        Key key = new Key(kind, victim.namespace(), victim.name(), victim.container(), name);
        if (!counts.containsKey(key)) {
            Set<String> names = new HashSet<>();
            for (Key k : counts.keySet()) {
                if (k.attributed() && k.namespace().equals(key.namespace()) && k.pod().equals(key.pod())
                        && k.container().equals(key.container()) && !k.victim().equals(OTHER)) {
                    names.add(k.victim());
                }
            }
            if (names.size() >= VICTIMS_PER_CONTAINER) {
                key = new Key(kind, key.namespace(), key.pod(), key.container(), OTHER);
            }
        }
        if (!counts.containsKey(key) && attributedSeries() >= maxSeries - FIXED) {
            key = new Key(kind, "", "", "", OTHER);
        }
        counts.merge(key, 1L, Long::sum);
    }

    /** Drops the series of pods not in {@code podsOnNode}. */
    public synchronized void retain(Set<String> podsOnNode) {
        counts.keySet().removeIf(k -> k.attributed() && !podsOnNode.contains(k.podKey()));
    }

    /** The series now, in a stable order; first those of pods not in {@code podsOnNode} (when given) are dropped. */
    public synchronized List<Series> series(Set<String> podsOnNode) {
        if (podsOnNode != null) {
            retain(podsOnNode);
        }
        List<Key> keys = new ArrayList<>(counts.keySet());
        keys.sort(ORDER);
        return keys.stream().map(k -> new Series(k.kind(), k.namespace(), k.pod(), k.container(), k.victim(),
                counts.get(k))).toList();
    }

    private int attributedSeries() {
        int n = 0;
        for (Key k : counts.keySet()) {
            if (k.attributed()) {
                n++;
            }
        }
        return n;
    }

    /** A process name as a label value: at most {@link #COMM_MAX} characters, control characters as '?'. */
    static String victimLabel(String process) {
        if (process == null || process.isEmpty()) {
            return "unknown";
        }
        StringBuilder b = new StringBuilder(COMM_MAX);
        process.codePoints().limit(COMM_MAX).forEach(c -> b.appendCodePoint(
                Character.isISOControl(c) || Character.getType(c) == Character.FORMAT ? '?' : c));
        return b.toString();
    }
}
