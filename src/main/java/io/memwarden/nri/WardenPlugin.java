package io.memwarden.nri;

import static io.memwarden.nri.PlanToNri.currentResources;
import static io.memwarden.nri.PlanToNri.oneLine;
import static io.memwarden.nri.PlanToNri.withResources;

import io.memwarden.input.InputException;
import io.memwarden.input.WardenConfigReader;
import io.memwarden.input.YamlDocs;
import io.memwarden.model.CgroupVersion;
import io.memwarden.nri.api.ConfigureRequest;
import io.memwarden.nri.api.Container;
import io.memwarden.nri.api.ContainerAdjustment;
import io.memwarden.nri.api.ContainerUpdate;
import io.memwarden.nri.api.CreateContainerRequest;
import io.memwarden.nri.api.CreateContainerResponse;
import io.memwarden.nri.api.LinuxContainerAdjustment;
import io.memwarden.nri.api.LinuxContainerUpdate;
import io.memwarden.nri.api.LinuxResources;
import io.memwarden.nri.api.Mount;
import io.memwarden.nri.api.OptionalInt;
import io.memwarden.nri.api.PodSandbox;
import io.memwarden.nri.api.RemoveContainerRequest;
import io.memwarden.nri.api.RemovePodSandboxRequest;
import io.memwarden.nri.api.RunPodSandboxRequest;
import io.memwarden.nri.api.StopContainerRequest;
import io.memwarden.nri.api.StopContainerResponse;
import io.memwarden.nri.api.UpdateContainerRequest;
import io.memwarden.nri.api.UpdateContainerResponse;
import io.memwarden.nri.api.UpdatePodSandboxRequest;
import io.memwarden.nri.wire.RpcException;
import io.memwarden.nri.wire.StatusCode;
import io.memwarden.policy.WardenConfig;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * memwarden's NRI plugin as typed handlers: each runtime call, decoded by {@link NriStub}, updates the registry and
 * is answered with the adjustment or update the policy plans for the container ({@link ContainerPlanning}); the
 * passes over the registry are {@link RegistryPasses}'.
 * <p>
 * Synchronize and the start of a session (which clears the registry) are serialized on this object.
 */
