package io.memwarden.cli;

import io.memwarden.input.ConfigFileWatch;
import io.memwarden.input.InputException;
import io.memwarden.input.KubeletConfigReader;
import io.memwarden.input.PodManifestReader;
import io.memwarden.input.WardenConfigReader;
import io.memwarden.model.NodeFacts;
import io.memwarden.model.PodSpec;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.memwarden.k8s.NodePods;
import io.memwarden.nri.FirstOfPodSource;
import io.memwarden.nri.LookupPodSource;
import io.memwarden.nri.ManifestPodSource;
import io.memwarden.nri.NriPlugin;
import io.memwarden.nri.PodSpecSource;
import io.memwarden.nri.wire.FdChannel;
import io.memwarden.policy.KubeletSettings;
import io.memwarden.policy.Plan;
import io.memwarden.policy.WardenConfig;
import java.io.PrintWriter;
import java.nio.channels.ByteChannel;
import java.nio.channels.Channel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "nri", mixinStandardHelpOptions = true,
        footerHeading = "%nExamples:%n",
        footer = {"  memwarden nri --socket /var/run/nri/nri.sock \\",
                "      --config /etc/memwarden/config.yaml --kube",
                "  memwarden nri --pods examples/pods.yaml \\",
                "      --kubelet-config examples/kubelet-config.yaml"},
        description = {"Run memwarden as an NRI plugin of containerd or CRI-O: register with the runtime, and give"
                + " every container the memory cgroup values memwarden's policy computes for it (as NRI adjustments"
                + " and updates). Reconnects with backoff when the runtime restarts. Logs go to stderr.",
                "",
                "Launched by the runtime (NRI_PLUGIN_SOCKET in the environment), it serves the inherited socket and"
                + " takes its name and index from NRI_PLUGIN_NAME / NRI_PLUGIN_IDX (docs/nri.md).",
                "",
                "Exit codes: 0 stopped (SIGTERM or SIGINT, runtime Shutdown, or a launched plugin's connection closed; a"
                + " second signal while stopping ends it at once with 128 + the signal's number, a stop that takes"
                + " over 20 s with 1);"
                + " 2 usage error or invalid input."})
