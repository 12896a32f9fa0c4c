package io.memwarden.cli;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.memwarden.agent.Agent;
import io.memwarden.agent.AgentConfig;
import io.memwarden.agent.AgentConfigReader;
import io.memwarden.agent.PodsByUid;
import io.memwarden.agent.StartupChecks;
import io.memwarden.api.ApiLimits;
import io.memwarden.api.ListenAddress;
import io.memwarden.cgroup.HostFacts;
import io.memwarden.cgroup.NodeStats;
import io.memwarden.model.Clock;
import io.memwarden.input.InputException;
import io.memwarden.input.KubeletConfigReader;
import io.memwarden.input.PodManifestReader;
import io.memwarden.k8s.ClusterActions;
import io.memwarden.k8s.KubeCluster;
import io.memwarden.k8s.NodePods;
import io.memwarden.model.NodeFacts;
import io.memwarden.nri.FirstOfPodSource;
import io.memwarden.nri.LookupPodSource;
import io.memwarden.nri.ManifestPodSource;
import io.memwarden.nri.NriPlugin;
import io.memwarden.nri.PodSpecSource;
import io.memwarden.policy.KubeletSettings;
import io.memwarden.policy.Plan;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "agent", mixinStandardHelpOptions = true,
        footerHeading = "%nExamples:%n",
        footer = {"  memwarden agent --config /etc/memwarden/config.yaml \\",
                "      --kubelet-config /var/lib/kubelet/config.yaml",
                "  memwarden agent --standalone --dry-run --listen 127.0.0.1:9767"},
        description = {"Run memwarden's node agent: an NRI plugin of containerd or CRI-O that gives every container the"
                + " memory cgroup values of memwarden's policy, the control loops (pressure guard, throttle relief,"
                + " cold-memory offload) over those containers, the kernel OOM watch, the Kubernetes side (pod specs,"
                + " events, evictions, node label/taint) and the read-only status API (/metrics, /status, /healthz)."
                + " The config file is re-read when it changes (an invalid one is rejected, the old one kept)."
                + " On exit every container keeps its cgroup values. docs/agent.md.",
                "",
                "With --standalone (runtimes without NRI, e.g. containerd 1.6): no NRI plugin; memwarden finds the"
                + " containers in the kubelet's cgroup tree (kubepods, cgroupfs or systemd driver), matches them to"
                + " their pods (Kubernetes API: by pod uid and container ID; --pods: one-container pods by uid) and"
                + " writes their planned cgroup values itself each loop period, where they differ."
                + " docs/agent-standalone.md.",
                "",
                "Exit codes: 0 stopped by SIGTERM or SIGINT (an orderly stop; a second signal ends it at once with 128 +"
                + " the signal's number, a stop that takes over 20 s with 1); 1 a start-up failure (e.g. the status API's port is taken);"
                + " 2 usage error, invalid input, or a start-up check refused (e.g. swap on with failSwapOn)."})
