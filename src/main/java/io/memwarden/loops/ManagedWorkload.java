package io.memwarden.loops;

import io.memwarden.model.PodSpec;
import io.memwarden.policy.Plan;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The containers the control loops look after, wherever they come from: the standalone runner's own processes
 * ({@link #of(Supplier, Plan, List)}), or the containers a runtime created and memwarden planned through NRI
 * (the node agent). Read from the loops' thread and the status API's threads.
 */
public interface ManagedWorkload {

    /** Every managed container now, with its cgroup's numbers ({@link ContainerStatus#usage()}). */
    List<ContainerStatus> snapshot();

    /**
     * As {@link #snapshot()}, but a workload may give each container a lazy
     * {@link io.memwarden.cgroup.MemoryUsage#lazy view} that reads only the files asked for: for one pass by one
     * caller (a loop round, a scrape). A value whose file vanished meanwhile throws
     * {@link java.io.UncheckedIOException}: that container's cgroup is gone.
     */
    default List<ContainerStatus> lazySnapshot() {
        return snapshot();
    }

    /** Closes the cgroup files {@link #lazySnapshot()} kept open, if any (the workload stays usable). */
    default void closeHeldFiles() {
    }

    /** The managed pods: the spec the plan came from and the pod's plan. */
    List<ManagedPod> pods();

    /** A managed pod: its spec and plan ({@code plan.namespace()/plan.name()} equals {@code spec.key()}). */
    record ManagedPod(PodSpec spec, Plan.PodPlan plan) {
        public String key() {
            return spec.key();
        }
    }

    /**
     * A workload of a fixed plan (the standalone runner's): the containers {@code containers} gives, and each pod of
     * {@code plan} with its spec among {@code specs}.
     */
    static ManagedWorkload of(Supplier<List<ContainerStatus>> containers, Plan plan, List<PodSpec> specs) {
        List<ManagedPod> pods = new ArrayList<>();
        for (Plan.PodPlan pp : plan.pods()) {
            String key = pp.namespace() + "/" + pp.name();
            specs.stream().filter(s -> s.key().equals(key)).findFirst()
                    .ifPresent(s -> pods.add(new ManagedPod(s, pp)));
        }
        List<ManagedPod> fixed = List.copyOf(pods);
        return new ManagedWorkload() {
            @Override
            public List<ContainerStatus> snapshot() {
                return containers.get();
            }

            @Override
            public List<ManagedPod> pods() {
                return fixed;
            }
        };
    }
}
