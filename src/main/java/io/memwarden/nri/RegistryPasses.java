package io.memwarden.nri;

import static io.memwarden.nri.PlanToNri.currentResources;
import static io.memwarden.nri.PlanToNri.oneLine;
import static io.memwarden.nri.PlanToNri.withResources;

import io.memwarden.model.CgroupVersion;
import io.memwarden.nri.api.Container;
import io.memwarden.nri.api.ContainerState;
import io.memwarden.nri.api.ContainerUpdate;
import io.memwarden.nri.api.LinuxResources;
import io.memwarden.nri.api.PodSandbox;
import io.memwarden.nri.wire.RpcException;
import io.memwarden.policy.Plan.ContainerPlan;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Passes over every container of the registry: planning them all again (Synchronize, a config reload), planning
 * again those planned in degraded mode whose pod spec has arrived since, and the view of the managed containers.
 * A pass plans from a snapshot while runtime calls run on their own threads: what a call replaced meanwhile wins.
 */
final class RegistryPasses {
    private static final Logger LOG = LoggerFactory.getLogger(NriPlugin.class);
    /** How often a reload re-plans a container that runtime calls keep replacing meanwhile. */
    private static final int COMMIT_ATTEMPTS = 3;

    private final CgroupVersion cgroupVersion;
    private final NriRegistry registry;
    private final ContainerPlanning planning;
    private final PodResolver resolver;
    private final PlanFailures failures;

    RegistryPasses(CgroupVersion cgroupVersion, NriRegistry registry, ContainerPlanning planning, PodResolver resolver,
                   PlanFailures failures) {
        this.cgroupVersion = cgroupVersion;
        this.registry = registry;
        this.planning = planning;
        this.resolver = resolver;
        this.failures = failures;
    }

    /**
     * Re-plans every created or running container (no waiting for pod specs); returns the changes.
     *
     * @param what the occasion, for logs: "Synchronize" or "reconfigure"
     */
    List<ContainerUpdate> replanAll(String what) {
        List<ContainerUpdate> out = new ArrayList<>();
        Map<String, ContainerPlanning.PodPass> pass = new HashMap<>();
        for (Container snapshot : registry.containers()) {
            // a runtime call that replaces the container meanwhile wins; it is planned again from its new state
            for (int attempt = 0; attempt < COMMIT_ATTEMPTS; attempt++) {
                Container c = attempt == 0 ? snapshot : registry.container(snapshot.getId());
                if (replan(c, attempt == 0 ? pass : null, what, out)) {
                    break;
                }
            }
        }
        return out;
    }

    /** @return false when a runtime call replaced the container meanwhile (plan it again from its new state) */
    private boolean replan(Container c, Map<String, ContainerPlanning.PodPass> pass, String what,
                           List<ContainerUpdate> out) {
        if (c == null || c.getState() != ContainerState.CONTAINER_CREATED
                && c.getState() != ContainerState.CONTAINER_RUNNING) {
            return true;
        }
        PodSandbox pod = registry.pod(c.getPodSandboxId());
        if (pod == null) {
            return true;
        }
        try {
            Planned p = planning.plan(pod, c, null, false, pass);
            LinuxResources cur = currentResources(c);
            LinuxResources res = p.resources(cgroupVersion, cur);
            boolean change = !PlanToNri.isEmpty(res);
            if (!registry.commit(c, change ? withResources(c, PlanToNri.merge(cur, res)) : c, p)) {
                return false;
            }
            if (change) {
                out.add(PlanToNri.update(c.getId(), res));
                LOG.debug("{} {}:{} ({}): update {}", what, p.podKey(), c.getName(), p.source(), oneLine(res));
            }
        } catch (RpcException e) {
            // this container only: the others are still planned and the Synchronize answers for them
            LOG.warn("{} {}/{}:{}: not planned: {}", what, pod.getNamespace(), pod.getName(), c.getName(),
                    e.getMessage());
            failures.report(pod, c, e.getMessage());
        } catch (RuntimeException e) {
            LOG.error("{} {}/{}:{}: not planned (internal error)", what, pod.getNamespace(), pod.getName(),
                    c.getName(), e);
            failures.report(pod, c, NriStub.INTERNAL);
        }
        return true;
    }

