package io.memwarden.cli;

import io.memwarden.cgroup.HostFacts;
import io.memwarden.cgroup.HostProbe;
import io.memwarden.input.InputException;
import io.memwarden.input.KubeletConfigReader;
import io.memwarden.k8s.ApiPresence;
import io.memwarden.kernel.NodeFeatures;
import io.memwarden.kernel.TmpfsNoswap;
import io.memwarden.model.CgroupFiles;
import io.memwarden.nri.RuntimeNriProbe;
import io.memwarden.policy.KubeletSettings;
import io.memwarden.view.Doctor;
import io.memwarden.view.DoctorFacts;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code memwarden doctor}: one read-only pass over the node, per capability whether it works here, why not and the
 * fix. Wiring only: the readings are cgroup.HostProbe, kernel.NodeFeatures, nri.RuntimeNriProbe, k8s.ApiPresence and
 * input.KubeletConfigReader; the judgement is view.Doctor.
 */
@Command(name = "doctor", mixinStandardHelpOptions = true,
        description = {"Check this node for memwarden (reads only, changes nothing): swap, cgroup version, memory QoS,"
                + " throttle relief, cold offload and its method, pressure guard (PSI), OOM watch, KSM, balloon,"
                + " zram/zswap, tmpfs noswap, NRI, the Kubernetes API and the kubelet's swap settings; each with the"
                + " fix when it will not work.",
                "Exit: 0 ready, 3 degraded (some capability will not work), 4 unusable (no cgroup memory controller),"
                + " 1 doctor itself failed, 2 usage."},
        footerHeading = "%nExamples:%n",
        footer = {"  memwarden doctor",
                "  memwarden doctor -o json --kubelet-config /var/lib/kubelet/config.yaml",
                "  memwarden doctor --nri-socket /run/containerd/nri/nri.sock"})
final class DoctorCommand implements Callable<Integer> {
    enum Format { text, json }

