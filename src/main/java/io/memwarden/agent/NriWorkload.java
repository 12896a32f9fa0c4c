package io.memwarden.agent;

import io.memwarden.cgroup.HeldFiles;
import io.memwarden.cgroup.MemoryUsage;
import io.memwarden.model.CgroupVersion;
import io.memwarden.nri.NriPlugin;
import io.memwarden.policy.Plan;
import io.memwarden.loops.ContainerStatus;
import io.memwarden.loops.ManagedWorkload;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node agent's workload in NRI mode: every container the runtime created and memwarden planned
 * ({@link NriPlugin#managed()}), with its cgroup found from the runtime's cgroups path and read on each snapshot.
 * A container whose cgroup does not exist (yet, or any more) is listed without usage, and the loops skip it.
 * <p>
 * Standalone mode uses it too: {@link StandaloneApplier#managed()} gives the containers it matched in the same form,
 * with the cgroup it found as a cgroupfs-style path.
 */
final class NriWorkload implements ManagedWorkload {
    private static final Logger LOG = LoggerFactory.getLogger(NriWorkload.class);

    private final Supplier<List<NriPlugin.ManagedContainer>> containers;
    private final Path memoryRoot;
    private final CgroupVersion version;
    private final Set<String> badPathLogged = ConcurrentHashMap.newKeySet();
    private final HeldFiles held = new HeldFiles();

    /**
     * @param containers the managed containers now (normally {@code plugin::managed})
     * @param memoryRoot the memory controller's hierarchy root
     */
    public NriWorkload(Supplier<List<NriPlugin.ManagedContainer>> containers, Path memoryRoot, CgroupVersion version) {
        this.containers = containers;
        this.memoryRoot = memoryRoot;
        this.version = version;
    }

    @Override
    public List<ContainerStatus> snapshot() {
        return snapshot(false, null);
    }

    /**
     * As {@link #snapshot()}, with each cgroup's numbers read only when asked ({@link MemoryUsage#lazy}), through
     * the cgroup files kept open between calls ({@link HeldFiles}; the loops' rounds, /status and /metrics); the
     * files of containers no longer managed are closed.
     */
    @Override
    public List<ContainerStatus> lazySnapshot() {
        List<ContainerStatus> out = snapshot(true, held);
        Set<Path> present = new java.util.HashSet<>();
        for (ContainerStatus s : out) {
            present.add(s.cgroup());
        }
        held.retainCgroups(present);
        return out;
    }

    @Override
    public void closeHeldFiles() {
        held.close();
    }

    private List<ContainerStatus> snapshot(boolean lazy, HeldFiles files) {
        List<ContainerStatus> out = new ArrayList<>();
        for (NriPlugin.ManagedContainer c : containers.get()) {
            Path cg = cgroupOf(c);
            MemoryUsage u = null;
            if (cg != null && Files.isDirectory(cg)) {
                if (lazy) {
                    u = files == null ? MemoryUsage.lazy(cg, version) : MemoryUsage.lazy(cg, version, files);
                } else {
                    try {
                        u = MemoryUsage.read(cg, version);
                    } catch (IOException e) {
                        // removed between the check and the read: no usage this time
                    }
                }
            }
            out.add(new ContainerStatus(c.podKey(), c.name(), c.plan().init(), c.plan().swapBehavior(),
                    cg == null ? Path.of("/nonexistent") : cg, c.plan().cgroup(), 0, null, u, null));
        }
        return out;
    }

    /**
     * The managed pods, each with the plan of its newest planning; the containers memwarden planned through NRI carry
     * their NRI-time reasons (where the pod spec came from, degraded-mode notes) in place of the policy's alone.
     */
    @Override
    public List<ManagedPod> pods() {
        Map<String, NriPlugin.ManagedContainer> first = new LinkedHashMap<>();
        Map<String, Map<String, Plan.ContainerPlan>> planned = new LinkedHashMap<>();
        for (NriPlugin.ManagedContainer c : containers.get()) {
            if (c.podPlan() != null) {
                first.putIfAbsent(c.podKey(), c);
                planned.computeIfAbsent(c.podKey(), k -> new LinkedHashMap<>()).put(c.name(), c.plan());
            }
        }
        List<ManagedPod> out = new ArrayList<>();
        for (var e : first.entrySet()) {
            Plan.PodPlan pp = e.getValue().podPlan();
            Map<String, Plan.ContainerPlan> mine = planned.get(e.getKey());
            List<Plan.ContainerPlan> cs = pp.containers().stream().map(c -> mine.getOrDefault(c.name(), c)).toList();
            out.add(new ManagedPod(e.getValue().spec(), new Plan.PodPlan(pp.namespace(), pp.name(), pp.qosClass(),
                    pp.critical(), pp.priority(), pp.memoryRequestBytes(), pp.podCgroup(), cs, pp.reasons())));
        }
        return out;
    }

    private Path cgroupOf(NriPlugin.ManagedContainer c) {
        try {
            return CgroupPaths.resolve(memoryRoot, c.cgroupsPath());
        } catch (IllegalArgumentException e) {
            if (badPathLogged.add(c.id())) {
                LOG.warn("{}/{}: cannot locate its cgroup ({}); the control loops leave it alone", c.podKey(), c.name(),
                        e.getMessage());
            }
            return null;
        }
    }
}
