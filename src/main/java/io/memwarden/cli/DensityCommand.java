package io.memwarden.cli;

import io.memwarden.density.DensityPlanner;
import io.memwarden.density.DensityReport;
import io.memwarden.input.ClusterReader;
import io.memwarden.input.InputException;
import io.memwarden.input.KubeVirtConfigReader;
import io.memwarden.input.KubeletConfigReader;
import io.memwarden.input.UsageReader;
import io.memwarden.input.WardenConfigReader;
import io.memwarden.model.Usage;
import io.memwarden.policy.KubeVirtConfig;
import io.memwarden.policy.KubeletSettings;
import io.memwarden.policy.WardenConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "density", mixinStandardHelpOptions = true,
        footerHeading = "%nExamples:%n",
        footer = {"  memwarden density --nodes examples/density-nodes.yaml \\",
                "      -f examples/density-workloads.yaml --usage examples/density-usage.yaml \\",
                "      --kubelet-config examples/kubelet-config.yaml",
                "  memwarden density --nodes examples/density-nodes.yaml \\",
                "      -f examples/density-workloads.yaml --vm-overcommit 150 -o json"},
        description = {"Pack a cluster's workloads onto its nodes as the kube-scheduler's filters would, under the"
                + " scenarios requested, right-sized (with --usage) and vm-overcommit (with VMs), and show the pods"
                + " placed and unplaced (with the scheduler's reason), each node's memory headroom and the gain.",
                "",
                "Exit codes: 0 planned (unplaced pods are a result); 1 some node or workload could not be read"
                + " (listed on stderr, the others still planned); 2 usage error or an unreadable file."})
final class DensityCommand implements Callable<Integer> {

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--nodes", required = true, paramLabel = "NODES.yaml",
            description = "Nodes as `kubectl get nodes -o yaml` prints them (v1 Node, List, multi-document YAML).")
    Path nodes;

    @Option(names = {"-f", "--filename"}, required = true, paramLabel = "WORKLOADS.yaml",
            description = "Pods (`kubectl get pods -A -o yaml`), Deployments, StatefulSets, ReplicaSets, Jobs,"
                    + " DaemonSets, KubeVirt VirtualMachineInstances and VirtualMachines.")
    Path workloads;

    @Option(names = "--usage", paramLabel = "USAGE.yaml",
            description = "Observed working sets: pods: [{namespace, name, workingSet, coldBytes, containers: [{name,"
                    + " workingSet, coldBytes}]}]; a name may be a workload's. Adds the right-sized scenario.")
    Path usage;

    @Option(names = "--kubelet-config", paramLabel = "KCFG.yaml",
            description = "A KubeletConfiguration (allocatable of nodes without status.allocatable, swap behavior).")
    Path kubeletConfig;

    @Option(names = "--config", paramLabel = "CFG.yaml", description = "memwarden's config (swap classes, memoryQos).")
    Path config;

    @Option(names = "--kubevirt-config", paramLabel = "KUBEVIRT.yaml",
            description = "The kubevirt.io/v1 KubeVirt CR (memoryOvercommit of the requested scenario).")
    Path kubevirtConfig;

    @Option(names = "--margin", paramLabel = "PERCENT", defaultValue = "" + DensityPlanner.DEFAULT_MARGIN_PERCENT,
            description = "Right-sized request = hot working set × (100 + PERCENT) / 100 (default: ${DEFAULT-VALUE}).")
    int margin;

    @Option(names = "--vm-overcommit", paramLabel = "PERCENT",
            defaultValue = "" + DensityPlanner.DEFAULT_VM_OVERCOMMIT_PERCENT,
            description = "memoryOvercommit of the vm-overcommit scenario (default: ${DEFAULT-VALUE}).")
    int vmOvercommit;

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table",
            description = "Output format: json, yaml or table (default: ${DEFAULT-VALUE}).")
    PlanOutput.Format output;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<String> errors = new ArrayList<>();
        DensityReport report;
        try {
            if (margin < 0 || margin > 1000) {
                throw new InputException("--margin: must be from 0 to 1000, got " + margin);
            }
            if (vmOvercommit < 10) {
                throw new InputException("--vm-overcommit: must be at least 10, got " + vmOvercommit);
            }
            KubeletSettings k = kubeletConfig == null ? KubeletSettings.DEFAULTS : KubeletConfigReader.read(kubeletConfig);
            WardenConfig cfg = config == null ? WardenConfig.DEFAULTS : WardenConfigReader.read(config);
            KubeVirtConfig kv = kubevirtConfig == null ? KubeVirtConfig.DEFAULTS
                    : KubeVirtConfigReader.read(kubevirtConfig);
            ClusterReader.Nodes n = ClusterReader.readNodes(nodes, k);
            ClusterReader.Workloads w = ClusterReader.readWorkloads(workloads);
            Usage u = usage == null ? null : UsageReader.readUsage(usage);
            errors.addAll(n.errors());
            errors.addAll(w.errors());
            try {
                report = DensityPlanner.plan(new DensityPlanner.Inputs(n.nodes(), w.workloads(), w.vms(), u, k, cfg,
                        kv, margin, vmOvercommit));
            } catch (IllegalArgumentException | ArithmeticException e) {
                throw new InputException(workloads + ": cannot be planned: " + e.getMessage(), e);
            }
        } catch (InputException e) {
            err.println("memwarden density: " + e.getMessage());
            return ExitCodes.USAGE;
        }
        DensityOutput.write(report, output, out);
        out.flush();
        for (String e : errors) {
            err.println("memwarden density: " + e);
        }
        return errors.isEmpty() ? ExitCodes.OK : ExitCodes.FAILURE;
    }
}
