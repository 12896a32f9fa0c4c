package io.memwarden.nri;

import static io.memwarden.nri.wire.WireFormat.PLUGIN_SERVICE;
import static io.memwarden.nri.wire.WireFormat.RUNTIME_SERVICE;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import io.memwarden.model.Clock;
import io.memwarden.nri.api.ConfigureRequest;
import io.memwarden.nri.api.ConfigureResponse;
import io.memwarden.nri.api.Container;
import io.memwarden.nri.api.ContainerUpdate;
import io.memwarden.nri.api.CreateContainerRequest;
import io.memwarden.nri.api.CreateContainerResponse;
import io.memwarden.nri.api.Empty;
import io.memwarden.nri.api.Event;
import io.memwarden.nri.api.PodSandbox;
import io.memwarden.nri.api.PostCreateContainerResponse;
import io.memwarden.nri.api.PostStartContainerResponse;
import io.memwarden.nri.api.PostUpdateContainerResponse;
import io.memwarden.nri.api.PostUpdatePodSandboxResponse;
import io.memwarden.nri.api.RegisterPluginRequest;
import io.memwarden.nri.api.RemoveContainerRequest;
import io.memwarden.nri.api.RemoveContainerResponse;
import io.memwarden.nri.api.RemovePodSandboxRequest;
import io.memwarden.nri.api.RemovePodSandboxResponse;
import io.memwarden.nri.api.RunPodSandboxRequest;
import io.memwarden.nri.api.RunPodSandboxResponse;
import io.memwarden.nri.api.StartContainerResponse;
import io.memwarden.nri.api.StateChangeEvent;
import io.memwarden.nri.api.StopContainerRequest;
import io.memwarden.nri.api.StopContainerResponse;
import io.memwarden.nri.api.StopPodSandboxResponse;
import io.memwarden.nri.api.SynchronizeRequest;
import io.memwarden.nri.api.SynchronizeResponse;
import io.memwarden.nri.api.UpdateContainerRequest;
import io.memwarden.nri.api.UpdateContainerResponse;
import io.memwarden.nri.api.UpdateContainersRequest;
import io.memwarden.nri.api.UpdateContainersResponse;
import io.memwarden.nri.api.UpdatePodSandboxRequest;
import io.memwarden.nri.api.UpdatePodSandboxResponse;
import io.memwarden.nri.wire.MuxConnection;
import io.memwarden.nri.wire.RpcException;
import io.memwarden.nri.wire.StatusCode;
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
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The NRI stub: a plugin's connection to the runtime, in the shape of containerd/nri's Go stub. It owns the socket
 * (one {@link MuxConnection} per session), RegisterPlugin, the subscription (the event mask from the
 * {@link NriHandlers} the plugin implements, gated by the runtime's NRI version), decoding each runtime call,
 * dispatching it to the typed handler and encoding the answer, the error mapping, reconnecting with backoff,
 * stopping, the request observer and the unsolicited UpdateContainers call. It knows nothing of memwarden's policy.
 * Lifecycle rules: nri-protocol.md §2.
 * <p>
 * Thread model: the mux's reader thread plus one virtual thread per runtime call; a split Synchronize is joined
 * under {@link #syncLock}.
 */
final class NriStub implements MuxConnection.RequestHandler {
    /** Under the plugin's logger name, as before the stub was split out (operators filter on it). */
    private static final Logger LOG = LoggerFactory.getLogger(NriPlugin.class);
    static final String INTERNAL = "an internal error of memwarden (see its log)";

    /** Answers one runtime call from its encoded request. */
    @FunctionalInterface
    private interface Route {
        MessageLite answer(byte[] payload) throws InvalidProtocolBufferException, RpcException;
    }

    /** A typed handler's answer to its decoded request. */
    @FunctionalInterface
    private interface Call<H, Q> {
        MessageLite call(H handler, Q request) throws RpcException;
    }

    /** A typed handler of an event with an empty answer. */
    @FunctionalInterface
    private interface Notify<H, Q> {
        void notify(H handler, Q request) throws RpcException;
    }

    /** Delivers a StateChange event to a typed handler. */
    @FunctionalInterface
    private interface Delivery<H> {
        void deliver(H handler) throws RpcException;
    }

    private final NriPlugin.Options options;
    private final Object plugin;
    private final Set<Event> handled;
    private final Map<String, Route> routes = new HashMap<>();
    private final CountDownLatch stopLatch = new CountDownLatch(1);
    private final CountDownLatch firstSync = new CountDownLatch(1);
    private final AtomicInteger registrations = new AtomicInteger();
    private final Object syncLock = new Object();
    private final List<PodSandbox> syncPods = new ArrayList<>();
    private final List<Container> syncContainers = new ArrayList<>();
    private int syncChunks;
    private volatile MuxConnection conn;
    private volatile boolean stopping;
    /** Serving an external socket (runExternal): a lost connection is followed by a new one. */
    private volatile boolean external;
    private volatile Clock clock = Clock.SYSTEM;
    /** When the first chunk of the sync in progress arrived (under syncLock). */
    private long syncStartMillis = -1;
    private volatile Duration requestTimeout = Duration.ofSeconds(2);
    private volatile NriPlugin.RequestObserver requestObserver = (m, n, f) -> { };

    /** @param plugin the handlers: an object implementing any of the {@link NriHandlers} interfaces */
    NriStub(NriPlugin.Options options, Object plugin) {
        this.options = options;
        this.plugin = plugin;
        this.handled = NriEvents.handledBy(plugin);
        routeAll();
    }

    private void routeAll() {
        routes.put("Configure", p -> configure(ConfigureRequest.parseFrom(p)));
        routes.put("Synchronize", p -> {
            long arrived = clock.millis(); // before decoding: a chunk of a large sync is megabytes
            return synchronize(SynchronizeRequest.parseFrom(p), arrived);
        });
        routes.put("StateChange", p -> stateChange(StateChangeEvent.parseFrom(p)));
        routes.put("Shutdown", p -> shutdown());
        route("CreateContainer", NriHandlers.CreateContainer.class, CreateContainerRequest.parser(),
                CreateContainerResponse.getDefaultInstance(), NriHandlers.CreateContainer::createContainer);
        route("UpdateContainer", NriHandlers.UpdateContainer.class, UpdateContainerRequest.parser(),
                UpdateContainerResponse.getDefaultInstance(), NriHandlers.UpdateContainer::updateContainer);
        route("StopContainer", NriHandlers.StopContainer.class, StopContainerRequest.parser(),
                StopContainerResponse.getDefaultInstance(), NriHandlers.StopContainer::stopContainer);
        routeEvent("RunPodSandbox", NriHandlers.RunPodSandbox.class, RunPodSandboxRequest.parser(),
                RunPodSandboxResponse.getDefaultInstance(), NriHandlers.RunPodSandbox::runPodSandbox);
        routeEvent("UpdatePodSandbox", NriHandlers.UpdatePodSandbox.class, UpdatePodSandboxRequest.parser(),
                UpdatePodSandboxResponse.getDefaultInstance(), NriHandlers.UpdatePodSandbox::updatePodSandbox);
        routeEvent("RemovePodSandbox", NriHandlers.RemovePodSandbox.class, RemovePodSandboxRequest.parser(),
                RemovePodSandboxResponse.getDefaultInstance(), NriHandlers.RemovePodSandbox::removePodSandbox);
        routeEvent("RemoveContainer", NriHandlers.RemoveContainer.class, RemoveContainerRequest.parser(),
                RemoveContainerResponse.getDefaultInstance(), NriHandlers.RemoveContainer::removeContainer);
        // no handler interface (never subscribed), but a runtime may send them: their empty responses
        routes.put("StopPodSandbox", p -> StopPodSandboxResponse.getDefaultInstance());
        routes.put("PostUpdatePodSandbox", p -> PostUpdatePodSandboxResponse.getDefaultInstance());
        routes.put("PostCreateContainer", p -> PostCreateContainerResponse.getDefaultInstance());
        routes.put("StartContainer", p -> StartContainerResponse.getDefaultInstance());
        routes.put("PostStartContainer", p -> PostStartContainerResponse.getDefaultInstance());
        routes.put("PostUpdateContainer", p -> PostUpdateContainerResponse.getDefaultInstance());
    }

    /** Routes {@code method} to the plugin's handler of {@code type}; without one, answers {@code none}. */
    private <H, Q> void route(String method, Class<H> type, Parser<Q> parser, MessageLite none, Call<H, Q> call) {
        if (type.isInstance(plugin)) {
            H handler = type.cast(plugin);
            routes.put(method, p -> call.call(handler, parser.parseFrom(p)));
        } else {
            routes.put(method, p -> none);
        }
    }

    private <H, Q> void routeEvent(String method, Class<H> type, Parser<Q> parser, MessageLite empty,
                                   Notify<H, Q> notify) {
        route(method, type, parser, empty, (h, r) -> {
            notify.notify(h, r);
            return empty;
        });
    }

    // ---------------------------------------------------------------- connection lifecycle

    /**
     * Connects to the runtime's socket and serves it; on connection loss reconnects with backoff (0.5 s doubling to
     * 10 s, reset after a successful registration) and registers again (the runtime then synchronizes again).
     * Returns when {@link #stop()} is called.
     */
    void runExternal(Path socket) throws InterruptedException {
        external = true;
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
    String runSession(ByteChannel channel) throws InterruptedException {
        synchronized (syncLock) {
            syncPods.clear();
            syncContainers.clear();
            syncStartMillis = -1;
            syncChunks = 0;
        }
        if (plugin instanceof NriHandlers.SessionStart h) {
            h.sessionStarted();
        }
        MuxConnection c = new MuxConnection(channel, this);
        conn = c;
        c.start();
        if (stopping) {
            c.close("memwarden stopping");
        }
        register(c);
        try {
            return c.closed().get();
        } catch (ExecutionException e) {
            return String.valueOf(e.getCause());
        }
    }

    private void register(MuxConnection c) throws InterruptedException {
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
    }

    /** Stops serving: closes the connection and ends {@link #runExternal}. */
    void stop() {
        stopping = true;
        stopLatch.countDown();
        MuxConnection c = conn;
        if (c != null) {
            c.close("memwarden stopping");
        }
    }

    /** The clock that times a Synchronize against the runtime's request timeout (tests use a fake one). */
    void useClock(Clock c) {
        this.clock = c;
    }

    void onRequest(NriPlugin.RequestObserver o) {
        this.requestObserver = o;
    }

    /** Whether a runtime connection is open and registered. */
    boolean connected() {
        MuxConnection c = conn;
        return c != null && c.isOpen() && registrations.get() > 0;
    }

    /** Waits at most {@code timeout} until the runtime has synchronized the plugin once; returns whether it has. */
    boolean awaitFirstSync(Duration timeout) throws InterruptedException {
        return firstSync.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    int registrations() {
        return registrations.get();
    }

    /** The runtime's request timeout (Configure's, else NRI's default 2 s). */
    Duration requestTimeout() {
        return requestTimeout;
    }

    /**
     * Sends unsolicited container updates to the runtime (UpdateContainers). Completes with the updates the runtime
     * reports as failed; at once with none when there is nothing to send.
     */
    CompletableFuture<List<ContainerUpdate>> updateContainers(List<ContainerUpdate> updates) {
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
        Route route = routes.get(method);
        if (route == null) {
            throw new RpcException(StatusCode.UNIMPLEMENTED, "method " + method + " not implemented");
        }
        try {
            return route.answer(payload).toByteArray();
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
        if (plugin instanceof NriHandlers.Configure h) {
            h.configure(r);
        }
        Set<Event> events = NriEvents.subscribed(handled, r);
        int mask = NriEvents.mask(events);
        LOG.info("subscribing to {} (mask 0x{})", events, Integer.toHexString(mask));
        return ConfigureResponse.newBuilder().setEvents(mask).build();
    }

    /** Joins a split sync (echoing {@code more}, no updates before the last chunk), then hands it over whole. */
    /**
     * A sync answered after 90 % of the runtime's request timeout counts as late: the runtime's clock started
     * before it sent the request (transfer and queueing are not seen here), and a needless new connection only costs
     * one more sync, while a late answer taken for an early one leaves a v0.6.1 runtime never calling the plugin.
     */
    static final double LATE_SYNC_FRACTION = 0.9;

    private SynchronizeResponse synchronize(SynchronizeRequest r, long arrived) throws RpcException {
        List<PodSandbox> pods;
        List<Container> containers;
        long started;
        synchronized (syncLock) {
            if (syncStartMillis < 0) {
                syncStartMillis = arrived;
            }
            started = syncStartMillis;
            syncPods.addAll(r.getPodsList());
            syncContainers.addAll(r.getContainersList());
            syncChunks++;
            if (r.getMore()) {
                LOG.debug("Synchronize chunk: {} pods, {} containers, more to come", r.getPodsCount(),
                        r.getContainersCount());
                return SynchronizeResponse.newBuilder().setMore(true).build();
            }
            pods = List.copyOf(syncPods);
            containers = List.copyOf(syncContainers);
            if (syncChunks > 1) { // NRI v0.7+ splits a sync over ttrpc's 4 MiB (nri-protocol.md §2.4)
                LOG.info("Synchronize: joined a split sync of {} messages: {} pods, {} containers", syncChunks,
                        pods.size(), containers.size());
            }
            syncPods.clear();
            syncContainers.clear();
            syncStartMillis = -1;
            syncChunks = 0;
        }
        List<ContainerUpdate> updates = plugin instanceof NriHandlers.Synchronize h
                ? h.synchronize(pods, containers) : List.of();
        long took = clock.millis() - started;
        MuxConnection c = conn;
        if (external && took > LATE_SYNC_FRACTION * requestTimeout.toMillis() && c != null) {
            // the runtime gave up on this sync. NRI v0.7+ then closes the connection; v0.6.1 (containerd 1.7.16-25)
            // keeps it open but never adds the plugin: no events would ever come. A new connection is synced again.
            LOG.warn("Synchronize of {} pods, {} containers answered after {} ms, too close to or past the runtime's "
                    + "request timeout of {} ms: reconnecting so that the runtime synchronizes again", pods.size(),
                    containers.size(), took, requestTimeout.toMillis());
            c.close("Synchronize answered after the runtime's request timeout");
            throw new RpcException(StatusCode.DEADLINE_EXCEEDED, "Synchronize answered after " + took + " ms");
        }
        firstSync.countDown();
        return SynchronizeResponse.newBuilder().addAllUpdate(updates).build();
    }

    /** The lifecycle events of runtimes before NRI v0.12, delivered to the same handlers as the dedicated calls. */
    private Empty stateChange(StateChangeEvent e) throws RpcException {
        PodSandbox pod = e.getPod();
        Container c = e.getContainer();
        boolean delivered = switch (e.getEvent()) {
            case RUN_POD_SANDBOX -> deliver(NriHandlers.RunPodSandbox.class,
                    h -> h.runPodSandbox(RunPodSandboxRequest.newBuilder().setPod(pod).build()));
            case UPDATE_POD_SANDBOX -> deliver(NriHandlers.UpdatePodSandbox.class,
                    h -> h.updatePodSandbox(UpdatePodSandboxRequest.newBuilder().setPod(pod).build()));
            case REMOVE_POD_SANDBOX -> deliver(NriHandlers.RemovePodSandbox.class,
                    h -> h.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPod(pod).build()));
            case STOP_CONTAINER -> deliver(NriHandlers.StopContainer.class,
                    h -> h.stopContainer(StopContainerRequest.newBuilder().setPod(pod).setContainer(c).build()));
            case REMOVE_CONTAINER -> deliver(NriHandlers.RemoveContainer.class,
                    h -> h.removeContainer(RemoveContainerRequest.newBuilder().setPod(pod).setContainer(c).build()));
            default -> false;
        };
        if (!delivered) {
            LOG.debug("StateChange {} ignored", e.getEvent());
        }
        return Empty.getDefaultInstance();
    }

    private <H> boolean deliver(Class<H> type, Delivery<H> d) throws RpcException {
        if (!type.isInstance(plugin)) {
            return false;
        }
        d.deliver(type.cast(plugin));
        return true;
    }

    private Empty shutdown() {
        LOG.info("runtime asked the plugin to shut down");
        Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep(100); // let the reply go out first
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            stop();
        });
        return Empty.getDefaultInstance();
    }
}