final class AgentCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--config", paramLabel = "CFG.yaml",
            description = "memwarden's config: policy sections and the agent, loops and kubernetes sections.")
    Path config;

    @Option(names = "--kubelet-config", paramLabel = "KCFG.yaml", description = "The node's KubeletConfiguration.")
    Path kubeletConfig;

    @Option(names = "--nri-socket", paramLabel = "PATH", defaultValue = "/var/run/nri/nri.sock",
            description = "The runtime's NRI socket (default ${DEFAULT-VALUE}).")
    Path nriSocket;

    @Option(names = "--standalone", description = "No NRI: find the containers in the kubelet's cgroup tree and write"
            + " their plans into their cgroups (excludes --nri-socket and --nri-index).")
    boolean standalone;

    @Option(names = "--nri-index", paramLabel = "NN", defaultValue = "50",
            description = "NRI plugin index, two digits (default ${DEFAULT-VALUE}).")
    String nriIndex;

    @Option(names = "--node", paramLabel = "auto|NODE.yaml", defaultValue = "auto",
            description = "Node facts; 'auto' (default) detects this host.")
    String node;

    @Option(names = "--node-name", paramLabel = "NAME",
            description = "This node's name in Kubernetes (default: $NODE_NAME, else the host name).")
    String nodeName;

    @Option(names = "--listen", paramLabel = "[HOST:]PORT|off",
            description = "Status API address; overrides agent.listen (default 127.0.0.1:9767).")
    String listen;

    @Option(names = "--status-from-network",
            description = "Serve GET /status (every pod's plan) to clients that are not on loopback too; overrides"
                    + " agent.statusFromNetwork (default: loopback only; /metrics and /healthz are served wherever"
                    + " --listen binds).")
    boolean statusFromNetwork;

    @Option(names = "--kube", paramLabel = "auto|on|off",
            description = "Use the Kubernetes API; overrides kubernetes.enabled (auto: in-cluster config or a"
                    + " kubeconfig is present).")
    String kube;

    @Option(names = "--pods", paramLabel = "PODS.yaml",
            description = "Static pod manifests, asked before the Kubernetes API (nodes without an API server);"
                    + " with --standalone found by metadata.uid.")
    Path pods;

    @Option(names = "--dry-run", description = "Control loops log what they would do and do nothing (overrides"
            + " loops.dryRun).")
    boolean dryRun;

    /** What the agent is started from: this host, the node facts, the kubelet's settings, the config, the listen. */
    private record Inputs(HostFacts host, NodeFacts node, KubeletSettings kubelet, AgentConfig cfg,
                          ListenAddress listen) {}

    /** Where pod specs come from and the cluster the agent acts on ({@code nodePods} null without the API). */
    private record PodSources(PodSpecSource specs, PodsByUid byUid, NodePods nodePods, ClusterActions cluster) {}

    /** A refusal to start: the message (printed after "memwarden agent: "), exit 2. */
    private static final class Refused extends Exception {
        Refused(String message) {
            super(message);
        }
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        Inputs in;
        StartupChecks.Result checks;
        PodSources sources;
        NriPlugin.Options pluginOptions;
        try {
            refuseNriOptionsWhenStandalone();
            in = readInputs(err);
            checks = startupChecks(in, err);
            sources = podSources(in.cfg(), err);
            pluginOptions = pluginOptions();
        } catch (Refused e) {
            err.println("memwarden agent: " + e.getMessage());
            return ExitCodes.USAGE;
        }
        Agent agent = new Agent(new Agent.Setup(in.host(), in.node(), in.kubelet(), in.cfg(), config, nriSocket,
                pluginOptions, sources.specs(), sources.cluster(), in.listen(), Files.isReadable(Path.of("/dev/kmsg")),
                Clock.SYSTEM, standalone ? new Agent.Standalone(sources.byUid(), null) : null),
                checks.offloadPossible());
        if (node == null || node.equals("auto")) {
            // the node's swap as it is now, each round: swapon/swapoff re-evaluate the warnings before surprises
            long started = in.node().swapCapacity();
            agent.swapTotalFrom(() -> {
                try {
                    long t = NodeStats.swapNow()[0];
                    return t < 0 ? started : t;
                } catch (IOException e) {
                    return started;
                }
            });
        }
        if (agent.plugin() != null) {
            agent.plugin().memoryBackedVolumes(NoswapSupport.detect(in.node().swapCapacity(), err, "memwarden agent: "));
        }
        return runUntilStopped(agent, sources.nodePods(), in.host(), err);
    }

    private void refuseNriOptionsWhenStandalone() throws Refused {
        if (!standalone) {
            return;
        }
        for (String nriOnly : new String[] {"--nri-socket", "--nri-index"}) {
            if (spec.commandLine().getParseResult().hasMatchedOption(nriOnly)) {
                throw new Refused("--standalone and " + nriOnly + " exclude each other (standalone mode does not"
                        + " use NRI)");
            }
        }
    }

    /** The host, --node, --kubelet-config and --config with the command line's overrides; notes a network listen. */
    private Inputs readInputs(PrintWriter err) throws Refused {
        try {
            HostFacts host = NodeSource.host();
            NodeFacts nf = NodeSource.node(node, host);
            if (nf.cgroupVersion() != host.memoryController()) {
                throw new InputException("--node " + node + " says cgroup v" + nf.cgroupVersion().number()
                        + " but this host's memory controller is cgroup v" + host.memoryController().number());
            }
            KubeletSettings k = kubeletConfig == null ? KubeletSettings.DEFAULTS
                    : KubeletConfigReader.read(kubeletConfig);
            AgentConfig cfg = withOverrides(config == null ? AgentConfig.DEFAULTS : AgentConfigReader.read(config));
            ListenAddress listenAddress = listenAddress(cfg, err);
            if (kube != null && !kube.matches("auto|on|off")) {
                throw new InputException("--kube: \"" + kube + "\" is not one of auto, on, off");
            }
            return new Inputs(host, nf, k, cfg, listenAddress);
        } catch (InputException e) {
            throw new Refused(e.getMessage());
        }
    }

    /** --dry-run and --status-from-network over the config file's loops.dryRun and agent.statusFromNetwork. */
    private AgentConfig withOverrides(AgentConfig cfg) {
        if (dryRun) {
            cfg = cfg.withLoops(cfg.loops().withDryRun(true));
        }
        if (statusFromNetwork) {
            cfg = cfg.withAgent(cfg.agent().withStatusFromNetwork(true));
        }
        return cfg;
    }

    /** The status API's address (--listen, else agent.listen), null for "off"; notes one that is not loopback. */
    private ListenAddress listenAddress(AgentConfig cfg, PrintWriter err) throws InputException {
        String where = listen != null ? listen : cfg.agent().listen();
        if (where.equals("off")) {
            return null;
        }
        try {
            ApiLimits.configure();
        } catch (ApiLimits.Invalid e) {
            throw new InputException(e.getMessage());
        }
        ListenAddress address;
        try {
            address = ListenAddress.parse(where);
        } catch (IllegalArgumentException e) {
            throw new InputException((listen != null ? "--listen " : "agent.listen ") + e.getMessage());
        }
        if (!address.loopback()) {
            err.println("memwarden agent: note: the status API listens on " + where + ", not a loopback address:"
                    + " /metrics and /healthz are reachable from the network (read-only); /status "
                    + (cfg.agent().statusFromNetwork() ? "too (statusFromNetwork)"
                            : "is served to loopback clients only"));
        }
        return address;
    }

    /** The node plan and the start-up checks on it; prints every finding, refuses when one refuses. */
    private StartupChecks.Result startupChecks(Inputs in, PrintWriter err) throws Refused {
        Plan.NodePlan nodePlan;
        try {
            nodePlan = Agent.nodePlan(in.node(), in.kubelet(), in.cfg());
        } catch (IllegalArgumentException e) {
            throw new Refused((kubeletConfig != null ? kubeletConfig + ": " : "") + e.getMessage());
        }
        StartupChecks.Result checks = StartupChecks.check(in.host(), nodePlan, in.kubelet(), in.cfg());
        for (StartupChecks.Finding f : checks.findings()) {
            err.println("memwarden agent: " + f);
        }
        err.flush();
        if (checks.refuse()) {
            throw new Refused("not starting (see the errors above)");
        }
        return checks;
    }

    /** --pods first, then the Kubernetes API when it is used (its pod cache started, the cluster connected). */
    private PodSources podSources(AgentConfig cfg, PrintWriter err) throws Refused, InterruptedException {
        try {
            PodSources sources = manifestSources(err);
            if (useKube(cfg)) {
                sources = withKubernetesApi(sources, cfg, err);
            } else {
                err.println("memwarden agent: no Kubernetes API (pod specs from " + (pods != null ? pods
                        : standalone ? "nowhere" : "NRI only") + "; evictions kill with SIGKILL via pidfd; no events)");
            }
            if (standalone && sources.byUid() == null) {
                throw new InputException("--standalone needs pod specs: the Kubernetes API (--kube on, or a"
                        + " kubeconfig) or --pods PODS.yaml");
            }
            return sources;
        } catch (InputException e) {
            throw new Refused(e.getMessage());
        } catch (RuntimeException e) {
            throw new Refused("Kubernetes API: " + e.getMessage());
        }
    }
    /** --pods: bound while the plugin registers with NRI; by metadata.uid with --standalone. None without it. */
    private PodSources manifestSources(PrintWriter err) throws InputException {
        if (pods == null) {
            return new PodSources(null, null, null, ClusterActions.NONE);
        }
        if (!standalone) { // NriCommand.manifestSource
            return new PodSources(NriCommand.manifestSource(pods, PodManifestReader.readItems(pods), err,
                    "memwarden agent: "), null, null, ClusterActions.NONE);
        }
        PodManifestReader.Result r = PodManifestReader.read(pods);
        for (Plan.PlanError e : r.errors()) {
            err.println("memwarden agent: " + pods + ": " + e.pod() + ": " + e.message() + " (pod skipped)");
        }
        PodSpecSource specs = new ManifestPodSource(pods.toString(), r.pods());
        for (var p : r.pods()) {
            if (p.uid().isEmpty()) {
                err.println("memwarden agent: " + pods + ": " + p.key() + " has no metadata.uid: standalone mode"
                        + " finds pods by uid, so its containers are left alone");
            }
        }
        return new PodSources(specs, PodsByUid.manifest(pods.toString(), r.pods()), null, ClusterActions.NONE);
    }

    /**
     * This node's pods from the API (asked after {@code before}'s) and the cluster on the API, every part on: the
     * agent gates events, evictions and node marking by its (reloadable) config.
     */
    private PodSources withKubernetesApi(PodSources before, AgentConfig cfg, PrintWriter err)
            throws InputException, InterruptedException {
        String name = nodeName();
        KubernetesClient client = new KubernetesClientBuilder().build();
        NodePods nodePods = new NodePods(client, name, !cfg.kubernetes().watchAllPods());
        if (!nodePods.start(Duration.ofSeconds(5))) {
            err.println("memwarden agent: the pods of node " + name + " are not listed yet; containers"
                    + (standalone ? " are left alone until they are" : " fall back to NRI data until they are"));
        }
        String apiName = "kubernetes API (node " + name + ")";
        PodSpecSource api = new LookupPodSource(apiName, nodePods::find, nodePods::onChange);
        PodsByUid apiByUid = byUid(nodePods, apiName);
        PodSources sources = new PodSources(before.specs() == null ? api : new FirstOfPodSource(before.specs(), api),
                before.byUid() == null ? apiByUid : PodsByUid.firstOf(before.byUid(), apiByUid), nodePods,
                new KubeCluster(client, name));
        err.println("memwarden agent: Kubernetes API " + client.getMasterUrl() + ", node " + name);
        return sources;
    }

    /** The API's pod cache found by pod uid, with the pods' container IDs. */
    private static PodsByUid byUid(NodePods cache, String apiName) {
        return new PodsByUid() {
            @Override
            public Optional<Known> find(String uid) throws InputException {
                return cache.byUid(uid).map(p -> new Known(p.spec(), p.containerNames(), true, apiName));
            }

            @Override
            public String describe() {
                return apiName;
            }
        };
    }

    private NriPlugin.Options pluginOptions() throws Refused {
        try {
            return NriPlugin.Options.DEFAULTS.withIndex(nriIndex);
        } catch (IllegalArgumentException e) {
            throw new Refused("--nri-index: " + e.getMessage());
        }
    }

    /**
     * Starts the agent (NRI registration first: it has a deadline and a start is CPU-bound; then the API, watches and
     * loops) and waits for SIGTERM/SIGINT (StopSignals: an orderly stop, exit 0); a shutdown hook covers SIGHUP and
     * System.exit. Every container keeps its cgroup values.
     */
    private int runUntilStopped(Agent agent, NodePods nodePods, HostFacts host, PrintWriter err)
            throws InterruptedException {
        Thread hook = new Thread(agent::close, "memwarden-agent-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        StopSignals signals = StopSignals.install("memwarden agent: ", err, agent::close);
        try {
            agent.startNri();
            agent.awaitFirstSync(Duration.ofSeconds(2));
            agent.startRest();
            err.println("memwarden agent: serving; " + (standalone ? "standalone: containers found under "
                    + host.memoryMount() + " (kubepods, kubepods.slice)" : "NRI socket " + nriSocket)
                    + (agent.api() == null ? "" : ", status API " + agent.api().url()));
            err.flush();
            agent.awaitStop();
            agent.close(); // waits for a close the signal's thread runs
            err.println("memwarden agent: stopped" + (signals.received() == null ? "" : " by " + signals.received())
                    + ": NRI connection, loops, OOM watch and status API closed; every container keeps its cgroup"
                    + " values");
            err.flush();
            return ExitCodes.OK;
        } catch (IOException e) {
            err.println("memwarden agent: " + e.getMessage());
            return ExitCodes.FAILURE;
        } finally {
            agent.close();
            signals.close();
            if (nodePods != null) {
                nodePods.close();
            }
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running
            }
        }
    }

    private boolean useKube(AgentConfig cfg) throws InputException {
        String mode = kube != null ? kube : switch (cfg.kubernetes().enabled()) {
            case AUTO -> "auto";
            case TRUE -> "on";
            case FALSE -> "off";
        };
        return switch (mode) {
            case "on" -> true;
            case "off" -> false;
            default -> kubeConfigPresent();
        };
    }

    /** In-cluster (service account + KUBERNETES_SERVICE_HOST) or a kubeconfig ($KUBECONFIG, ~/.kube/config). */
    static boolean kubeConfigPresent() {
        if (System.getenv("KUBERNETES_SERVICE_HOST") != null
                && Files.exists(Path.of("/var/run/secrets/kubernetes.io/serviceaccount/token"))) {
            return true;
        }
        String kc = System.getenv("KUBECONFIG");
        if (kc != null && !kc.isBlank()) {
            return true;
        }
        return Files.exists(Path.of(System.getProperty("user.home"), ".kube", "config"));
    }

    private String nodeName() throws InputException {
        return NodeSource.nodeName(nodeName);
    }
}
