package io.memwarden.nri;

import static io.memwarden.model.CgroupFiles.MEMORY_SWAP_MAX;
import static io.memwarden.model.CgroupFiles.V1_LIMIT;
import static io.memwarden.model.CgroupFiles.V1_MEMSW_LIMIT;

import io.memwarden.model.CgroupVersion;
import io.memwarden.model.Printable;
import io.memwarden.nri.api.Container;
import io.memwarden.nri.api.Mount;
import io.memwarden.policy.Plan.ContainerPlan;
import java.util.ArrayList;
import java.util.List;

/**
 * Memory-backed volumes of a container that may swap, kept off swap (KEP-2400: memory-backed volumes must not be
 * swapped; kubelet-semantics.md §1, memory-control-anchors.md "Kubernetes NodeSwap"):
 * <ul>
 *   <li>a mount of type {@code tmpfs} in the container's OCI mounts without {@code noswap} is replaced through the
 *       NRI mount adjustment — its removal ({@code "-" + destination}, nri-protocol.md §4 "Removal") and the same
 *       mount (destination, type, source, every option in order) with {@code noswap} appended — where the kernel
 *       supports the option; where it does not, it is reported;</li>
 *   <li>a bind mount whose host source is a tmpfs without {@code noswap} (an {@code emptyDir} of medium Memory, which
 *       the kubelet mounts on the host — noswap itself since 1.30 where the kernel supports it) cannot be changed
 *       through NRI: it is reported.</li>
 * </ul>
 * A container that cannot swap (its plan: v2 {@code memory.swap.max} absent or 0, v1 memsw absent or equal to its
 * limit — the same test as the pod swap cap's, docs/policy.md §15) is left alone.
 */
final class NoswapMounts {
    static final String NOSWAP = "noswap";
    /** Removal marker of an adjustment key (nri-protocol.md §4). */
    static final String REMOVE = "-";

    private NoswapMounts() {}

    /**
     * @param adjust      the mount entries of the adjustment (removal, then the replacement, per mount)
     * @param reasons     one per memory-backed mount considered
     * @param unprotected "destination (type, source): why" for each memory-backed mount left swappable
     */
    record Outcome(List<Mount> adjust, List<String> reasons, List<String> unprotected) {
        static final Outcome NONE = new Outcome(List.of(), List.of(), List.of());
    }

    /** Whether the container's plan lets it swap. */
    static boolean maySwap(CgroupVersion v, ContainerPlan plan) {
        if (plan == null) {
            return false;
        }
        if (v == CgroupVersion.V2) {
            String s = plan.cgroup().get(MEMORY_SWAP_MAX);
            return s != null && !s.equals("0");
        }
        String memsw = plan.cgroup().get(V1_MEMSW_LIMIT);
        return memsw != null && !memsw.equals(plan.cgroup().get(V1_LIMIT));
    }

    static Outcome decide(CgroupVersion v, ContainerPlan plan, Container c, MemoryBackedVolumes volumes) {
        if (!maySwap(v, plan) || c.getMountsCount() == 0) {
            return Outcome.NONE;
        }
        List<Mount> adjust = new ArrayList<>();
        List<String> reasons = new ArrayList<>();
        List<String> unprotected = new ArrayList<>();
        for (Mount m : c.getMountsList()) {
            String where = Printable.of(m.getDestination(), 256);
            if (m.getType().equals("tmpfs")) {
                if (m.getOptionsList().contains(NOSWAP)) {
                    continue;
                }
                if (volumes.noswapSupported()) {
                    adjust.add(Mount.newBuilder().setDestination(REMOVE + m.getDestination()).build());
                    adjust.add(m.toBuilder().addOptions(NOSWAP).build());
                    reasons.add("tmpfs " + where + " mounted noswap: the container may swap and memory-backed volumes"
                            + " must not (" + volumes.detection() + ") [KEP-2400; kubelet-semantics §1]");
                } else {
                    String why = "tmpfs " + where + " may be swapped: " + volumes.detection()
                            + ", so it cannot be mounted noswap [KEP-2400; kubelet-semantics §1]";
                    reasons.add(why);
                    unprotected.add(why);
                }
            } else if (isBind(m) && volumes.swappableHostTmpfs().test(m.getSource())) {
                String why = "bind mount " + where + " from host tmpfs " + Printable.of(m.getSource(), 256)
                        + " may be swapped: NRI cannot change a host mount's options (the kubelet 1.30+ mounts"
                        + " emptyDir medium: Memory noswap itself where the kernel supports it) [KEP-2400]";
                reasons.add(why);
                unprotected.add(why);
            }
        }
        return new Outcome(adjust, reasons, unprotected);
    }

    private static boolean isBind(Mount m) {
        return m.getType().equals("bind") || m.getOptionsList().contains("bind") || m.getOptionsList().contains("rbind");
    }
}
