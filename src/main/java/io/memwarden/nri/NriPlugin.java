package io.memwarden.nri;

import static io.memwarden.nri.wire.WireFormat.PLUGIN_SERVICE;
import static io.memwarden.nri.wire.WireFormat.RUNTIME_SERVICE;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import io.memwarden.input.InputException;
import io.memwarden.input.WardenConfigReader;
import io.memwarden.input.YamlDocs;
import io.memwarden.model.ContainerSpec;
import io.memwarden.model.NodeFacts;
import io.memwarden.model.PodSpec;
import io.memwarden.model.QosClass;
import io.memwarden.model.Resources;
import io.memwarden.nri.api.ConfigureRequest;
import io.memwarden.nri.api.ConfigureResponse;
import io.memwarden.nri.api.Container;
import io.memwarden.nri.api.ContainerAdjustment;
import io.memwarden.nri.api.ContainerState;
import io.memwarden.nri.api.ContainerUpdate;
import io.memwarden.nri.api.CreateContainerRequest;
import io.memwarden.nri.api.CreateContainerResponse;
import io.memwarden.nri.api.Empty;
import io.memwarden.nri.api.Event;
import io.memwarden.nri.api.LinuxContainer;
import io.memwarden.nri.api.LinuxContainerAdjustment;
import io.memwarden.nri.api.LinuxContainerUpdate;
import io.memwarden.nri.api.LinuxResources;
import io.memwarden.nri.api.OptionalInt;
import io.memwarden.nri.api.PodSandbox;
import io.memwarden.nri.api.RegisterPluginRequest;
import io.memwarden.nri.api.RemoveContainerRequest;
import io.memwarden.nri.api.RemovePodSandboxRequest;
import io.memwarden.nri.api.RunPodSandboxRequest;
import io.memwarden.nri.api.StateChangeEvent;
import io.memwarden.nri.api.StopContainerRequest;
import io.memwarden.nri.api.StopContainerResponse;
import io.memwarden.nri.api.SynchronizeRequest;
import io.memwarden.nri.api.SynchronizeResponse;
import io.memwarden.nri.api.UpdateContainerRequest;
import io.memwarden.nri.api.UpdateContainerResponse;
import io.memwarden.nri.api.UpdateContainersRequest;
import io.memwarden.nri.api.UpdateContainersResponse;
import io.memwarden.nri.api.UpdatePodSandboxRequest;
import io.memwarden.nri.wire.MuxConnection;
import io.memwarden.nri.wire.RpcException;
import io.memwarden.nri.wire.StatusCode;
import io.memwarden.policy.KubeletSettings;
import io.memwarden.policy.Plan.ContainerPlan;
import io.memwarden.policy.Plan.PlanError;
import io.memwarden.policy.Planner;
import io.memwarden.policy.WardenConfig;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ByteChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * memwarden as an NRI plugin: registers with the runtime, answers its calls with adjustments computed by the policy
 * core, and pushes unsolicited updates when its config changes. Plugin lifecycle rules: nri-protocol.md §2.
 * <p>
 * Thread model: one {@link MuxConnection} per session (reader thread + one virtual thread per runtime call); state
 * shared between calls is in concurrent maps, and the multi-step Synchronize state is guarded by {@code this}.
 */