final class WardenPlugin implements NriHandlers.SessionStart, NriHandlers.Configure, NriHandlers.Synchronize,
        NriHandlers.RunPodSandbox, NriHandlers.UpdatePodSandbox, NriHandlers.RemovePodSandbox,
        NriHandlers.CreateContainer, NriHandlers.UpdateContainer, NriHandlers.StopContainer,
        NriHandlers.RemoveContainer {
    private static final Logger LOG = LoggerFactory.getLogger(NriPlugin.class);

    private final CgroupVersion cgroupVersion;
    private final NriRegistry registry;
    private final ContainerPlanning planning;
    private final RegistryPasses passes;
    private final PlanFailures failures;
    private volatile NriPlugin.MountObserver mountsObserver = (pod, container, noswapped, unprotected) -> { };

    WardenPlugin(CgroupVersion cgroupVersion, NriRegistry registry, ContainerPlanning planning, RegistryPasses passes,
                 PlanFailures failures) {
        this.cgroupVersion = cgroupVersion;
        this.registry = registry;
        this.planning = planning;
        this.passes = passes;
        this.failures = failures;
    }

    void observeMounts(NriPlugin.MountObserver o) {
        mountsObserver = o;
    }

    @Override
    public synchronized void sessionStarted() {
        registry.clear();
    }

    /** A non-empty config from the runtime replaces the command line's. */
    @Override
    public void configure(ConfigureRequest r) throws RpcException {
        if (r.getConfig().isBlank()) {
            return;
        }
        try {
            String name = "NRI plugin config";
            List<JsonNode> docs = YamlDocs.readAll(name, r.getConfig());
            if (docs.size() != 1 || !docs.getFirst().isObject()) {
                throw new InputException(name + ": expected one YAML mapping");
            }
            WardenConfig cfg = WardenConfigReader.parse(name, docs.getFirst());
            planning.usePolicy(cfg);
            LOG.info("using the config passed by the runtime");
        } catch (InputException | IllegalArgumentException e) {
            throw new RpcException(StatusCode.UNKNOWN, e.getMessage());
        }
    }

    @Override
    public synchronized List<ContainerUpdate> synchronize(List<PodSandbox> pods, List<Container> containers) {
        registry.clear();
        pods.forEach(registry::putPod);
        containers.forEach(registry::putContainer);
        List<ContainerUpdate> updates = passes.replanAll("Synchronize");
        LOG.info("synchronized: {} pods, {} containers, {} update(s)", registry.podCount(), registry.containerCount(),
                updates.size());
        return updates;
    }

    @Override
    public void runPodSandbox(RunPodSandboxRequest r) {
        registry.putPod(r.getPod());
    }

    @Override
    public void updatePodSandbox(UpdatePodSandboxRequest r) {
        registry.putPod(r.getPod());
    }

    @Override
    public void removePodSandbox(RemovePodSandboxRequest r) {
        registry.removePod(r.getPod().getId());
    }

    @Override
    public CreateContainerResponse createContainer(CreateContainerRequest r) throws RpcException {
        registry.putPod(r.getPod());
        Container c = r.getContainer();
        Planned p;
        try {
            p = planning.plan(r.getPod(), c, null, true);
        } catch (RpcException e) {
            LOG.warn("CreateContainer {}/{}:{} refused: {}", r.getPod().getNamespace(), r.getPod().getName(),
                    c.getName(), e.getMessage());
            registry.putContainer(c);
            failures.report(r.getPod(), c, e.getMessage());
            throw e;
        }
        LinuxResources cur = currentResources(c);
        LinuxResources res = p.resources(cgroupVersion, cur);
        LinuxContainerAdjustment linux = adjustment(c, p, res);
        registry.commit(null, withResources(c, PlanToNri.merge(cur, res)), p);
        CreateContainerResponse.Builder out = CreateContainerResponse.newBuilder();
        List<Mount> mounts = p.mounts().adjust();
        if (linux != null || !mounts.isEmpty()) {
            ContainerAdjustment.Builder adjust = ContainerAdjustment.newBuilder().addAllMounts(mounts);
            if (linux != null) {
                adjust.setLinux(linux);
            }
            out.setAdjust(adjust);
        }
        LOG.info("CreateContainer {}:{} ({}): {}", p.podKey(), c.getName(), p.source(),
                linux != null || !mounts.isEmpty() ? "adjust " + oneLine(out.getAdjust()) : "no adjustment");
        for (String u : p.mounts().unprotected()) {
            LOG.warn("CreateContainer {}:{}: {}", p.podKey(), c.getName(), u);
        }
        mountsObserver.observed(p.podKey(), c.getName(), mounts.size() / 2, p.mounts().unprotected());
        if (LOG.isDebugEnabled()) { // reasons are long; `memwarden plan`/`explain` show them on demand
            LOG.debug("  reasons: {}", p.reasonsFor(cgroupVersion, cur));
        }
        return out.build();
    }

    /** The resources to set and, unless degraded, the oom_score_adj when it differs; null when nothing changes. */
    private static LinuxContainerAdjustment adjustment(Container c, Planned p, LinuxResources res) {
        LinuxContainerAdjustment.Builder linux = LinuxContainerAdjustment.newBuilder();
        boolean any = false;
        if (!PlanToNri.isEmpty(res)) {
            linux.setResources(res);
            any = true;
        }
        if (!p.degraded()) {
            int oom = p.plan().oomScoreAdj();
            boolean has = c.hasLinux() && c.getLinux().hasOomScoreAdj();
            if (!has || c.getLinux().getOomScoreAdj().getValue() != oom) {
                linux.setOomScoreAdj(OptionalInt.newBuilder().setValue(oom));
                any = true;
            }
        }
        return any ? linux.build() : null;
    }

    @Override
    public UpdateContainerResponse updateContainer(UpdateContainerRequest r) throws RpcException {
        registry.putPod(r.getPod());
        LinuxResources next = r.hasLinuxResources() ? r.getLinuxResources() : currentResources(r.getContainer());
        Container c = withResources(r.getContainer(), next);
        Planned p;
        try {
            p = planning.plan(r.getPod(), c, NriPodSource.limitOf(c), false);
        } catch (RpcException e) {
            LOG.warn("UpdateContainer {}/{}:{} refused: {}", r.getPod().getNamespace(), r.getPod().getName(),
                    c.getName(), e.getMessage());
            failures.report(r.getPod(), c, e.getMessage());
            throw e;
        }
        LinuxResources res = p.resources(cgroupVersion, next);
        registry.commit(null, withResources(c, PlanToNri.merge(next, res)), p);
        UpdateContainerResponse.Builder out = UpdateContainerResponse.newBuilder();
        if (!PlanToNri.isEmpty(res)) {
            out.addUpdate(ContainerUpdate.newBuilder().setContainerId(c.getId())
                    .setLinux(LinuxContainerUpdate.newBuilder().setResources(res)));
        }
        LOG.info("UpdateContainer {}:{} ({}): {}", p.podKey(), c.getName(), p.source(),
                PlanToNri.isEmpty(res) ? "no update" : "update " + oneLine(res));
        if (LOG.isDebugEnabled()) {
            LOG.debug("  reasons: {}", p.reasonsFor(cgroupVersion, next));
        }
        return out.build();
    }

    @Override
    public StopContainerResponse stopContainer(StopContainerRequest r) {
        registry.removeContainer(r.getContainer().getId());
        return StopContainerResponse.getDefaultInstance();
    }

    @Override
    public void removeContainer(RemoveContainerRequest r) {
        registry.removeContainer(r.getContainer().getId());
    }
}
