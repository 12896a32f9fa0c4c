package io.memwarden.cli;

import io.memwarden.api.ApiServer;
import io.memwarden.loops.NodeStatus;
import io.memwarden.input.InputException;
import io.memwarden.input.KubeletConfigReader;
import io.memwarden.input.NodeFactsReader;
import io.memwarden.input.PodManifestReader;
import io.memwarden.input.WardenConfigReader;
import io.memwarden.input.YamlDocs;
import io.memwarden.model.ContainerSpec;
import io.memwarden.model.NodeFacts;
import io.memwarden.model.PodSpec;
import io.memwarden.nri.ManifestPodSource;
import io.memwarden.nri.NriPlugin;
import io.memwarden.nri.NriRuntimePeer;
import io.memwarden.nri.api.ConfigureRequest;
import io.memwarden.nri.api.ConfigureResponse;
import io.memwarden.nri.api.Container;
import io.memwarden.nri.api.ContainerState;
import io.memwarden.nri.api.CreateContainerRequest;
import io.memwarden.nri.api.CreateContainerResponse;
import io.memwarden.nri.api.Empty;
import io.memwarden.nri.api.Event;
import io.memwarden.nri.api.LinuxContainer;
import io.memwarden.nri.api.LinuxMemory;
import io.memwarden.nri.api.LinuxPodSandbox;
import io.memwarden.nri.api.LinuxResources;
import io.memwarden.nri.api.OptionalInt64;
import io.memwarden.nri.api.PodSandbox;
import io.memwarden.nri.api.StateChangeEvent;
import io.memwarden.nri.api.StopContainerRequest;
import io.memwarden.nri.api.StopContainerResponse;
import io.memwarden.nri.api.SynchronizeRequest;
import io.memwarden.nri.api.SynchronizeResponse;
import io.memwarden.nri.api.UpdateContainerRequest;
import io.memwarden.nri.api.UpdateContainerResponse;
import io.memwarden.nri.wire.RpcException;
import io.memwarden.policy.KubeletSettings;
import io.memwarden.policy.Plan;
import io.memwarden.policy.Planner;
import io.memwarden.policy.WardenConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code memwarden aot-train} (hidden): the training run for a JDK AOT cache (JEP 483/514/515). Exercises the
 * daemons' start-up and request paths in-process, with no container runtime, no network and no files outside a
 * temp dir: reads the embedded example configs and pods, plans them, runs a real {@link NriPlugin} against an
 * in-process {@link NriRuntimePeer} over a unix socket (register, configure, synchronize ~50 containers, a stream
 * of CreateContainer/UpdateContainer/StopContainer/remove calls, a config reload), renders {@code /metrics} and
 * {@code /status} once over loopback, and exits 0. Bounded to a few seconds.
 * <p>
 * {@code java -XX:AOTCacheOutput=memwarden.aot -jar memwarden.jar aot-train} writes the cache (bin/memwarden does
 * this itself; docs/nri.md).
 */
@Command(name = "aot-train", hidden = true, mixinStandardHelpOptions = true,
        description = {"Training workload for a JDK AOT cache: runs memwarden's daemon start-up paths in-process"
                + " (NRI plugin against an in-process runtime peer, planner, /metrics and /status) for a few seconds,"
                + " then exits 0. Use: java -XX:AOTCacheOutput=FILE -jar memwarden.jar aot-train"})
