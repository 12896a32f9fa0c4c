package io.memwarden.nri;

import io.memwarden.nri.api.Container;
import io.memwarden.nri.api.PodSandbox;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The pods and containers the runtime has told the plugin about in this session (from sync and events). */
final class NriRegistry {
    private final Map<String, PodSandbox> pods = new ConcurrentHashMap<>();
    private final Map<String, Container> containers = new ConcurrentHashMap<>();
    private final Map<String, Planned> plans = new ConcurrentHashMap<>();

    void clear() {
        pods.clear();
        containers.clear();
        plans.clear();
    }

    /** The container's latest plan (create, update, synchronize, reconfigure). */
    synchronized void putPlan(String containerId, Planned p) {
        if (!containerId.isEmpty() && containers.containsKey(containerId)) {
            plans.put(containerId, p);
        }
    }

    /**
     * Stores a container's new state and its plan together, if the stored container is still {@code expected}
     * (null: unconditionally, for the runtime's own calls). The loops' thread (late pod specs) and the config
     * watcher (reload) plan from a snapshot while runtime calls run on their own threads: a snapshot that a runtime
     * call replaced meanwhile, or a container removed meanwhile, is not written back over it.
     *
     * @return whether it was stored
     */
    synchronized boolean commit(Container expected, Container c, Planned p) {
        if (c.getId().isEmpty()) {
            return false;
        }
        if (expected != null && !expected.equals(containers.get(c.getId()))) {
            return false;
        }
        containers.put(c.getId(), c);
        plans.put(c.getId(), p);
        return true;
    }

    Planned plan(String containerId) {
        return plans.get(containerId);
    }

    void putPod(PodSandbox p) {
        if (!p.getId().isEmpty()) {
            pods.put(p.getId(), p);
        }
    }

    synchronized void removePod(String podId) {
        pods.remove(podId);
        containers.values().removeIf(c -> c.getPodSandboxId().equals(podId));
        plans.keySet().retainAll(containers.keySet());
    }

    PodSandbox pod(String podId) {
        return pods.get(podId);
    }

    synchronized void putContainer(Container c) {
        if (!c.getId().isEmpty()) {
            containers.put(c.getId(), c);
        }
    }

    synchronized void removeContainer(String id) {
        containers.remove(id);
        plans.remove(id);
    }

    Container container(String id) {
        return containers.get(id);
    }

    /** The pod's known containers, with {@code current} in place of its stored version. */
    List<Container> containersOf(String podId, Container current) {
        List<Container> out = new ArrayList<>();
        for (Container c : containers.values()) {
            if (c.getPodSandboxId().equals(podId) && !c.getId().equals(current.getId())) {
                out.add(c);
            }
        }
        out.add(current);
        out.sort(Comparator.comparing(Container::getName));
        return out;
    }

    List<Container> containers() {
        return List.copyOf(containers.values());
    }

    int podCount() {
        return pods.size();
    }

    int containerCount() {
        return containers.size();
    }
}