public final class NriPlugin implements MuxConnection.RequestHandler {
    private static final Logger LOG = LoggerFactory.getLogger(NriPlugin.class);
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.+-]+");
    private static final Pattern INDEX = Pattern.compile("[0-9]{2}");

    /**
     * @param name             the plugin name (non-empty {@code [A-Za-z0-9_.+-]})
     * @param index            exactly two digits
     * @param podSpecWait      how long a container whose pod spec has not arrived waits before the NRI-only
     *                         fallback (only for sources that may learn pods later); kept well under the 2 s
     *                         request timeout
     * @param registerTimeout  how long to wait for the RegisterPlugin reply
     */
    public record Options(String name, String index, Duration podSpecWait, Duration registerTimeout) {
        public static final Options DEFAULTS = new Options("memwarden", "50", Duration.ofMillis(500),
                Duration.ofSeconds(5));

        public Options {
            if (name == null || !NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("plugin name \"" + name + "\" must be non-empty [A-Za-z0-9_.+-]");
            }
            if (index == null || !INDEX.matcher(index).matches()) {
                throw new IllegalArgumentException("plugin index \"" + index + "\" must be exactly two digits");
            }
        }

        public Options withName(String n) {
            return new Options(n, index, podSpecWait, registerTimeout);
        }

        public Options withIndex(String i) {
            return new Options(name, i, podSpecWait, registerTimeout);
        }
    }

    private final Options options;
    private final NodeFacts node;
    private final KubeletSettings kubelet;
    private final PodSpecSource primary;
    private final NriPodSource fallback = new NriPodSource();
    private final NriRegistry registry = new NriRegistry();
    private final CountDownLatch stopLatch = new CountDownLatch(1);
    private final CountDownLatch firstSync = new CountDownLatch(1);
    private final AtomicInteger registrations = new AtomicInteger();
    private volatile WardenConfig baseConfig;
    private volatile Planner planner;
    private volatile MuxConnection conn;
    private volatile boolean stopping;
    private volatile Duration requestTimeout = Duration.ofSeconds(2);
    private boolean syncing;

    /**
     * @param config  memwarden's config from the command line; a non-empty Configure config replaces it
     * @param primary the pod-spec source consulted first, or null for NRI-only
     * @throws IllegalArgumentException when the kubelet config does not fit the node
     */
    public NriPlugin(Options options, NodeFacts node, KubeletSettings kubelet, WardenConfig config,
                     PodSpecSource primary) {
        this.options = options;
        this.node = node;
        this.kubelet = kubelet;
        this.primary = primary;
        this.baseConfig = config;
        this.planner = new Planner(node, kubelet, config);
    }

    // ---------------------------------------------------------------- connection lifecycle

    /**
     * Connects to the runtime's socket and serves it; on connection loss reconnects with backoff (0.5 s doubling to
     * 10 s, reset after a successful registration) and registers again (the runtime then synchronizes again).
     * Returns when {@link #stop()} is called.
     */
    public void runExternal(Path socket) throws InterruptedException {
        long backoffMillis = 500;
        while (!stopping) {
            int before = registrations.get();
            try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                ch.connect(UnixDomainSocketAddress.of(socket));
                LOG.info("connected to NRI socket {}", socket);
                String reason = runSession(ch);
                if (!stopping) {
                    LOG.warn("NRI connection lost: {}", reason);
                }
            } catch (IOException e) {
                LOG.warn("cannot connect to NRI socket {}: {}", socket, e.getMessage());
            }
            if (stopping) {
                break;
            }
            if (registrations.get() > before) {
                backoffMillis = 500;
            }
            LOG.info("reconnecting in {} ms", backoffMillis);
            if (stopLatch.await(backoffMillis, TimeUnit.MILLISECONDS)) {
                break;
            }
            backoffMillis = Math.min(backoffMillis * 2, 10_000);
        }
    }

    /**
     * Serves one connection (an external socket or a launched plugin's inherited one): registers, then answers
     * the runtime until the connection closes. Returns the reason it closed.
     */
    public String runSession(ByteChannel channel) throws InterruptedException {
        synchronized (this) {
            registry.clear();
            syncing = false;
        }
        MuxConnection c = new MuxConnection(channel, this);
        conn = c;
        c.start();
        if (stopping) {
            c.close("memwarden stopping");
        }
        RegisterPluginRequest reg = RegisterPluginRequest.newBuilder().setPluginName(options.name())
                .setPluginIdx(options.index()).build();
        try {
            c.call(RUNTIME_SERVICE, "RegisterPlugin", reg.toByteArray(), options.registerTimeout())
                    .get(options.registerTimeout().toMillis() + 100, TimeUnit.MILLISECONDS);
            registrations.incrementAndGet();
            LOG.info("registered as NRI plugin {}-{}", options.index(), options.name());
        } catch (ExecutionException | TimeoutException e) {
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            if (cause instanceof TimeoutException) {
                c.close("no RegisterPlugin reply within " + options.registerTimeout().toMillis() + " ms");
            } else {
                c.close("registration failed: " + cause.getMessage());
            }
        }
        try {
            return c.closed().get();
        } catch (ExecutionException e) {
            return String.valueOf(e.getCause());
        }
    }

    /** Stops serving: closes the connection and ends {@link #runExternal}. */
    public void stop() {
        stopping = true;
        stopLatch.countDown();
        MuxConnection c = conn;
        if (c != null) {
            c.close("memwarden stopping");
        }
    }

    /**
     * A container the runtime created and memwarden planned, as the node agent's control loops and status see it.
     *
     * @param cgroupsPath the runtime's cgroups path (cgroupfs: a path; systemd: {@code slice:prefix:name})
     * @param degraded    planned from NRI data alone (the pod spec was not known)
     * @param source      where the pod spec came from
     */
    public record ManagedContainer(String id, String namespace, String pod, String podUid, String name,
                                   String cgroupsPath, PodSpec spec, io.memwarden.policy.Plan.PodPlan podPlan,
                                   ContainerPlan plan, boolean degraded, String source) {
        public String podKey() {
            return namespace + "/" + pod;
        }
    }

    /** The created or running containers memwarden has a plan for, in this session. */
    public List<ManagedContainer> managed() {
        List<ManagedContainer> out = new ArrayList<>();
        for (Container c : registry.containers()) {
            if (c.getState() != ContainerState.CONTAINER_CREATED && c.getState() != ContainerState.CONTAINER_RUNNING
                    && c.getState() != ContainerState.CONTAINER_UNKNOWN) {
                continue;
            }
            Planned p = registry.plan(c.getId());
            PodSandbox pod = registry.pod(c.getPodSandboxId());
            if (p == null || pod == null) {
                continue;
            }
            String path = c.hasLinux() ? c.getLinux().getCgroupsPath() : "";
            String[] key = p.podKey().split("/", 2);
            ContainerPlan cp = p.plan();
            // the reasons as the runtime call gave them: where the spec came from, degraded-mode notes, then policy's
            List<String> reasons = new ArrayList<>();
            reasons.add("pod spec from " + p.source() + (p.degraded() ? " (degraded: NRI data only)" : ""));
            reasons.addAll(p.reasons());
            ContainerPlan withNotes = new ContainerPlan(cp.name(), cp.init(), cp.swapBehavior(), cp.oomScoreAdj(),
                    cp.cgroup(), reasons);
            out.add(new ManagedContainer(c.getId(), key[0], key.length > 1 ? key[1] : "", pod.getUid(), c.getName(),
                    path, p.spec(), p.podPlan(), withNotes, p.degraded(), p.source()));
        }
        out.sort(java.util.Comparator.comparing(ManagedContainer::namespace).thenComparing(ManagedContainer::pod)
                .thenComparing(ManagedContainer::name));
        return out;
    }

    /** Told of every runtime call the plugin answered: its method, how long the answer took, and whether it failed. */
    @FunctionalInterface
    public interface RequestObserver {
        void answered(String method, long nanos, boolean failed);
    }

    /** How often a reload re-plans a container that runtime calls keep replacing meanwhile. */
    private static final int COMMIT_ATTEMPTS = 3;
    private static final String POD_NOT_FOUND = "pod ";

    private volatile RequestObserver requestObserver = (m, n, f) -> { };

    /** Told of every container the plugin could not plan (its pod's error); the agent turns it into a pod event. */
    @FunctionalInterface
    public interface PlanFailureObserver {
        void failed(String namespace, String pod, String podUid, String container, String message);
    }

    private static final String INTERNAL = "an internal error of memwarden (see its log)";
    private volatile PlanFailureObserver planFailureObserver = (ns, p, uid, c, m) -> { };

    public NriPlugin onPlanFailure(PlanFailureObserver o) {
        this.planFailureObserver = o;
        return this;
    }

    private void planFailed(PodSandbox pod, Container c, String message) {
        try {
            planFailureObserver.failed(pod.getNamespace(), pod.getName(), pod.getUid(), c.getName(), message);
        } catch (RuntimeException e) {
            LOG.warn("reporting the plan failure of {}/{}:{} failed", pod.getNamespace(), pod.getName(), c.getName(), e);
        }
    }

    public NriPlugin onRequest(RequestObserver o) {
        this.requestObserver = o;
        return this;
    }

    /** Whether a runtime connection is open and registered. */
    public boolean connected() {
        MuxConnection c = conn;
        return c != null && c.isOpen() && registrations.get() > 0;
    }

    /**
     * Waits until the runtime has synchronized the plugin once (the end of its first registration), at most
     * {@code timeout}; returns whether it has.
     */
    public boolean awaitFirstSync(Duration timeout) throws InterruptedException {
        return firstSync.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** How many times the plugin registered (tests, status). */
    public int registrations() {
        return registrations.get();
    }

    // ---------------------------------------------------------------- unsolicited updates

    /**
     * Replaces the config (e.g. a reloaded file), re-plans every known container and sends the changes to the
     * runtime with UpdateContainers. Completes with the updates the runtime reports as failed.
     */
    public CompletableFuture<List<ContainerUpdate>> reconfigure(WardenConfig config) {
        Planner p;
        try {
            p = new Planner(node, kubelet, config);
        } catch (IllegalArgumentException e) {
            return CompletableFuture.failedFuture(e);
        }
        baseConfig = config;
        planner = p;
        List<ContainerUpdate> updates = replanAll(false);
        if (!updates.isEmpty()) {
            LOG.info("config changed: sending {} container update(s)", updates.size());
        }
        return send(updates);
    }

    /** Whether some container was planned from NRI data alone because its pod spec was not known yet. */
    public boolean hasDegraded() {
        return primary != null && registry.containers().stream().map(c -> registry.plan(c.getId()))
                .anyMatch(p -> p != null && p.degraded());
    }

    /**
     * Plans again the containers planned from NRI data alone whose pod the pod-spec source now knows (e.g. the
     * Kubernetes API's cache filled after the runtime synchronized), and sends the changes to the runtime with
     * UpdateContainers. Completes with the updates the runtime reports as failed.
     */
    public CompletableFuture<List<ContainerUpdate>> refreshDegraded() {
        if (primary == null) {
            return CompletableFuture.completedFuture(List.of());
        }
        List<ContainerUpdate> out = new ArrayList<>();
        for (Container c : registry.containers()) {
            Planned old = registry.plan(c.getId());
            PodSandbox pod = registry.pod(c.getPodSandboxId());
            if (old == null || !old.degraded() || pod == null
                    || primary.lookup(new PodQuery(pod, registry.containersOf(pod.getId(), c), c)).isEmpty()) {
                continue;
            }
            try {
                Planned p = plan(pod, c, null, false);
                if (p.degraded()) {
                    continue;
                }
                LinuxResources cur = currentResources(c);
                LinuxResources res = p.resources(node.cgroupVersion(), cur);
                if (!registry.commit(c, withResources(c, PlanToNri.merge(cur, res)), p)) {
                    continue; // a runtime call replaced it meanwhile (and planned it); the next round looks again
                }
                LOG.info("{}:{}: pod spec from {} arrived: planned again, {}", p.podKey(), c.getName(), p.source(),
                        PlanToNri.isEmpty(res) ? "no change" : "update " + oneLine(res));
                if (!PlanToNri.isEmpty(res)) {
                    out.add(ContainerUpdate.newBuilder().setContainerId(c.getId())
                            .setLinux(LinuxContainerUpdate.newBuilder().setResources(res)).setIgnoreFailure(true)
                            .build());
                }
            } catch (RpcException e) {
                LOG.warn("{}/{}:{}: its pod spec arrived but does not plan: {}", pod.getNamespace(), pod.getName(),
                        c.getName(), e.getMessage());
                planFailed(pod, c, e.getMessage());
            } catch (RuntimeException e) {
                LOG.error("{}/{}:{}: its pod spec arrived but does not plan (internal error)", pod.getNamespace(),
                        pod.getName(), c.getName(), e);
                planFailed(pod, c, INTERNAL);
            }
        }
        return send(out);
    }

    private CompletableFuture<List<ContainerUpdate>> send(List<ContainerUpdate> updates) {
        MuxConnection c = conn;
        if (updates.isEmpty()) {
            return CompletableFuture.completedFuture(List.of());
        }
        if (c == null || !c.isOpen()) {
            return CompletableFuture.failedFuture(new IOException("not connected to the runtime"));
        }
        byte[] req = UpdateContainersRequest.newBuilder().addAllUpdate(updates).build().toByteArray();
        return c.call(RUNTIME_SERVICE, "UpdateContainers", req, requestTimeout).thenApply(bytes -> {
            try {
                return UpdateContainersResponse.parseFrom(bytes).getFailedList();
            } catch (InvalidProtocolBufferException e) {
                throw new IllegalStateException("undecodable UpdateContainers response: " + e.getMessage(), e);
            }
        });
    }

    // ---------------------------------------------------------------- runtime → plugin calls

    @Override
    public byte[] handle(String service, String method, byte[] payload) throws RpcException {
        long start = System.nanoTime();
        boolean failed = true;
        try {
            byte[] out = dispatch(service, method, payload);
            failed = false;
            return out;
        } finally {
            try {
                requestObserver.answered(method, System.nanoTime() - start, failed);
            } catch (RuntimeException ignored) {
                // metrics never fail a runtime call
            }
        }
    }

    private byte[] dispatch(String service, String method, byte[] payload) throws RpcException {
        if (!service.equals(PLUGIN_SERVICE)) {
            throw new RpcException(StatusCode.UNIMPLEMENTED, "unknown service " + service);
        }
        try {
            MessageLite out = switch (method) {
                case "Configure" -> configure(ConfigureRequest.parseFrom(payload));
                case "Synchronize" -> synchronize(SynchronizeRequest.parseFrom(payload));
                case "CreateContainer" -> createContainer(CreateContainerRequest.parseFrom(payload));
                case "UpdateContainer" -> updateContainer(UpdateContainerRequest.parseFrom(payload));
                case "StopContainer" -> stopContainer(StopContainerRequest.parseFrom(payload));
                case "StateChange" -> stateChange(StateChangeEvent.parseFrom(payload));
                case "UpdatePodSandbox" -> {
                    UpdatePodSandboxRequest r = UpdatePodSandboxRequest.parseFrom(payload);
                    registry.putPod(r.getPod());
                    yield io.memwarden.nri.api.UpdatePodSandboxResponse.getDefaultInstance();
                }
                case "RunPodSandbox" -> {
                    registry.putPod(RunPodSandboxRequest.parseFrom(payload).getPod());
                    yield io.memwarden.nri.api.RunPodSandboxResponse.getDefaultInstance();
                }
                case "RemovePodSandbox" -> {
                    registry.removePod(RemovePodSandboxRequest.parseFrom(payload).getPod().getId());
                    yield io.memwarden.nri.api.RemovePodSandboxResponse.getDefaultInstance();
                }
                case "RemoveContainer" -> {
                    registry.removeContainer(RemoveContainerRequest.parseFrom(payload).getContainer().getId());
                    yield io.memwarden.nri.api.RemoveContainerResponse.getDefaultInstance();
                }
                // subscribed to nothing that sends these, but a runtime may: answer with their empty responses
                case "StopPodSandbox" -> io.memwarden.nri.api.StopPodSandboxResponse.getDefaultInstance();
                case "PostUpdatePodSandbox" -> io.memwarden.nri.api.PostUpdatePodSandboxResponse.getDefaultInstance();
                case "PostCreateContainer" -> io.memwarden.nri.api.PostCreateContainerResponse.getDefaultInstance();
                case "StartContainer" -> io.memwarden.nri.api.StartContainerResponse.getDefaultInstance();
                case "PostStartContainer" -> io.memwarden.nri.api.PostStartContainerResponse.getDefaultInstance();
                case "PostUpdateContainer" -> io.memwarden.nri.api.PostUpdateContainerResponse.getDefaultInstance();
                case "Shutdown" -> {
                    LOG.info("runtime asked the plugin to shut down");
                    Thread.ofVirtual().start(() -> {
                        try {
                            Thread.sleep(100); // let the reply go out first
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        stop();
                    });
                    yield Empty.getDefaultInstance();
                }
                default -> throw new RpcException(StatusCode.UNIMPLEMENTED, "method " + method + " not implemented");
            };
            return out.toByteArray();
        } catch (InvalidProtocolBufferException e) {
            throw new RpcException(StatusCode.INVALID_ARGUMENT, "cannot decode " + method + " request: "
                    + e.getMessage());
        } catch (RuntimeException e) {
            // a bug must not surface as Java text on the runtime's side, nor end the connection: this call fails alone
            LOG.error("{} failed (internal error)", method, e);
            throw new RpcException(StatusCode.INTERNAL, "memwarden: " + method + " failed: " + INTERNAL);
        }
    }

    private ConfigureResponse configure(ConfigureRequest r) throws RpcException {
        LOG.info("Configure from runtime {} {} (NRI {}), registration timeout {} ms, request timeout {} ms",
                r.getRuntimeName(), r.getRuntimeVersion(), r.getNriVersion().isEmpty() ? "unknown" : r.getNriVersion(),
                r.getRegistrationTimeout(), r.getRequestTimeout());
        if (r.getRequestTimeout() > 0) {
            requestTimeout = Duration.ofMillis(r.getRequestTimeout());
        }
        if (!r.getConfig().isBlank()) {
            try {
                String name = "NRI plugin config";
                List<tools.jackson.databind.JsonNode> docs = YamlDocs.readAll(name, r.getConfig());
                if (docs.size() != 1 || !docs.getFirst().isObject()) {
                    throw new InputException(name + ": expected one YAML mapping");
                }
                WardenConfig cfg = WardenConfigReader.parse(name, docs.getFirst());
                planner = new Planner(node, kubelet, cfg);
                baseConfig = cfg;
                LOG.info("using the config passed by the runtime");
            } catch (InputException | IllegalArgumentException e) {
                throw new RpcException(StatusCode.UNKNOWN, e.getMessage());
            }
        }
        Set<Event> events = NriEvents.subscribed(r);
        int mask = NriEvents.mask(events);
        LOG.info("subscribing to {} (mask 0x{})", events, Integer.toHexString(mask));
        return ConfigureResponse.newBuilder().setEvents(mask).build();
    }

    private synchronized SynchronizeResponse synchronize(SynchronizeRequest r) {
        if (!syncing) {
            registry.clear();
            syncing = true;
        }
        r.getPodsList().forEach(registry::putPod);
        r.getContainersList().forEach(registry::putContainer);
        if (r.getMore()) {
            LOG.debug("Synchronize chunk: {} pods, {} containers, more to come", r.getPodsCount(),
                    r.getContainersCount());
            return SynchronizeResponse.newBuilder().setMore(true).build();
        }
        syncing = false;
        List<ContainerUpdate> updates = replanAll(true);
        LOG.info("synchronized: {} pods, {} containers, {} update(s)", registry.podCount(), registry.containerCount(),
                updates.size());
        firstSync.countDown();
        return SynchronizeResponse.newBuilder().addAllUpdate(updates).build();
    }

    /** Re-plans every created or running container (no waiting for pod specs); returns the changes. */
    private List<ContainerUpdate> replanAll(boolean sync) {
        List<ContainerUpdate> out = new ArrayList<>();
        Map<String, PodPass> pass = new HashMap<>();
        for (Container snapshot : registry.containers()) {
            // a runtime call that replaces the container meanwhile wins; it is planned again from its new state
            for (int attempt = 0; attempt < COMMIT_ATTEMPTS; attempt++) {
                Container c = attempt == 0 ? snapshot : registry.container(snapshot.getId());
                if (c == null || c.getState() != ContainerState.CONTAINER_CREATED
                        && c.getState() != ContainerState.CONTAINER_RUNNING) {
                    break;
                }
                PodSandbox pod = registry.pod(c.getPodSandboxId());
                if (pod == null) {
                    break;
                }
                try {
                    Planned p = plan(pod, c, null, false, attempt == 0 ? pass : null);
                    LinuxResources cur = currentResources(c);
                    LinuxResources res = p.resources(node.cgroupVersion(), cur);
                    boolean change = !PlanToNri.isEmpty(res);
                    if (!registry.commit(c, change ? withResources(c, PlanToNri.merge(cur, res)) : c, p)) {
                        continue;
                    }
                    if (change) {
                        out.add(ContainerUpdate.newBuilder().setContainerId(c.getId())
                                .setLinux(LinuxContainerUpdate.newBuilder().setResources(res)).setIgnoreFailure(true)
                                .build());
                        LOG.debug("{} {}:{} ({}): update {}", sync ? "Synchronize" : "reconfigure", p.podKey(),
                                c.getName(), p.source(), oneLine(res));
                    }
                } catch (RpcException e) {
                    // this container only: the others are still planned and the Synchronize answers for them
                    LOG.warn("{} {}/{}:{}: not planned: {}", sync ? "Synchronize" : "reconfigure", pod.getNamespace(),
                            pod.getName(), c.getName(), e.getMessage());
                    planFailed(pod, c, e.getMessage());
                } catch (RuntimeException e) {
                    LOG.error("{} {}/{}:{}: not planned (internal error)", sync ? "Synchronize" : "reconfigure",
                            pod.getNamespace(), pod.getName(), c.getName(), e);
                    planFailed(pod, c, INTERNAL);
                }
                break;
            }
        }
        return out;
    }

    private CreateContainerResponse createContainer(CreateContainerRequest r) throws RpcException {
        registry.putPod(r.getPod());
        Container c = r.getContainer();
        Planned p;
        try {
            p = plan(r.getPod(), c, null, true);
        } catch (RpcException e) {
            LOG.warn("CreateContainer {}/{}:{} refused: {}", r.getPod().getNamespace(), r.getPod().getName(),
                    c.getName(), e.getMessage());
            registry.putContainer(c);
            planFailed(r.getPod(), c, e.getMessage());
            throw e;
        }
        LinuxResources cur = currentResources(c);
        LinuxResources res = p.resources(node.cgroupVersion(), cur);
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
        registry.commit(null, withResources(c, PlanToNri.merge(cur, res)), p);
        CreateContainerResponse.Builder out = CreateContainerResponse.newBuilder();
        if (any) {
            out.setAdjust(ContainerAdjustment.newBuilder().setLinux(linux));
        }
        LOG.info("CreateContainer {}:{} ({}): {}", p.podKey(), c.getName(), p.source(),
                any ? "adjust " + oneLine(linux.build()) : "no adjustment");
        if (LOG.isDebugEnabled()) { // reasons are long; `memwarden plan`/`explain` show them on demand
            LOG.debug("  reasons: {}", p.reasonsFor(node.cgroupVersion(), cur));
        }
        return out.build();
    }

    private UpdateContainerResponse updateContainer(UpdateContainerRequest r) throws RpcException {
        registry.putPod(r.getPod());
        LinuxResources next = r.hasLinuxResources() ? r.getLinuxResources() : currentResources(r.getContainer());
        Container c = withResources(r.getContainer(), next);
        Long newLimit = NriPodSource.limitOf(c);
        Planned p;
        try {
            p = plan(r.getPod(), c, newLimit, false);
        } catch (RpcException e) {
            LOG.warn("UpdateContainer {}/{}:{} refused: {}", r.getPod().getNamespace(), r.getPod().getName(),
                    c.getName(), e.getMessage());
            planFailed(r.getPod(), c, e.getMessage());
            throw e;
        }
        LinuxResources res = p.resources(node.cgroupVersion(), next);
        registry.commit(null, withResources(c, PlanToNri.merge(next, res)), p);
        UpdateContainerResponse.Builder out = UpdateContainerResponse.newBuilder();
        if (!PlanToNri.isEmpty(res)) {
            out.addUpdate(ContainerUpdate.newBuilder().setContainerId(c.getId())
                    .setLinux(LinuxContainerUpdate.newBuilder().setResources(res)));
        }
        LOG.info("UpdateContainer {}:{} ({}): {}", p.podKey(), c.getName(), p.source(),
                PlanToNri.isEmpty(res) ? "no update" : "update " + oneLine(res));
        if (LOG.isDebugEnabled()) {
            LOG.debug("  reasons: {}", p.reasonsFor(node.cgroupVersion(), next));
        }
        return out.build();
    }

    private StopContainerResponse stopContainer(StopContainerRequest r) {
        registry.removeContainer(r.getContainer().getId());
        return StopContainerResponse.getDefaultInstance();
    }

    private Empty stateChange(StateChangeEvent e) {
        switch (e.getEvent()) {
            case RUN_POD_SANDBOX, UPDATE_POD_SANDBOX -> registry.putPod(e.getPod());
            case REMOVE_POD_SANDBOX -> registry.removePod(e.getPod().getId());
            case STOP_CONTAINER, REMOVE_CONTAINER -> registry.removeContainer(e.getContainer().getId());
            default -> LOG.debug("StateChange {} ignored", e.getEvent());
        }
        return Empty.getDefaultInstance();
    }

    // ---------------------------------------------------------------- planning

    /** A container's plan and its provenance. */
    /**
     * @param requestDependent in degraded mode (Burstable, requests unknown): the planned files whose value depends
     *                         on the unknown request; a value the container already has for them (the kubelet's,
     *                         computed with the real request) is kept
     */
    record Planned(ContainerPlan plan, io.memwarden.policy.Plan.PodPlan podPlan, PodSpec spec, String podKey, String source, boolean degraded,
                   Set<String> requestDependent, List<String> reasons) {
        LinuxResources resources(io.memwarden.model.CgroupVersion v, LinuxResources current) {
            return PlanToNri.resources(v, plan, current, requestDependent);
        }

        List<String> reasonsFor(io.memwarden.model.CgroupVersion v, LinuxResources current) {
            List<String> r = new ArrayList<>(reasons);
            r.addAll(PlanToNri.kept(v, plan, current, requestDependent));
            return r;
        }
    }

    /**
     * Plans {@code c} of {@code pod}.
     *
     * @param newLimit a resized memory limit from the runtime (UpdateContainer), applied over a manifest's
     * @param mayWait  wait (bounded) for a source that may learn the pod shortly
     * @throws RpcException (Unknown) with the policy's error text when the container cannot be planned
     */
    Planned plan(PodSandbox pod, Container c, Long newLimit, boolean mayWait) throws RpcException {
        return plan(pod, c, newLimit, mayWait, null);
    }

    /** A pod resolved and planned once for every container of a pass over the registry. */
    private record PodPass(ResolvedPod resolved, Planner.PodOutcome outcome) {}

    /**
     * @param pass when not null, a pass over the registry's stored containers (Synchronize, reload): the pod's spec
     *             and plan are the same for each of its containers, so they are made once per pod, not once per
     *             container (a pod of n containers costs n container plans, not n²)
     */
    private Planned plan(PodSandbox pod, Container c, Long newLimit, boolean mayWait, Map<String, PodPass> pass)
            throws RpcException {
        PodPass known = pass == null || newLimit != null ? null : pass.get(pod.getId());
        ResolvedPod rp;
        boolean perPod = false;
        if (known != null) {
            rp = known.resolved();
        } else {
            PodQuery q = new PodQuery(pod, registry.containersOf(pod.getId(), c), c);
            rp = resolve(q, mayWait);
            // the same for each container of the pod unless the source has the pod but not this container
            perPod = !rp.degraded() || primary == null || !rp.notes().isEmpty()
                    && rp.notes().getFirst().startsWith(POD_NOT_FOUND);
        }
        PodSpec spec = rp.spec();
        List<String> notes = new ArrayList<>(rp.notes());
        if (newLimit != null && !rp.degraded()) {
            spec = withLimit(spec, c.getName(), newLimit);
            notes.add("memory limit " + newLimit + " from the runtime's update (in-place resize) replaces "
                    + rp.source() + "'s");
        }
        Planner.PodOutcome outcome = known != null ? known.outcome() : planner.planPod(spec);
        if (pass != null && known == null && newLimit == null && perPod) {
            pass.put(pod.getId(), new PodPass(rp, outcome));
        }
        List<String> errors = new ArrayList<>();
        for (PlanError e : outcome.errors()) {
            if (e.container() == null || e.container().equals(c.getName())) {
                errors.add(e.message());
            }
        }
        if (!errors.isEmpty()) {
            throw new RpcException(StatusCode.UNKNOWN, String.join("; ", errors));
        }
        if (outcome.plan() != null) {
            for (ContainerPlan cp : outcome.plan().containers()) {
                if (cp.name().equals(c.getName())) {
                    List<String> reasons = new ArrayList<>(notes);
                    reasons.addAll(cp.reasons());
                    Set<String> dependent = rp.degraded() && spec.statusQosClass() == QosClass.BURSTABLE
                            ? requestDependentFiles(spec, c.getName(), cp) : Set.of();
                    return new Planned(cp, outcome.plan(), spec, spec.key(), rp.source(), rp.degraded(), dependent, reasons);
                }
            }
        }
        throw new RpcException(StatusCode.UNKNOWN, "no plan for container " + c.getName() + " of pod " + spec.key());
    }

    /**
     * The files of {@code cp} that change when the container's unknown memory request changes: plans the pod again
     * with other explicit requests for the container (none, and half its limit) and compares.
     */
    private Set<String> requestDependentFiles(PodSpec spec, String container, ContainerPlan cp) {
        Set<String> out = new java.util.HashSet<>();
        ContainerSpec mine = spec.containers().stream().filter(c -> c.name().equals(container)).findFirst().orElseThrow();
        Long limit = mine.resources().memoryLimit();
        long half = limit != null && limit > 1 ? limit / 2 : 256L << 20;
        for (long request : new long[] {0, half}) {
            List<ContainerSpec> cs = new ArrayList<>();
            for (ContainerSpec c : spec.containers()) {
                Resources r = c.resources();
                cs.add(c.name().equals(container) ? new ContainerSpec(c.name(), c.kind(), new Resources(r.cpuRequest(),
                        r.cpuLimit(), request, r.memoryLimit()), c.command()) : c);
            }
            PodSpec variant = new PodSpec(spec.namespace(), spec.name(), spec.uid(), spec.annotations(),
                    spec.priority(), spec.priorityClassName(), spec.statusQosClass(), spec.overheadMemory(),
                    spec.podResources(), cs);
            Planner.PodOutcome o = planner.planPod(variant);
            ContainerPlan other = o.plan() == null ? null : o.plan().containers().stream()
                    .filter(x -> x.name().equals(container)).findFirst().orElse(null);
            for (var e : cp.cgroup().entrySet()) {
                if (other == null || !e.getValue().equals(other.cgroup().get(e.getKey()))) {
                    out.add(e.getKey());
                }
            }
        }
        return out;
    }

    private ResolvedPod resolve(PodQuery q, boolean mayWait) {
        String missing = null;
        if (primary != null) {
            Optional<ResolvedPod> r = primary.lookup(q);
            if (r.isEmpty() && mayWait && primary.mayArriveLater()) {
                long wait = Math.min(options.podSpecWait().toMillis(), requestTimeout.toMillis() / 2);
                long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(wait);
                while (r.isEmpty() && System.nanoTime() < deadline) {
                    try {
                        Thread.sleep(20);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        break;
                    }
                    r = primary.lookup(q);
                }
            }
            if (r.isPresent()) {
                boolean hasContainer = r.get().spec().containers().stream()
                        .anyMatch(cs -> cs.name().equals(q.container().getName()));
                if (hasContainer) {
                    return r.get();
                }
                missing = "container " + q.container().getName() + " is not in " + primary.describe() + "'s pod "
                        + q.key();
            } else {
                missing = POD_NOT_FOUND + q.key() + " not found in " + primary.describe();
            }
        }
        ResolvedPod fb = fallback.lookup(q).orElseThrow();
        if (missing == null) {
            return fb;
        }
        List<String> notes = new ArrayList<>();
        notes.add(missing);
        notes.addAll(fb.notes());
        return new ResolvedPod(fb.spec(), fb.source(), true, notes);
    }

    private static PodSpec withLimit(PodSpec spec, String container, long limit) {
        List<ContainerSpec> cs = new ArrayList<>();
        for (ContainerSpec c : spec.containers()) {
            if (c.name().equals(container)) {
                Resources r = c.resources();
                Long req = r.memoryRequest() != null && r.memoryRequest() > limit ? Long.valueOf(limit) : r.memoryRequest();
                cs.add(new ContainerSpec(c.name(), c.kind(), new Resources(r.cpuRequest(), r.cpuLimit(), req, limit),
                        c.command()));
            } else {
                cs.add(c);
            }
        }
        return new PodSpec(spec.namespace(), spec.name(), spec.uid(), spec.annotations(), spec.priority(),
                spec.priorityClassName(), spec.statusQosClass(), spec.overheadMemory(), spec.podResources(), cs);
    }

    private static LinuxResources currentResources(Container c) {
        return c.hasLinux() && c.getLinux().hasResources() ? c.getLinux().getResources()
                : LinuxResources.getDefaultInstance();
    }

    private static Container withResources(Container c, LinuxResources r) {
        LinuxContainer.Builder l = c.hasLinux() ? c.getLinux().toBuilder() : LinuxContainer.newBuilder();
        return c.toBuilder().setLinux(l.setResources(r)).build();
    }

    private static String oneLine(com.google.protobuf.MessageOrBuilder m) {
        return com.google.protobuf.TextFormat.printer().emittingSingleLine(true).printToString(m).strip();
    }
}