final class AotTrainCommand implements Callable<Integer> {
    private static final String RESOURCES = "/io/memwarden/cli/aot-train/";
    private static final Duration STEP_TIMEOUT = Duration.ofSeconds(10);

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--calls", paramLabel = "N", defaultValue = "2000",
            description = "CreateContainer calls to send (each followed by a remove), default ${DEFAULT-VALUE}.")
    int calls;

    @Option(names = "--max-seconds", paramLabel = "S", defaultValue = "3",
            description = "Stop sending calls after this many seconds (default ${DEFAULT-VALUE}).")
    int maxSeconds;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        if (calls < 1 || maxSeconds < 1) {
            err.println("memwarden aot-train: --calls and --max-seconds must be at least 1 (got " + calls + ", "
                    + maxSeconds + ")");
            return ExitCodes.USAGE;
        }
        long t0 = System.nanoTime();
        NodeFacts node = NodeFactsReader.parse("node.yaml", resource("node.yaml"));
        KubeletSettings kubelet = KubeletConfigReader.parse("kubelet-config.yaml",
                resource("kubelet-config.yaml"));
        String configText = text("memwarden.yaml");
        WardenConfig config = WardenConfigReader.parse("memwarden.yaml", YamlDocs.readAll("memwarden.yaml",
                configText).getFirst());
        PodManifestReader.Result manifests = PodManifestReader.parse("pods.yaml",
                YamlDocs.readAll("pods.yaml", text("pods.yaml")));
        probeHost();
        Plan plan = new Planner(node, kubelet, config).plan(manifests.pods(), null, manifests.errors());
        for (PlanOutput.Format f : PlanOutput.Format.values()) {
            PlanOutput.write(plan, f, new PrintWriter(new StringWriter()));
        }

        List<PodSpec> withContainers = manifests.pods().stream().filter(p -> !p.regularContainers().isEmpty())
                .toList();
        // the plugin logs every call, as in the daemon (that path is trained too), but not onto the console
        PrintStream console = System.err;
        int sent;
        System.setErr(new PrintStream(OutputStream.nullOutputStream()));
        try {
            sent = trainNri(node, kubelet, config, configText, withContainers);
        } finally {
            System.setErr(console);
        }
        renderApi(plan);
        err.printf("memwarden aot-train: %d pods planned, %d NRI calls, /metrics and /status rendered in %d ms%n",
                manifests.pods().size(), sent, (System.nanoTime() - t0) / 1_000_000);
        if (!jvmOptionsMention("-XX:+UseCompactObjectHeaders")) {
            err.println("memwarden aot-train: note: this JVM was not started with -XX:+UseCompactObjectHeaders, which"
                    + " bin/memwarden's daemons use; a cache must be created with the same setting as the JVMs that"
                    + " use it (docs/nri.md)");
        }
        err.flush();
        return ExitCodes.OK;
    }

    /** Whether the JVM's command line or its option environment variables contain {@code option}. */
    private static boolean jvmOptionsMention(String option) {
        List<String> sources = new ArrayList<>(ProcessHandle.current().info().arguments().map(List::of)
                .orElse(List.of()));
        for (String env : List.of("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS")) {
            sources.add(System.getenv().getOrDefault(env, ""));
        }
        return sources.stream().anyMatch(a -> a.contains(option));
    }

    /** The daemons' host detection ({@code --node auto}); a build container may lack cgroups, which is fine here. */
    private static void probeHost() {
        try {
            NodeSource.host().toNodeFacts();
        } catch (InputException | RuntimeException e) {
            // training only: the path up to the failure was exercised
        }
    }

    private int trainNri(NodeFacts node, KubeletSettings kubelet, WardenConfig config, String configText,
                         List<PodSpec> pods) throws Exception {
        Path dir = Files.createTempDirectory("memwarden-aot-train-");
        Path socket = dir.resolve("nri.sock");
        NriPlugin plugin = new NriPlugin(NriPlugin.Options.DEFAULTS, node, kubelet, config,
                new ManifestPodSource("aot-train pods.yaml", pods));
        Thread pluginThread = null;
        int sent = 0;
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            pluginThread = Thread.ofPlatform().name("aot-train-plugin").daemon().start(() -> {
                try {
                    plugin.runExternal(socket);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            // the plugin connects within its first backoff step; if it never does, fail instead of hanging
            Thread watchdog = Thread.ofPlatform().name("aot-train-accept").daemon().start(() -> {
                try {
                    Thread.sleep(STEP_TIMEOUT);
                    server.close();
                } catch (InterruptedException | IOException e) {
                    // accepted in time (interrupted) or already closed
                }
            });
            SocketChannel accepted = server.accept();
            watchdog.interrupt();
            try (NriRuntimePeer rt = new NriRuntimePeer(accepted, STEP_TIMEOUT)) {
                rt.awaitRegistration();
                rt.call("Configure", ConfigureRequest.newBuilder().setConfig(configText).setRuntimeName("aot-train")
                        .setRuntimeVersion("0").setRegistrationTimeout(5000).setRequestTimeout(2000).build(),
                        ConfigureResponse.parser());
                sent++;
                // ~50 existing containers over 10 copies of each pod; only the first copy is in the manifest,
                // the others take the NRI-only path
                List<PodSandbox> sandboxes = new ArrayList<>();
                List<Container> containers = new ArrayList<>();
                for (int copy = 0; copy < 10; copy++) {
                    for (PodSpec p : pods) {
                        PodSandbox sb = sandbox(p, copy);
                        sandboxes.add(sb);
                        for (ContainerSpec c : p.regularContainers()) {
                            containers.add(container(sb, c, "sync", ContainerState.CONTAINER_RUNNING));
                        }
                    }
                }
                rt.call("Synchronize", SynchronizeRequest.newBuilder().addAllPods(sandboxes)
                        .addAllContainers(containers).build(), SynchronizeResponse.parser());
                sent++;
                sent += lifecycle(rt, sandboxes.getFirst(), pods.getFirst());
                sent += createStream(rt, pods);
                // a config reload: the plugin pushes UpdateContainers to the runtime
                var updated = plugin.reconfigure(WardenConfig.DEFAULTS);
                if (!updated.isDone()) {
                    rt.awaitPluginCall("UpdateContainers");
                }
                updated.get(STEP_TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
                sent++;
            }
        } finally {
            plugin.stop();
            if (pluginThread != null) {
                pluginThread.join(STEP_TIMEOUT.toMillis());
            }
            Files.deleteIfExists(socket);
            Files.deleteIfExists(dir);
        }
        return sent;
    }

    /** One container's whole life: create, update, stop, remove. */
    private static int lifecycle(NriRuntimePeer rt, PodSandbox sb, PodSpec p) throws IOException, RpcException {
        ContainerSpec spec = p.regularContainers().getFirst();
        Container c = container(sb, spec, "life", ContainerState.CONTAINER_CREATED);
        rt.call("CreateContainer", CreateContainerRequest.newBuilder().setPod(sb).setContainer(c).build(),
                CreateContainerResponse.parser());
        Container running = c.toBuilder().setState(ContainerState.CONTAINER_RUNNING).build();
        LinuxResources bigger = LinuxResources.newBuilder().setMemory(LinuxMemory.newBuilder()
                .setLimit(OptionalInt64.newBuilder().setValue(2L << 30))).build();
        rt.call("UpdateContainer", UpdateContainerRequest.newBuilder().setPod(sb).setContainer(running)
                .setLinuxResources(bigger).build(), UpdateContainerResponse.parser());
        Container stopped = running.toBuilder().setState(ContainerState.CONTAINER_STOPPED).build();
        rt.call("StopContainer", StopContainerRequest.newBuilder().setPod(sb).setContainer(stopped).build(),
                StopContainerResponse.parser());
        remove(rt, sb, stopped);
        return 4;
    }

    /** CreateContainer (then remove) for the manifest's pods in turn, until --calls or --max-seconds. */
    private int createStream(NriRuntimePeer rt, List<PodSpec> pods) throws IOException, RpcException {
        long end = System.nanoTime() + Duration.ofSeconds(maxSeconds).toNanos();
        int n = 0;
        for (int i = 0; i < calls && System.nanoTime() < end; i++) {
            PodSpec p = pods.get(i % pods.size());
            PodSandbox sb = sandbox(p, i % 2 == 0 ? 0 : 1);
            ContainerSpec spec = p.regularContainers().get(i % p.regularContainers().size());
            Container c = container(sb, spec, "bench-" + i, ContainerState.CONTAINER_CREATED);
            try {
                rt.call("CreateContainer", CreateContainerRequest.newBuilder().setPod(sb).setContainer(c).build(),
                        CreateContainerResponse.parser());
            } catch (RpcException refused) {
                // a pod the policy refuses (e.g. an annotation not allowed): the error path is trained too
            }
            remove(rt, sb, c.toBuilder().setState(ContainerState.CONTAINER_STOPPED).build());
            n += 2;
        }
        return n;
    }

    private static void remove(NriRuntimePeer rt, PodSandbox sb, Container c) throws IOException, RpcException {
        rt.call("StateChange", StateChangeEvent.newBuilder().setEvent(Event.REMOVE_CONTAINER).setPod(sb)
                .setContainer(c).build(), Empty.parser());
    }

    private static PodSandbox sandbox(PodSpec p, int copy) {
        String name = copy == 0 ? p.name() : p.name() + "-" + copy;
        String uid = "aot-" + p.namespace() + "-" + name;
        String qos = p.statusQosClass() == null ? "burstable" : p.statusQosClass().name().toLowerCase();
        return PodSandbox.newBuilder().setId("sb-" + uid).setNamespace(p.namespace()).setName(name).setUid(uid)
                .putAllAnnotations(p.annotations()).putLabels("io.kubernetes.pod.name", name)
                .setLinux(LinuxPodSandbox.newBuilder().setCgroupParent("kubepods-" + qos + "-pod"
                        + uid.replace('-', '_') + ".slice"))
                .build();
    }

    private static Container container(PodSandbox sb, ContainerSpec c, String tag, ContainerState state) {
        LinuxMemory.Builder mem = LinuxMemory.newBuilder();
        if (c.resources().memoryLimit() != null) {
            mem.setLimit(OptionalInt64.newBuilder().setValue(c.resources().memoryLimit()));
        }
        String id = sb.getId() + "-" + c.name() + "-" + tag;
        return Container.newBuilder().setId(id).setPodSandboxId(sb.getId()).setName(c.name()).setState(state)
                .setLinux(LinuxContainer.newBuilder().setResources(LinuxResources.newBuilder().setMemory(mem))
                        .setCgroupsPath(sb.getLinux().getCgroupParent() + ":cri-containerd:" + id))
                .build();
    }

    /** Serves /metrics and /status for the plan on an ephemeral loopback port and fetches each once. */
    private static void renderApi(Plan plan) throws IOException {
        List<NodeStatus.Container> containers = new ArrayList<>();
        for (Plan.PodPlan p : plan.pods()) {
            for (Plan.ContainerPlan c : p.containers()) {
                containers.add(new NodeStatus.Container(p.namespace(), p.name(), c.name(), c.init(), p.qosClass(),
                        c.swapBehavior(), true, null, new NodeStatus.Memory(2, 64L << 20, 48L << 20, 0, 1L << 30,
                        0, -1, Map.of("oom", 0L)), null, c, null));
            }
        }
        NodeStatus status = new NodeStatus(System.currentTimeMillis(), new NodeStatus.Node(
                plan.node().memoryCapacityBytes(), plan.node().memoryCapacityBytes() / 2,
                plan.node().swapCapacityBytes(), plan.node().swapCapacityBytes(), 0, null), containers, List.of(),
                new NodeStatus.OomKills(0, 0));
        try (ApiServer api = ApiServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                () -> status, false)) {
            for (String path : List.of("/metrics", "/status")) {
                HttpURLConnection c = (HttpURLConnection) URI.create(api.url() + path).toURL()
                        .openConnection(Proxy.NO_PROXY);
                c.setConnectTimeout((int) STEP_TIMEOUT.toMillis());
                c.setReadTimeout((int) STEP_TIMEOUT.toMillis());
                try (InputStream in = c.getInputStream()) {
                    in.readAllBytes();
                }
                if (c.getResponseCode() != 200) {
                    throw new IOException(path + ": HTTP " + c.getResponseCode());
                }
            }
        }
    }

    private static String text(String name) {
        try (InputStream in = AotTrainCommand.class.getResourceAsStream(RESOURCES + name)) {
            if (in == null) {
                throw new IllegalStateException("resource " + RESOURCES + name + " missing from the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static tools.jackson.databind.JsonNode resource(String name) throws InputException {
        List<tools.jackson.databind.JsonNode> docs = YamlDocs.readAll(name, text(name));
        if (docs.size() != 1) {
            throw new InputException(name + ": expected one YAML document");
        }
        return docs.getFirst();
    }
}
