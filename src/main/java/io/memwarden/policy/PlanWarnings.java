package io.memwarden.policy;

import static io.memwarden.model.CgroupFiles.MEMORY_MIN;
import static io.memwarden.model.CgroupFiles.MEMORY_SWAP_MAX;
import static io.memwarden.model.CgroupFiles.V1_LIMIT;
import static io.memwarden.model.CgroupFiles.V1_MEMSW_LIMIT;
import static io.memwarden.model.CgroupFiles.V1_UNLIMITED;
import static io.memwarden.model.CgroupFiles.V2_MAX;

import io.memwarden.model.HumanBytes;
import io.memwarden.model.CgroupVersion;
import io.memwarden.model.ContainerKind;
import io.memwarden.model.ContainerSpec;
import io.memwarden.model.NodeFacts;
import io.memwarden.model.PodSpec;
import io.memwarden.model.QosClass;
import io.memwarden.model.SwapBehavior;
import io.memwarden.policy.Plan.ContainerPlan;
import io.memwarden.policy.Plan.PodPlan;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * Warnings before surprises (issue #18 item 2): what a plan permits that this node cannot deliver, said before a
 * container is started, so an OOM kill a second later is not a mystery. Pure; computed from the planned cgroup files
 * (what will really be written), not from the behaviour names. Three checks, each a {@link Warning} with a
 * {@link Kind} (the agent's metric label and event reason):
 * <ol>
 *   <li>{@link Kind#SWAP_UNAVAILABLE}: a container may swap (v2 {@code memory.swap.max} &gt; 0 or {@code max}; v1
 *       {@code memory.memsw.limit_in_bytes} above {@code memory.limit_in_bytes} or -1) on a node with no swap on: it
 *       is OOM-killed at its memory limit instead of swapping. {@link Kind#SWAP_TOO_SMALL}: the bounded allowances
 *       together exceed the node's swap (unlimited allowances are bounded by the node's swap by definition and are
 *       not summed: two of them always "exceed" it, which says nothing).</li>
 *   <li>{@link Kind#MEMORY_MIN_OVERCOMMITTED}: Σ {@code memory.min} of the containers that run side by side (regular
 *       and sidecar; run-to-completion init containers do not overlap them) is at least {@link #MEMORY_MIN_CLOSE_PERCENT}
 *       % of what kubepods may hold: capacity − systemReserved − kubeReserved, the kubepods limit the kubelet writes
 *       with {@code enforceNodeAllocatable: [pods]} (kubelet-semantics §5; the eviction threshold is not subtracted
 *       there). memory.min is never reclaimed (kubelet-semantics §2): with that much protected, reclaim has almost
 *       nothing left to take in kubepods and the kernel OOM-kills instead. cgroup v1 has no memory.min: skipped.</li>
 *   <li>{@link Kind#GUARANTEED_UNPROTECTED}: a Guaranteed pod whose containers may not swap, next to UnlimitedSwap
 *       neighbours, on a node where nothing protects it (no {@code memory.min} in its plan: cgroup v1, the MemoryQoS
 *       gate off, or {@code memoryReservationPolicy: None}) and swap is on.</li>
 * </ol>
 */
public final class PlanWarnings {
    private PlanWarnings() {}

    /** "Close to" what kubepods may hold: Σ memory.min at or above this share of it warns. */
    public static final int MEMORY_MIN_CLOSE_PERCENT = 90;

    /** The kind of a warning: a stable label for metrics and event reasons. */
    public enum Kind {
        SWAP_UNAVAILABLE("swap_unavailable", "MemwardenSwapUnavailable"),
        SWAP_TOO_SMALL("swap_too_small", "MemwardenSwapTooSmall"),
        MEMORY_MIN_OVERCOMMITTED("memory_min_overcommitted", "MemwardenMemoryMinOvercommitted"),
        GUARANTEED_UNPROTECTED("guaranteed_unprotected", "MemwardenGuaranteedUnprotected");

        private final String label;
        private final String reason;

        Kind(String label, String reason) {
            this.label = label;
            this.reason = reason;
        }

        /** The metric label value ({@code memwarden_warnings{kind}}). */
        public String label() {
            return label;
        }

        /** The Kubernetes event reason. */
        public String reason() {
            return reason;
        }
    }

    /** One warning: its kind and one line for people. */
    public record Warning(Kind kind, String message) {}

    /** A planned container's swap allowance: -1 unlimited, 0 none (or not written), else bytes. */
    static long swapAllowance(CgroupVersion version, ContainerPlan cp) {
        if (version == CgroupVersion.V2) {
            String s = cp.cgroup().get(MEMORY_SWAP_MAX);
            if (s == null) {
                return 0;
            }
            return s.equals(V2_MAX) ? -1 : parse(s);
        }
        String memsw = cp.cgroup().get(V1_MEMSW_LIMIT);
        if (memsw == null) {
            return 0;
        }
        if (memsw.equals(V1_UNLIMITED)) {
            return -1;
        }
        String limit = cp.cgroup().get(V1_LIMIT);
        if (limit == null) {
            return 0;
        }
        return Math.max(0, parse(memsw) - parse(limit));
    }

    private static long parse(String v) {
        try {
            return Math.max(0, Long.parseLong(v.strip()));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** The warnings for these planned pods on this node. */
    public static List<Warning> of(NodeFacts node, KubeletSettings kubelet, List<Planner.PodOutcome> outcomes) {
        List<Warning> out = new ArrayList<>();
        swap(node, outcomes, out);
        memoryMin(node, kubelet, outcomes, out);
        unprotected(node, outcomes, out);
        return out;
    }

    /** @param fromNri its swap allowance comes from nri memory-qos (a class or annotation), not the swap behaviour */
    private record Swapper(String id, long allowance, long limit, boolean fromNri) {}

    private static void swap(NodeFacts node, List<Planner.PodOutcome> outcomes, List<Warning> out) {
        List<Swapper> swappers = new ArrayList<>();
        for (Planner.PodOutcome o : outcomes) {
            if (o.plan() == null) {
                continue;
            }
            for (ContainerPlan cp : o.plan().containers()) {
                long a = swapAllowance(node.cgroupVersion(), cp);
                if (a != 0) {
                    boolean nri = cp.reasons().stream().anyMatch(r -> r.startsWith(MEMORY_SWAP_MAX + "=")
                            && r.contains("nri memory-qos"));
                    swappers.add(new Swapper(id(o.plan(), cp), a, containerLimit(o.pod(), cp.name()), nri));
                }
            }
        }
        if (swappers.isEmpty()) {
            return;
        }
        long bounded = 0;
        long wanted = 0; // a size that covers them: bounded allowances + the unbounded ones' memory limits
        for (Swapper s : swappers) {
            if (s.allowance() > 0) {
                bounded = Sizes.add(bounded, s.allowance());
                wanted = Sizes.add(wanted, s.allowance());
            } else if (s.limit() > 0) {
                wanted = Sizes.add(wanted, s.limit());
            }
        }
        boolean anyNri = swappers.stream().anyMatch(Swapper::fromNri);
        boolean anyBehaviour = swappers.stream().anyMatch(s -> !s.fromNri());
        String noSwapFix = " or plan them without swap ("
                + (anyBehaviour ? "swap behaviour NoSwap: memwarden config swap.behavior: NoSwap" : "")
                + (anyBehaviour && anyNri ? "; " : "")
                + (anyNri ? "memory.swap.max 0 in their nri memory-qos class or annotation" : "") + ")";
        if (!node.swapOn()) {
            out.add(new Warning(Kind.SWAP_UNAVAILABLE, swappers.size() + " container(s) may swap but the node has no"
                    + " swap on: " + list(swappers) + "; each is OOM-killed at its memory limit instead of swapping;"
                    + " turn swap on (memwarden swap file create --size=" + roundUpMi(Math.max(wanted, 1L << 20))
                    + " /var/swapfile)" + noSwapFix + " [kubelet-semantics §1]"));
            return;
        }
        if (bounded > node.swapCapacity()) {
            long by = bounded - node.swapCapacity();
            out.add(new Warning(Kind.SWAP_TOO_SMALL, "the planned swap allowances add up to " + human(bounded)
                    + ", more than the node's swap " + human(node.swapCapacity()) + " by " + human(by) + ": "
                    + list(swappers.stream().filter(s -> s.allowance() > 0).toList()) + "; when swap fills up they"
                    + " are OOM-killed at their limits before reaching their allowance; add swap (memwarden swap file"
                    + " create --size=" + roundUpMi(by) + " /var/swapfile2)" + noSwapFix + " [kubelet-semantics §1]"));
        }
    }

    private static void memoryMin(NodeFacts node, KubeletSettings kubelet, List<Planner.PodOutcome> outcomes,
                                  List<Warning> out) {
        if (node.cgroupVersion() != CgroupVersion.V2) {
            return;
        }
        record Min(String id, long bytes) {}
        List<Min> mins = new ArrayList<>();
        long total = 0;
        for (Planner.PodOutcome o : outcomes) {
            if (o.plan() == null) {
                continue;
            }
            for (ContainerPlan cp : o.plan().containers()) {
                if (kind(o.pod(), cp.name()) == ContainerKind.INIT) {
                    continue;
                }
                String v = cp.cgroup().get(MEMORY_MIN);
                long b = v == null ? 0 : parse(v);
                if (b > 0) {
                    mins.add(new Min(id(o.plan(), cp), b));
                    total = Sizes.add(total, b);
                }
            }
        }
        long limit = Allocatable.kubepodsLimit(node, kubelet);
        if (total == 0 || (double) total * 100 < (double) limit * MEMORY_MIN_CLOSE_PERCENT) {
            return;
        }
        mins.sort(Comparator.comparingLong(Min::bytes).reversed().thenComparing(Min::id));
        List<String> top = mins.stream().limit(3).map(m -> m.id() + " " + human(m.bytes())).toList();
        String pct = String.format(Locale.ROOT, "%.0f", (double) total * 100 / Math.max(1, limit));
        out.add(new Warning(Kind.MEMORY_MIN_OVERCOMMITTED, "Σ memory.min of the containers is " + human(total) + ", "
                + (total >= limit ? "at or above" : "close to (" + pct + " % of)") + " what kubepods may hold, "
                + human(limit) + " (capacity − systemReserved − kubeReserved): protected memory is never reclaimed, so"
                + " under pressure the kernel has little else to reclaim and OOM-kills instead; biggest: "
                + String.join(", ", top) + (mins.size() > 3 ? " (+" + (mins.size() - 3) + " more)" : "")
                + " [kubelet-semantics §2, §5]"));
    }

    private static void unprotected(NodeFacts node, List<Planner.PodOutcome> outcomes, List<Warning> out) {
        if (!node.swapOn() || !node.swapControllerAvailable()) {
            return;
        }
        List<String> unlimited = new ArrayList<>();
        for (Planner.PodOutcome o : outcomes) {
            if (o.plan() == null) {
                continue;
            }
            for (ContainerPlan cp : o.plan().containers()) {
                if (swapAllowance(node.cgroupVersion(), cp) < 0
                        || SwapBehavior.UNLIMITED_SWAP.configName().equals(cp.swapBehavior())) {
                    unlimited.add(id(o.plan(), cp));
                }
            }
        }
        if (unlimited.isEmpty()) {
            return;
        }
        for (Planner.PodOutcome o : outcomes) {
            PodPlan p = o.plan();
            if (p == null || o.qos() != QosClass.GUARANTEED) {
                continue;
            }
            boolean noSwap = p.containers().stream().allMatch(cp -> swapAllowance(node.cgroupVersion(), cp) == 0);
            boolean protectedPod = p.containers().stream().anyMatch(cp -> parse(cp.cgroup().getOrDefault(MEMORY_MIN,
                    "0")) > 0) || parse(p.podCgroup().getOrDefault(MEMORY_MIN, "0")) > 0;
            if (!noSwap || protectedPod) {
                continue;
            }
            String key = p.namespace() + "/" + p.name();
            List<String> neighbours = unlimited.stream().filter(u -> !u.startsWith(key + "/")).toList();
            if (neighbours.isEmpty()) {
                continue;
            }
            String why = node.cgroupVersion() == CgroupVersion.V1 ? "cgroup v1 has no memory.min"
                    : "memory QoS gives it no memory.min (MemoryQoS gate off or memoryReservationPolicy None)";
            out.add(new Warning(Kind.GUARANTEED_UNPROTECTED, "Guaranteed pod " + key + " may not swap and nothing"
                    + " protects its memory (" + why + ") while " + neighbours.size() + " UnlimitedSwap neighbour(s) "
                    + String.join(", ", first(neighbours)) + " may swap without bound: under node memory pressure the"
                    + " kernel reclaims from every cgroup alike; " + key + " can give only its page cache, so it is"
                    + " the one driven into OOM kills while the neighbours grow into swap; give the neighbours a bound"
                    + " (LimitedSwap, swap.maxPerContainer) or protect the pod (cgroup v2, MemoryQoS with"
                    + " memoryReservationPolicy: TieredReservation) [kubelet-semantics §1, §2]"));
        }
    }

    private static List<String> first(List<String> ids) {
        if (ids.size() <= 5) {
            return ids;
        }
        List<String> l = new ArrayList<>(ids.subList(0, 5));
        l.add("+" + (ids.size() - 5) + " more");
        return l;
    }

    private static String list(List<Swapper> swappers) {
        List<String> ids = swappers.stream().map(s -> s.id() + " (" + (s.allowance() < 0 ? "unlimited"
                : human(s.allowance())) + ")").toList();
        return String.join(", ", first(ids));
    }

    private static String id(PodPlan p, ContainerPlan cp) {
        return p.namespace() + "/" + p.name() + "/" + cp.name();
    }

    private static ContainerKind kind(PodSpec pod, String name) {
        for (ContainerSpec c : pod.containers()) {
            if (c.name().equals(name)) {
                return c.kind();
            }
        }
        return ContainerKind.REGULAR;
    }

    private static long containerLimit(PodSpec pod, String name) {
        for (ContainerSpec c : pod.containers()) {
            if (c.name().equals(name)) {
                return c.resources().memoryLimitOrZero();
            }
        }
        return 0;
    }


    private static String roundUpMi(long bytes) {
        long mi = Math.ceilDiv(bytes, 1L << 20); // no overflow near Long.MAX_VALUE (a hostile pod's sizes)
        return mi % 1024 == 0 ? (mi / 1024) + "Gi" : mi + "Mi";
    }

    /** Bytes as a Kubernetes-style binary size with at most one decimal: 256Mi, 1.9Gi, 512Ki, 100 bytes. */
    static String human(long bytes) {
        return HumanBytes.sentence(bytes);
    }
}
