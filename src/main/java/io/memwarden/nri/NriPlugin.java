package io.memwarden.nri;

import io.memwarden.model.Clock;
import io.memwarden.model.NodeFacts;
import io.memwarden.model.PodSpec;
import io.memwarden.nri.api.ContainerUpdate;
import io.memwarden.nri.wire.MuxConnection;
import io.memwarden.nri.wire.RpcException;
import io.memwarden.policy.KubeletSettings;
import io.memwarden.policy.Plan.ContainerPlan;
import io.memwarden.policy.Plan.PodPlan;
import io.memwarden.policy.WardenConfig;
import java.nio.channels.ByteChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * memwarden as an NRI plugin: registers with the runtime, answers its calls with adjustments computed by the policy
 * core, and pushes unsolicited updates when its config changes. Plugin lifecycle rules: nri-protocol.md §2.
 * <p>
 * The pieces: {@link NriStub} (connection, registration, subscription, dispatch to typed handlers, reconnect),
 * {@link WardenPlugin} (memwarden's typed handlers), {@link ContainerPlanning} (one container's plan, with the pod
 * spec from {@link PodResolver}), {@link RegistryPasses} (passes over every known container) and
 * {@link NriRegistry} (what the runtime told us in this session). This class wires them and is the room's API.
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

    /**
     * A container the runtime created and memwarden planned, as the node agent's control loops and status see it.
     *
     * @param cgroupsPath the runtime's cgroups path (cgroupfs: a path; systemd: {@code slice:prefix:name})
     * @param degraded    planned from NRI data alone (the pod spec was not known)
     * @param source      where the pod spec came from
     */
    public record ManagedContainer(String id, String namespace, String pod, String podUid, String name,
                                   String cgroupsPath, PodSpec spec, PodPlan podPlan,
                                   ContainerPlan plan, boolean degraded, String source) {
        public String podKey() {
            return namespace + "/" + pod;
        }
    }

    /** Told of every runtime call the plugin answered: its method, how long the answer took, and whether it failed. */
    @FunctionalInterface
    public interface RequestObserver {
        void answered(String method, long nanos, boolean failed);
    }

    /**
     * Told of each created container's memory-backed mounts: how many tmpfs mounts it got mounted {@code noswap}, and
     * each one left swappable, with why ({@link MemoryBackedVolumes}).
     */
    @FunctionalInterface
    public interface MountObserver {
        void observed(String podKey, String container, int noswapped, List<String> unprotected);
    }

    /** Told of every container the plugin could not plan (its pod's error); the agent turns it into a pod event. */
    @FunctionalInterface
    public interface PlanFailureObserver {
        void failed(String namespace, String pod, String podUid, String container, String message);
    }

    private final NriStub stub;
    private final ContainerPlanning planning;
    private final RegistryPasses passes;
    private final PlanFailures failures = new PlanFailures();
    private final WardenPlugin handlers;

    /**
     * @param config  memwarden's config from the command line; a non-empty Configure config replaces it
     * @param primary the pod-spec source consulted first, or null for NRI-only
     * @throws IllegalArgumentException when the kubelet config does not fit the node
     */
    public NriPlugin(Options options, NodeFacts node, KubeletSettings kubelet, WardenConfig config,
                     PodSpecSource primary) {
        NriRegistry registry = new NriRegistry();
        PodResolver resolver = new PodResolver(primary, Clock.SYSTEM, options.podSpecWait(), this::requestTimeout);
        this.planning = new ContainerPlanning(node, kubelet, config, registry, resolver);
        this.passes = new RegistryPasses(node.cgroupVersion(), registry, planning, resolver, failures);
        this.handlers = new WardenPlugin(node.cgroupVersion(), registry, planning, passes, failures);
        this.stub = new NriStub(options, handlers);
    }

    private Duration requestTimeout() {
        return stub.requestTimeout();
    }

    // ---------------------------------------------------------------- connection lifecycle (the stub's)

    /**
     * Connects to the runtime's socket and serves it; on connection loss reconnects with backoff (0.5 s doubling to
     * 10 s, reset after a successful registration) and registers again (the runtime then synchronizes again).
     * Returns when {@link #stop()} is called.
     */
    public void runExternal(Path socket) throws InterruptedException {
        stub.runExternal(socket);
    }

    /**
     * Serves one connection (an external socket or a launched plugin's inherited one): registers, then answers
     * the runtime until the connection closes. Returns the reason it closed.
     */
    public String runSession(ByteChannel channel) throws InterruptedException {
        return stub.runSession(channel);
    }

    /** The clock that times a Synchronize against the runtime's request timeout (tests). */
    void useClock(Clock c) {
        stub.useClock(c);
    }

    /** Stops serving: closes the connection and ends {@link #runExternal}. */
    public void stop() {
        stub.stop();
    }

    /** Answers one runtime call (the stub's dispatch; the mux calls it, and tests drive it directly). */
    @Override
    public byte[] handle(String service, String method, byte[] payload) throws RpcException {
        return stub.handle(service, method, payload);
    }

    public NriPlugin onRequest(RequestObserver o) {
        stub.onRequest(o);
        return this;
    }

    /**
     * What the node offers for memory-backed volumes (default {@link MemoryBackedVolumes#NOT_DETECTED}): with tmpfs
     * {@code noswap} support, the tmpfs mounts of containers that may swap are mounted noswap; without, reported.
     */
    public NriPlugin memoryBackedVolumes(MemoryBackedVolumes v) {
        planning.useVolumes(v);
        return this;
    }

    public NriPlugin onMounts(MountObserver o) {
        handlers.observeMounts(o);
        return this;
    }

    public NriPlugin onPlanFailure(PlanFailureObserver o) {
        failures.observe(o);
        return this;
    }

    /** Whether a runtime connection is open and registered. */
    public boolean connected() {
        return stub.connected();
    }

    /**
     * Waits until the runtime has synchronized the plugin once (the end of its first registration), at most
     * {@code timeout}; returns whether it has.
     */
    public boolean awaitFirstSync(Duration timeout) throws InterruptedException {
        return stub.awaitFirstSync(timeout);
    }

    /** How many times the plugin registered (tests, status). */
    public int registrations() {
        return stub.registrations();
    }

    // ---------------------------------------------------------------- the registry, seen from outside

    /** The created or running containers memwarden has a plan for, in this session. */
    public List<ManagedContainer> managed() {
        return passes.managed();
    }

    /**
     * Replaces the config (e.g. a reloaded file), re-plans every known container and sends the changes to the
     * runtime with UpdateContainers. Completes with the updates the runtime reports as failed.
     */
    public CompletableFuture<List<ContainerUpdate>> reconfigure(WardenConfig config) {
        try {
            planning.usePolicy(config);
        } catch (IllegalArgumentException e) {
            return CompletableFuture.failedFuture(e);
        }
        List<ContainerUpdate> updates = passes.replanAll("reconfigure");
        if (!updates.isEmpty()) {
            LOG.info("config changed: sending {} container update(s)", updates.size());
        }
        return stub.updateContainers(updates);
    }

    /** Whether some container was planned from NRI data alone because its pod spec was not known yet. */
    public boolean hasDegraded() {
        return passes.hasDegraded();
    }

    /**
     * Plans again the containers planned from NRI data alone whose pod the pod-spec source now knows (e.g. the
     * Kubernetes API's cache filled after the runtime synchronized), and sends the changes to the runtime with
     * UpdateContainers. Completes with the updates the runtime reports as failed.
     */
    public CompletableFuture<List<ContainerUpdate>> refreshDegraded() {
        return stub.updateContainers(passes.refreshDegraded());
    }
}
