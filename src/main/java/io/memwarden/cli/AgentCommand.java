package io.memwarden.cli;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.memwarden.agent.Agent;
import io.memwarden.agent.AgentConfig;
import io.memwarden.agent.AgentConfigReader;
import io.memwarden.agent.PodsByUid;
import io.memwarden.agent.StartupChecks;
import io.memwarden.api.ListenAddress;
import io.memwarden.cgroup.HostFacts;
import io.memwarden.model.Clock;
import io.memwarden.input.InputException;
import io.memwarden.input.KubeletConfigReader;
import io.memwarden.input.PodManifestReader;
import io.memwarden.k8s.ClusterActions;
import io.memwarden.k8s.NodePods;
import io.memwarden.model.NodeFacts;
import io.memwarden.nri.FirstOfPodSource;
import io.memwarden.nri.LookupPodSource;
import io.memwarden.nri.ManifestPodSource;
import io.memwarden.nri.NriPlugin;
import io.memwarden.nri.PodSpecSource;
import io.memwarden.policy.KubeletSettings;
import io.memwarden.policy.Plan;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "agent", mixinStandardHelpOptions = true,
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
    picocli.CommandLine.Model.CommandSpec spec;

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

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        if (standalone) {
            var parsed = spec.commandLine().getParseResult();
            for (String nriOnly : new String[] {"--nri-socket", "--nri-index"}) {
                if (parsed.hasMatchedOption(nriOnly)) {
                    err.println("memwarden agent: --standalone and " + nriOnly + " exclude each other (standalone"
                            + " mode does not use NRI)");
                    return ExitCodes.USAGE;
                }
            }
        }
        HostFacts host;
        NodeFacts nf;
        KubeletSettings k;
        AgentConfig cfg;
        ListenAddress listenAddress = null;
        try {
            host = NodeSource.host();
            nf = NodeSource.node(node, host);
            if (nf.cgroupVersion() != host.memoryController()) {
                throw new InputException("--node " + node + " says cgroup v" + nf.cgroupVersion().number()
                        + " but this host's memory controller is cgroup v" + host.memoryController().number());
            }
            k = kubeletConfig == null ? KubeletSettings.DEFAULTS : KubeletConfigReader.read(kubeletConfig);
            cfg = config == null ? AgentConfig.DEFAULTS : AgentConfigReader.read(config);
            if (dryRun) {
                AgentConfig.Loops l = cfg.loops();
                cfg = cfg.withLoops(l.withDryRun(true));
            }
            if (statusFromNetwork) {
                cfg = cfg.withAgent(cfg.agent().withStatusFromNetwork(true));
            }
            String where = listen != null ? listen : cfg.agent().listen();
            if (!where.equals("off")) {
                try {
                    io.memwarden.api.ApiLimits.configure();
                } catch (io.memwarden.api.ApiLimits.Invalid e) {
                    throw new InputException(e.getMessage());
                }
                try {
                    listenAddress = ListenAddress.parse(where);
                } catch (IllegalArgumentException e) {
                    throw new InputException((listen != null ? "--listen " : "agent.listen ") + e.getMessage());
                }
                if (!listenAddress.loopback()) {
                    err.println("memwarden agent: note: the status API listens on " + where + ", not a loopback"
                            + " address: /metrics and /healthz are reachable from the network (read-only); /status "
                            + (cfg.agent().statusFromNetwork() ? "too (statusFromNetwork)"
                                    : "is served to loopback clients only"));
                }
            }
            if (kube != null && !kube.matches("auto|on|off")) {
                throw new InputException("--kube: \"" + kube + "\" is not one of auto, on, off");
            }
        } catch (InputException e) {
            err.println("memwarden agent: " + e.getMessage());
            return ExitCodes.USAGE;
        }
        Plan.NodePlan nodePlan;
        try {
            nodePlan = Agent.nodePlan(nf, k, cfg);
        } catch (IllegalArgumentException e) {
            err.println("memwarden agent: " + (kubeletConfig != null ? kubeletConfig + ": " : "") + e.getMessage());
            return ExitCodes.USAGE;
        }
        StartupChecks.Result checks = StartupChecks.check(host, nodePlan, k, cfg);
        for (StartupChecks.Finding f : checks.findings()) {
            err.println("memwarden agent: " + f);
        }
        err.flush();
        if (checks.refuse()) {
            err.println("memwarden agent: not starting (see the errors above)");
            return ExitCodes.USAGE;
        }

        NodePods nodePods = null;
        ClusterActions cluster = ClusterActions.NONE;
        PodSpecSource source = null;
        PodsByUid byUid = null;
        try {
            if (pods != null && !standalone) {
                // bound while the plugin registers (NriCommand.manifestSource)
                source = NriCommand.manifestSource(pods, PodManifestReader.readItems(pods), err, "memwarden agent: ");
            } else if (pods != null) {
                PodManifestReader.Result r = PodManifestReader.read(pods);
                for (Plan.PlanError e : r.errors()) {
                    err.println("memwarden agent: " + pods + ": " + e.pod() + ": " + e.message() + " (pod skipped)");
                }
                source = new ManifestPodSource(pods.toString(), r.pods());
                for (var p : r.pods()) {
                    if (p.uid().isEmpty()) {
                        err.println("memwarden agent: " + pods + ": " + p.key() + " has no metadata.uid: standalone"
                                + " mode finds pods by uid, so its containers are left alone");
                    }
                }
                byUid = PodsByUid.manifest(pods.toString(), r.pods());
            }
            if (useKube(cfg)) {
                String name = nodeName();
                KubernetesClient client = new KubernetesClientBuilder().build();
                nodePods = new NodePods(client, name, !cfg.kubernetes().watchAllPods());
                if (!nodePods.start(Duration.ofSeconds(5))) {
                    err.println("memwarden agent: the pods of node " + name + " are not listed yet; containers"
                            + (standalone ? " are left alone until they are" : " fall back to NRI data until they are"));
                }
                String apiName = "kubernetes API (node " + name + ")";
                PodSpecSource api = new LookupPodSource(apiName, nodePods::find, nodePods::onChange);
                source = source == null ? api : new FirstOfPodSource(source, api);
                NodePods cache = nodePods;
                PodsByUid apiByUid = new PodsByUid() {
                    @Override
                    public java.util.Optional<Known> find(String uid) throws InputException {
                        return cache.byUid(uid).map(p -> new Known(p.spec(), p.containerNames(), true, apiName));
                    }

                    @Override
                    public String describe() {
                        return apiName;
                    }
                };
                byUid = byUid == null ? apiByUid : PodsByUid.firstOf(byUid, apiByUid);
                // every part on: the agent gates events, evictions and node marking by its (reloadable) config
                cluster = new io.memwarden.k8s.KubeCluster(client, name);
                err.println("memwarden agent: Kubernetes API " + client.getMasterUrl() + ", node " + name);
            } else {
                err.println("memwarden agent: no Kubernetes API (pod specs from " + (pods != null ? pods
                        : standalone ? "nowhere" : "NRI only") + "; evictions kill with SIGKILL via pidfd; no events)");
            }
            if (standalone && byUid == null) {
                throw new InputException("--standalone needs pod specs: the Kubernetes API (--kube on, or a"
                        + " kubeconfig) or --pods PODS.yaml");
            }
        } catch (InputException e) {
            err.println("memwarden agent: " + e.getMessage());
            return ExitCodes.USAGE;
        } catch (RuntimeException e) {
            err.println("memwarden agent: Kubernetes API: " + e.getMessage());
            return ExitCodes.USAGE;
        }
        NriPlugin.Options pluginOptions;
        try {
            pluginOptions = NriPlugin.Options.DEFAULTS.withIndex(nriIndex);
        } catch (IllegalArgumentException e) {
            err.println("memwarden agent: --nri-index: " + e.getMessage());
            return ExitCodes.USAGE;
        }
        Agent agent = new Agent(new Agent.Setup(host, nf, k, cfg, config, nriSocket, pluginOptions, source, cluster,
                listenAddress, Files.isReadable(Path.of("/dev/kmsg")), Clock.SYSTEM,
                standalone ? new Agent.Standalone(byUid, null) : null), checks.offloadPossible());
        // SIGTERM/SIGINT: the orderly stop below, exit 0 (StopSignals); the hook covers SIGHUP and System.exit
        Thread hook = new Thread(agent::close, "memwarden-agent-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        StopSignals signals = StopSignals.install("memwarden agent: ", err, agent::close);
        try {
            agent.startNri();
            // the registration first (it has a deadline; a start is CPU-bound), then the API, watches and loops
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
        } catch (java.io.IOException e) {
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