    @Spec
    CommandSpec spec;

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "text",
            description = "Output format: text or json (default: ${DEFAULT-VALUE}).")
    Format output;

    @Option(names = "--kubelet-config", paramLabel = "KCFG.yaml",
            description = "The kubelet's KubeletConfiguration, to check failSwapOn and swapBehavior against the node.")
    Path kubeletConfig;

    @Option(names = "--nri-socket", paramLabel = "PATH", defaultValue = RuntimeNriProbe.DEFAULT_SOCKET,
            description = "The NRI socket (default: ${DEFAULT-VALUE}).")
    String nriSocket;

    @Option(names = "--root", paramLabel = "DIR", defaultValue = "/",
            description = "Read the node below DIR (a node's / mounted elsewhere, or a test tree; default: /).")
    Path root;

    /** The environment the Kubernetes API presence is read from (tests set their own). */
    Map<String, String> env = System.getenv();

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        DoctorFacts facts;
        try {
            facts = facts(root, nriSocket, kubeletConfig, env);
        } catch (IOException | RuntimeException e) {
            err.println("memwarden doctor: cannot read the node below " + root + ": " + oneLine(e));
            return ExitCodes.FAILURE;
        }
        Doctor.Report report = Doctor.evaluate(facts);
        if (output == Format.json) {
            out.println(PlanOutput.JSON.writeValueAsString(json(facts, report)));
        } else {
            out.print(Doctor.text(facts, report));
        }
        out.flush();
        return exitCode(report.overall());
    }

    static int exitCode(Doctor.Overall o) {
        return switch (o) {
            case READY -> ExitCodes.OK;
            case DEGRADED -> ExitCodes.DOCTOR_DEGRADED;
            case UNUSABLE -> ExitCodes.DOCTOR_UNUSABLE;
        };
    }

    private static String oneLine(Exception e) {
        if (e instanceof java.nio.file.NoSuchFileException n) {
            return "no such file " + n.getFile();
        }
        if (e instanceof java.nio.file.AccessDeniedException a) {
            return "permission denied: " + a.getFile();
        }
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.replace('\n', ' ');
    }

    /** Reads the node below {@code root}: only reads (and one connect to the NRI socket). */
    static DoctorFacts facts(Path root, String nriSocket, Path kubeletConfig, Map<String, String> env)
            throws IOException {
        HostFacts h = new HostProbe(root).read();
        NodeFeatures k = NodeFeatures.read(root);
        RuntimeNriProbe.Result n = RuntimeNriProbe.probe(root, nriSocket);
        ApiPresence a = ApiPresence.read(root, env);
        // read-only: the kernel-version rule, never TmpfsNoswap.detect's test mount
        TmpfsNoswap.Support noswap = TmpfsNoswap.byRelease(h.kernelVersion(), "kernel-version rule, no test mount");
        DoctorFacts.Kubelet kubelet = null;
        if (kubeletConfig != null) {
            try {
                KubeletSettings s = KubeletConfigReader.read(kubeletConfig);
                kubelet = new DoctorFacts.Kubelet(kubeletConfig.toString(), null, s.failSwapOn(), s.swapBehavior());
            } catch (InputException e) {
                kubelet = new DoctorFacts.Kubelet(kubeletConfig.toString(), oneLine(e), true, null);
            }
        }
        return new DoctorFacts(h.kernelVersion(), k.effectiveUid(), h.memoryController(), h.hybrid(),
                relative(root, h.memoryMount()), h.swapAccounting(), h.hasCgroupFile(CgroupFiles.MEMORY_RECLAIM),
                h.psi(), h.memTotal(), h.swapTotal(), k.swapFree(), h.swapDevices(), h.zramDevices(),
                h.zswapEnabled(), k.mglru(), k.kmsgReadable(), k.dmesgRestrict(), k.ksmRun(), k.balloonDriver(),
                noswap.supported(), noswap.detection(),
                new DoctorFacts.Nri(n.socket(), DoctorFacts.SocketState.valueOf(n.state().name()), n.detail(),
                        n.config(), DoctorFacts.NriSetting.valueOf(n.setting().name()), n.configVersion()),
                new DoctorFacts.Kube(a.inClusterEnv(), a.serviceAccount(), a.kubeconfig()), kubelet);
    }

    private static String relative(Path root, Path p) {
        if (p == null) {
            return null;
        }
        Path r = root.toAbsolutePath().normalize();
        Path a = p.toAbsolutePath().normalize();
        return a.startsWith(r) ? "/" + r.relativize(a) : a.toString();
    }

    /** The JSON document: exact bytes, every fact, every capability (docs/operations.md, "doctor"). */
    static Map<String, Object> json(DoctorFacts f, Doctor.Report r) {
        Map<String, Object> node = new LinkedHashMap<>();
        node.put("kernel", f.kernelRelease());
        node.put("uid", f.effectiveUid());
        node.put("cgroupVersion", f.memoryController() == null ? null : f.memoryController().number());
        node.put("hybrid", f.hybrid());
        node.put("memoryMount", f.memoryMount());
        node.put("swapAccounting", f.swapAccounting());
        node.put("memoryReclaim", f.memoryReclaim());
        node.put("psi", f.psi());
        node.put("memTotalBytes", f.memTotal());
        node.put("swapTotalBytes", f.swapTotal());
        node.put("swapFreeBytes", f.swapFree());
        node.put("swapDevices", f.swapDevices());
        node.put("zramDevices", f.zramDevices());
        node.put("zswapEnabled", f.zswapEnabled());
        node.put("mglru", f.mglru());
        node.put("kmsgReadable", f.kmsgReadable());
        node.put("ksmRun", f.ksmRun());
        node.put("balloon", f.balloonDriver());
        node.put("tmpfsNoswap", f.tmpfsNoswap());
        Map<String, Object> nri = new LinkedHashMap<>();
        nri.put("socket", f.nri().socket());
        nri.put("socketState", f.nri().socketState().name().toLowerCase(java.util.Locale.ROOT));
        nri.put("containerdConfig", f.nri().containerdConfig());
        nri.put("containerdNri", f.nri().setting().name().toLowerCase(java.util.Locale.ROOT));
        node.put("nri", nri);
        Map<String, Object> kube = new LinkedHashMap<>();
        kube.put("inClusterEnv", f.kube().inClusterEnv());
        kube.put("serviceAccountToken", f.kube().serviceAccount());
        kube.put("kubeconfig", f.kube().kubeconfig());
        node.put("kubernetes", kube);
        if (f.kubelet() != null) {
            Map<String, Object> k = new LinkedHashMap<>();
            k.put("config", f.kubelet().path());
            k.put("error", f.kubelet().error());
            k.put("failSwapOn", f.kubelet().error() == null ? f.kubelet().failSwapOn() : null);
            k.put("swapBehavior", f.kubelet().swapBehavior() == null ? null : f.kubelet().swapBehavior().configName());
            node.put("kubelet", k);
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("overall", r.overall().text());
        doc.put("exitCode", exitCode(r.overall()));
        doc.put("node", node);
        List<Map<String, Object>> caps = r.capabilities().stream().map(c -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", c.name());
            m.put("status", c.status().text());
            m.put("detail", c.detail());
            m.put("fix", c.fix());
            return m;
        }).toList();
        doc.put("capabilities", caps);
        return doc;
    }
}
