package io.memwarden.cli;

import io.memwarden.input.InputException;
import io.memwarden.input.KubeVirtConfigReader;
import io.memwarden.input.KubeletConfigReader;
import io.memwarden.input.NodeFactsReader;
import io.memwarden.input.PodManifestReader;
import io.memwarden.input.UsageReader;
import io.memwarden.input.WardenConfigReader;
import io.memwarden.model.NodeFacts;
import io.memwarden.model.PodSpec;
import io.memwarden.model.VmiSpec;
import io.memwarden.policy.KubeVirtConfig;
import io.memwarden.policy.KubeVirtResources;
import io.memwarden.policy.KubeletSettings;
import io.memwarden.policy.Plan;
import io.memwarden.policy.Plan.PlanError;
import io.memwarden.policy.Planner;
import io.memwarden.policy.VirtLaunchers;
import io.memwarden.policy.WardenConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "plan", mixinStandardHelpOptions = true,
        footerHeading = "%nExamples:%n",
        footer = {"  memwarden plan --node examples/node.yaml \\",
                "      --kubelet-config examples/kubelet-config.yaml \\",
                "      --config examples/memwarden.yaml -f examples/pods.yaml -o table",
                "  memwarden plan --node examples/node.yaml -f examples/vms.yaml \\",
                "      --kubevirt-config examples/kubevirt.yaml -o json",
                "  memwarden plan --node auto -f examples/pods.yaml \\",
                "      --usage examples/usage.yaml"},
        description = {"Compute every container's memory cgroup values for the given pods on the given node, with"
                + " the reasons for each value.",
                "",
                "Exit codes: 0 every pod planned; 1 some pod/container failed (listed in errors, the others still"
                + " planned); 2 usage error or invalid node/config file."})
final class PlanCommand implements Callable<Integer> {

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--node", required = true, paramLabel = "NODE.yaml|auto",
            description = "Node facts: memoryCapacity, swapCapacity, cgroupVersion, swapControllerAvailable, pageSize,"
                    + " allocatableMemory, kernelVersion; 'auto' detects this host.")
    String node;

    @Option(names = "--kubelet-config", paramLabel = "KCFG.yaml",
            description = "A KubeletConfiguration document (default: the kubelet's 1.37 defaults).")
    Path kubeletConfig;

    @Option(names = "--config", paramLabel = "CFG.yaml", description = "memwarden's config (memoryQos, swap, annotations).")
    Path config;

    @Option(names = {"-f", "--filename"}, required = true, paramLabel = "PODS.yaml",
            description = "Pod manifests: v1 Pod, v1 List of Pods, multi-document YAML; kubevirt.io/v1"
                    + " VirtualMachineInstance and VirtualMachine documents beside them.")
    Path pods;

    @Option(names = "--kubevirt-config", paramLabel = "KUBEVIRT.yaml",
            description = "The kubevirt.io/v1 KubeVirt CR (memoryOvercommit, additionalGuestMemoryOverheadRatio);"
                    + " default: KubeVirt's defaults.")
    Path kubevirtConfig;

    @Option(names = "--usage", paramLabel = "USAGE.yaml",
            description = "Working sets (pods: [{namespace, name, workingSet}]); adds the kubelet's eviction order.")
    Path usage;

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table",
            description = "Output format: json, yaml or table (default: ${DEFAULT-VALUE}).")
    PlanOutput.Format output;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Plan plan;
        try {
            NodeFacts nodeFacts = node.equals("auto") ? NodeSource.host().toNodeFacts() : NodeFactsReader.read(Path.of(node));
            KubeletSettings k = kubeletConfig == null ? KubeletSettings.DEFAULTS : KubeletConfigReader.read(kubeletConfig);
            WardenConfig cfg = config == null ? WardenConfig.DEFAULTS : WardenConfigReader.read(config);
            KubeVirtConfig kv = kubevirtConfig == null ? KubeVirtConfig.DEFAULTS
                    : KubeVirtConfigReader.read(kubevirtConfig);
            PodManifestReader.Result manifests = PodManifestReader.read(pods);
            List<PodSpec> podSpecs = new ArrayList<>(manifests.pods());
            List<PlanError> inputErrors = new ArrayList<>(manifests.errors());
            List<KubeVirtResources.VirtualMachinePlan> vms = null;
            if (manifests.hadVms() || kubevirtConfig != null) {
                // a VMI whose real virt-launcher pod is in the input is sized with the overhead that pod publishes,
                // and that pod is planned instead of memwarden's rendering
                VirtLaunchers.Sized sized = VirtLaunchers.size(manifests.vms(), podSpecs, kv, nodeFacts.architecture());
                vms = sized.vms().stream().map(KubeVirtResources.Rendered::plan).toList();
                podSpecs = new ArrayList<>(sized.pods());
                for (VirtLaunchers.Failure f : sized.errors()) {
                    VmiSpec vmi = f.vmi();
                    inputErrors.add(new PlanError(vmi.key(), null, pods + ": " + vmi.kind() + " " + vmi.key()
                            + ": cannot be sized: " + f.message()));
                }
            }
            Map<String, Long> ws = null;
            if (usage != null) {
                ws = UsageReader.read(usage);
                Set<String> known = new HashSet<>();
                podSpecs.forEach(p -> known.add(p.key()));
                manifests.errors().forEach(e -> known.add(e.pod()));
                for (String key : ws.keySet()) {
                    if (!known.contains(key)) {
                        throw new InputException(usage + ": pods: entry for " + key + ", which is not in " + pods);
                    }
                }
            }
            Planner planner;
            try {
                planner = new Planner(nodeFacts, k, cfg);
            } catch (IllegalArgumentException e) {
                throw new InputException((kubeletConfig != null ? kubeletConfig : node) + ": " + e.getMessage(), e);
            }
            plan = planner.plan(podSpecs, ws, inputErrors, vms);
        } catch (InputException e) {
            err.println("memwarden plan: " + e.getMessage());
            return ExitCodes.USAGE;
        }
        PlanOutput.write(plan, output, out);
        out.flush();
        for (String e : plan.node().errors()) {
            err.println("memwarden plan: node: " + e);
        }
        for (Plan.PlanError e : plan.errors()) {
            err.println("memwarden plan: " + e.pod() + (e.container() == null ? "" : " container " + e.container())
                    + ": " + e.message());
        }
        return plan.hasErrors() ? ExitCodes.FAILURE : ExitCodes.OK;
    }
}