    /** Whether some container was planned from NRI data alone because its pod spec was not known yet. */
    boolean hasDegraded() {
        return resolver.hasPrimary() && registry.containers().stream().map(c -> registry.plan(c.getId()))
                .anyMatch(p -> p != null && p.degraded());
    }

    /**
     * Plans again the containers planned from NRI data alone whose pod the pod-spec source now knows; returns the
     * changes (none without a pod-spec source).
     */
    List<ContainerUpdate> refreshDegraded() {
        List<ContainerUpdate> out = new ArrayList<>();
        for (Container c : registry.containers()) {
            Planned old = registry.plan(c.getId());
            PodSandbox pod = registry.pod(c.getPodSandboxId());
            if (old == null || !old.degraded() || pod == null
                    || !resolver.primaryKnows(new PodQuery(pod, registry.containersOf(pod.getId(), c), c))) {
                continue;
            }
            try {
                refresh(pod, c, out);
            } catch (RpcException e) {
                LOG.warn("{}/{}:{}: its pod spec arrived but does not plan: {}", pod.getNamespace(), pod.getName(),
                        c.getName(), e.getMessage());
                failures.report(pod, c, e.getMessage());
            } catch (RuntimeException e) {
                LOG.error("{}/{}:{}: its pod spec arrived but does not plan (internal error)", pod.getNamespace(),
                        pod.getName(), c.getName(), e);
                failures.report(pod, c, NriStub.INTERNAL);
            }
        }
        return out;
    }

    private void refresh(PodSandbox pod, Container c, List<ContainerUpdate> out) throws RpcException {
        Planned p = planning.plan(pod, c, null, false);
        if (p.degraded()) {
            return;
        }
        LinuxResources cur = currentResources(c);
        LinuxResources res = p.resources(cgroupVersion, cur);
        if (!registry.commit(c, withResources(c, PlanToNri.merge(cur, res)), p)) {
            return; // a runtime call replaced it meanwhile (and planned it); the next round looks again
        }
        LOG.info("{}:{}: pod spec from {} arrived: planned again, {}", p.podKey(), c.getName(), p.source(),
                PlanToNri.isEmpty(res) ? "no change" : "update " + oneLine(res));
        if (!PlanToNri.isEmpty(res)) {
            out.add(PlanToNri.update(c.getId(), res));
        }
    }

    /** The created or running containers with a plan, as the agent's loops and status see them. */
    List<NriPlugin.ManagedContainer> managed() {
        List<NriPlugin.ManagedContainer> out = new ArrayList<>();
        for (Container c : registry.containers()) {
            if (c.getState() != ContainerState.CONTAINER_CREATED && c.getState() != ContainerState.CONTAINER_RUNNING
                    && c.getState() != ContainerState.CONTAINER_UNKNOWN) {
                continue;
            }
            Planned p = registry.plan(c.getId());
            PodSandbox pod = registry.pod(c.getPodSandboxId());
            if (p != null && pod != null) {
                out.add(managed(c, pod, p));
            }
        }
        out.sort(Comparator.comparing(NriPlugin.ManagedContainer::namespace)
                .thenComparing(NriPlugin.ManagedContainer::pod).thenComparing(NriPlugin.ManagedContainer::name));
        return out;
    }

    private static NriPlugin.ManagedContainer managed(Container c, PodSandbox pod, Planned p) {
        String path = c.hasLinux() ? c.getLinux().getCgroupsPath() : "";
        String[] key = p.podKey().split("/", 2);
        ContainerPlan cp = p.plan();
        // the reasons as the runtime call gave them: where the spec came from, degraded-mode notes, then policy's
        List<String> reasons = new ArrayList<>();
        reasons.add("pod spec from " + p.source() + (p.degraded() ? " (degraded: NRI data only)" : ""));
        reasons.addAll(p.reasons());
        ContainerPlan withNotes = new ContainerPlan(cp.name(), cp.init(), cp.swapBehavior(), cp.oomScoreAdj(),
                cp.cgroup(), reasons);
        return new NriPlugin.ManagedContainer(c.getId(), key[0], key.length > 1 ? key[1] : "", pod.getUid(),
                c.getName(), path, p.spec(), p.podPlan(), withNotes, p.degraded(), p.source());
    }
}