final class NriCommand implements Callable<Integer> {

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--socket", paramLabel = "PATH", defaultValue = "/var/run/nri/nri.sock",
            description = "The runtime's NRI socket (default ${DEFAULT-VALUE}).")
    Path socket;

    @Option(names = "--index", paramLabel = "NN", defaultValue = "50",
            description = "Plugin index, two digits: the order among plugins (default ${DEFAULT-VALUE}).")
    String index;

    @Option(names = "--name", paramLabel = "NAME", defaultValue = "memwarden",
            description = "Plugin name (default ${DEFAULT-VALUE}).")
    String name;

    @Option(names = "--config", paramLabel = "CFG.yaml",
            description = "memwarden's config (a non-empty config from the runtime's Configure replaces it). When the"
                    + " file changes it is re-read, and running containers are updated (NRI UpdateContainers).")
    Path config;

    @Option(names = "--kubelet-config", paramLabel = "KCFG.yaml", description = "The node's KubeletConfiguration.")
    Path kubeletConfig;

    @Option(names = "--node", paramLabel = "auto|NODE.yaml", defaultValue = "auto",
            description = "Node facts; 'auto' (default) detects this host.")
    String node;

    @Option(names = "--pods", paramLabel = "PODS.yaml",
            description = "Static pod-spec source (Pod manifests); absent: NRI-only (degraded for Burstable pods).")
    Path pods;

    @Option(names = "--kube",
            description = "Also take pod specs from the Kubernetes API: watch this node's pods (kubeconfig or"
                    + " in-cluster config; needs get/list/watch on pods). With --pods, the manifest is asked first.")
    boolean kube;

    @Option(names = "--node-name", paramLabel = "NAME",
            description = "This node's name for --kube (default: $NODE_NAME, else the host name).")
    String nodeName;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        Map<String, String> env = System.getenv();
        boolean launched = env.containsKey("NRI_PLUGIN_SOCKET");
        String pluginName = launched && env.getOrDefault("NRI_PLUGIN_NAME", "").length() > 0
                ? env.get("NRI_PLUGIN_NAME") : name;
        String pluginIdx = launched && env.getOrDefault("NRI_PLUGIN_IDX", "").length() > 0
                ? env.get("NRI_PLUGIN_IDX") : index;
        NriPlugin plugin;
        try {
            NodeFacts nf = node.equals("auto") ? NodeSource.host().toNodeFacts() : NodeSource.node(node, null);
            KubeletSettings k = kubeletConfig == null ? KubeletSettings.DEFAULTS : KubeletConfigReader.read(kubeletConfig);
            WardenConfig cfg = config == null ? WardenConfig.DEFAULTS : WardenConfigReader.read(config);
            PodSpecSource source = null;
            if (pods != null) {
                source = manifestSource(pods, PodManifestReader.readItems(pods), err, "memwarden nri: ");
            }
            if (kube) {
                source = kubeSource(source, err);
            }
            NriPlugin.Options opts;
            try {
                opts = NriPlugin.Options.DEFAULTS.withName(pluginName).withIndex(pluginIdx);
            } catch (IllegalArgumentException e) {
                throw new InputException(e.getMessage(), e);
            }
            try {
                plugin = new NriPlugin(opts, nf, k, cfg, source);
                plugin.memoryBackedVolumes(NoswapSupport.detect(nf.swapCapacity(), err, "memwarden nri: "));
            } catch (IllegalArgumentException e) {
                throw new InputException((kubeletConfig != null ? kubeletConfig + ": " : "") + e.getMessage(), e);
            }
        } catch (InputException e) {
            err.println("memwarden nri: " + e.getMessage());
            err.flush();
            return ExitCodes.USAGE;
        }
        err.flush();
        // SIGTERM/SIGINT: the orderly stop below, exit 0 (StopSignals); the hook covers SIGHUP and System.exit
        Thread hook = new Thread(plugin::stop, "memwarden-nri-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        StopSignals signals = StopSignals.install("memwarden nri: ", err, plugin::stop);
        ConfigFileWatch watch = null;
        try {
            if (config != null) {
                watch = ConfigFileWatch.start(config, WardenConfigReader::read, cfg -> plugin.reconfigure(cfg)
                        .whenComplete((failed, e) -> {
                            if (e != null) {
                                err.println("memwarden nri: applying the changed config: " + e.getMessage());
                            } else if (!failed.isEmpty()) {
                                err.println("memwarden nri: the runtime could not update " + failed.size()
                                        + " container(s)");
                            }
                            err.flush();
                        }), message -> {
                            err.println("memwarden nri: config file changed but is invalid, keeping the previous"
                                    + " config: " + message);
                            err.flush();
                        });
            }
            if (launched) {
                ByteChannel ch = launchedChannel(env.get("NRI_PLUGIN_SOCKET"));
                if (ch == null) {
                    err.println("memwarden nri: NRI_PLUGIN_SOCKET=" + env.get("NRI_PLUGIN_SOCKET")
                            + " is not a file descriptor number");
                    return ExitCodes.USAGE;
                }
                String reason = plugin.runSession(ch);
                if (signals.received() == null) {
                    err.println("memwarden nri: the runtime's connection closed (" + reason + "); exiting");
                    err.flush();
                }
            } else {
                plugin.runExternal(socket);
            }
            if (signals.received() != null) {
                err.println("memwarden nri: stopped by " + signals.received() + ": NRI connection closed; every"
                        + " container keeps its cgroup values");
                err.flush();
            }
        } finally {
            signals.close();
            if (watch != null) {
                watch.close();
            }
            if (nodePods != null) {
                nodePods.close();
            }
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running or has run
            }
        }
        return ExitCodes.OK;
    }

    private NodePods nodePods;

    /**
     * The manifest's pods as a source, bound on a background thread: binding is the slowest part of a cold start
     * (Jackson builds its deserializers for fabric8's Pod model), and the runtime's RegisterPlugin and Configure do
     * not need it, so the daemon connects meanwhile; the first lookup (e.g. Synchronize's) waits for it. A pod that
     * cannot be bound is reported on {@code err} with {@code prefix} and skipped, as before.
     */
    static ManifestPodSource manifestSource(Path pods, PodManifestReader.Items items, PrintWriter err, String prefix) {
        CompletableFuture<List<PodSpec>> bound = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name("memwarden-pods").start(() -> {
            try {
                PodManifestReader.Result r = items.bind();
                for (Plan.PlanError e : r.errors()) {
                    err.println(prefix + pods + ": " + e.pod() + ": " + e.message() + " (pod skipped)");
                }
                err.flush();
                bound.complete(r.pods());
            } catch (RuntimeException | Error e) {
                err.println(prefix + pods + ": reading the pods failed: " + e);
                err.flush();
                bound.completeExceptionally(e);
            }
        });
        return new ManifestPodSource(pods.toString(), bound);
    }

    private PodSpecSource kubeSource(PodSpecSource manifest, PrintWriter err) throws InputException {
        String node;
        try {
            node = NodeSource.nodeName(nodeName);
        } catch (InputException e) {
            throw new InputException("--kube: " + e.getMessage(), e);
        }
        KubernetesClient client;
        try {
            client = new KubernetesClientBuilder().build();
        } catch (RuntimeException e) {
            throw new InputException("--kube: no usable Kubernetes client configuration: " + e.getMessage(), e);
        }
        nodePods = new NodePods(client, node);
        try {
            if (!nodePods.start(java.time.Duration.ofSeconds(10))) {
                err.println("memwarden nri: --kube: the pods of node " + node + " are not listed yet; containers fall"
                        + " back to NRI data until they are");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InputException("--kube: interrupted while listing pods", e);
        }
        PodSpecSource api = new LookupPodSource("kubernetes API (node " + node + ")", nodePods::find,
                nodePods::onChange);
        return manifest == null ? api : new FirstOfPodSource(manifest, api);
    }

    /**
     * The launched plugin's socket: stdin when a wrapper redirected the runtime's fd there (0&lt;&amp;3) and the JDK
     * sees a socket, else the inherited descriptor itself through {@link FdChannel}.
     */
    private static ByteChannel launchedChannel(String fdText) throws java.io.IOException {
        Channel inherited = System.inheritedChannel();
        if (inherited instanceof SocketChannel sc) {
            return sc;
        }
        try {
            return new FdChannel(Integer.parseInt(fdText.strip()));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
