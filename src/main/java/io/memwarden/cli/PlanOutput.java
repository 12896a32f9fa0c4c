package io.memwarden.cli;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.memwarden.model.HumanBytes;
import io.memwarden.policy.KubeVirtResources;
import io.memwarden.policy.Plan;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import tools.jackson.core.util.DefaultIndenter;
import tools.jackson.core.util.DefaultPrettyPrinter;
import tools.jackson.core.util.Separators;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.dataformat.yaml.YAMLMapper;

/** Renders a plan as JSON, YAML or a table; all three show the same data. */
final class PlanOutput {
    private PlanOutput() {}

    enum Format { json, yaml, table }

    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .defaultPrettyPrinter(new DefaultPrettyPrinter()
                    .withArrayIndenter(DefaultIndenter.SYSTEM_LINEFEED_INSTANCE)
                    .withSeparators(Separators.createDefaultInstance()
                            .withObjectNameValueSpacing(Separators.Spacing.AFTER)
                            .withArrayEmptySeparator("")
                            .withObjectEmptySeparator("")))
            .changeDefaultPropertyInclusion(i -> i.withValueInclusion(JsonInclude.Include.NON_NULL))
            .addMixIn(KubeVirtResources.ComputeContainer.class, NullLimit.class)
            .build();
    static final ObjectMapper YAML = YAMLMapper.builder()
            .changeDefaultPropertyInclusion(i -> i.withValueInclusion(JsonInclude.Include.NON_NULL))
            .addMixIn(KubeVirtResources.ComputeContainer.class, NullLimit.class)
            .build();

    /** {@code computeContainer.limitBytes} is written as null when there is no limit (docs/plan-output.md). */
    @JsonInclude(JsonInclude.Include.ALWAYS)
    private abstract static class NullLimit {}

    static void write(Plan plan, Format format, PrintWriter out) {
        switch (format) {
            case json -> out.println(JSON.writeValueAsString(plan));
            case yaml -> out.print(YAML.writeValueAsString(plan));
            case table -> table(plan, out);
        }
    }

    private static void table(Plan plan, PrintWriter out) {
        Plan.NodePlan n = plan.node();
        out.printf("NODE  memory %s  swap %s  cgroup v%d  allocatable %s  swapBehavior %s%n",
                HumanBytes.of(n.memoryCapacityBytes()), HumanBytes.of(n.swapCapacityBytes()), n.cgroupVersion(),
                HumanBytes.of(n.allocatableMemoryBytes()), n.swapBehavior());
        for (String e : n.errors()) {
            out.println("  error: " + e);
        }
        for (String w : n.warnings()) {
            out.println("  warning: " + w);
        }
        n.qosCgroups().forEach((cg, files) -> out.println("  " + cg + ": " + files(files)));
        out.println();
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"POD", "QOS", "CRITICAL", "CONTAINER", "INIT", "SWAP", "OOM_ADJ", "CGROUP"});
        for (Plan.PodPlan p : plan.pods()) {
            rows.add(new String[] {p.namespace() + "/" + p.name(), p.qosClass(), p.critical() ? "yes" : "no", "(pod)",
                    "", "", "", files(p.podCgroup())});
            for (Plan.ContainerPlan c : p.containers()) {
                rows.add(new String[] {"", "", "", c.name(), c.init() ? "yes" : "no", c.swapBehavior(),
                        Integer.toString(c.oomScoreAdj()), files(c.cgroup())});
            }
        }
        printRows(rows, out);
        if (plan.virtualMachines() != null) {
            out.println();
            List<String[]> vm = new ArrayList<>();
            vm.add(new String[] {"VM", "ARCH", "QOS", "GUEST", "OVERHEAD", "REQUEST", "LIMIT", "OVERHEAD PARTS"});
            for (KubeVirtResources.VirtualMachinePlan v : plan.virtualMachines()) {
                Long lim = v.computeContainer().limitBytes();
                vm.add(new String[] {v.namespace() + "/" + v.name(), v.architecture(), v.qosClass(),
                        HumanBytes.of(v.guestMemoryBytes()), HumanBytes.of(v.overheadBytes()),
                        HumanBytes.of(v.computeContainer().requestBytes()), lim == null ? "-" : HumanBytes.of(lim),
                        v.overhead().entrySet().stream().map(e -> e.getKey() + "=" + HumanBytes.of(e.getValue()))
                                .collect(Collectors.joining(" "))});
            }
            printRows(vm, out);
            for (KubeVirtResources.VirtualMachinePlan v : plan.virtualMachines()) {
                for (String r : v.reasons()) {
                    if (r.startsWith("warning: ")) {
                        out.println("  " + v.namespace() + "/" + v.name() + ": " + r);
                    }
                }
            }
        }
        if (plan.evictionOrder() != null) {
            out.println();
            out.println("EVICTION ORDER (memory signal, first evicted first): " + String.join(", ", plan.evictionOrder()));
        }
        if (!plan.errors().isEmpty()) {
            out.println();
            out.println("ERRORS");
            for (Plan.PlanError e : plan.errors()) {
                out.println("  " + e.pod() + (e.container() == null ? "" : ":" + e.container()) + ": " + e.message());
            }
        }
        out.println();
        out.println("(sizes in binary units, exact unless they have a decimal point; exact bytes and the reasons for"
                + " every value: -o json or -o yaml)");
    }

    /** Left-aligned columns, the last one unpadded. */
    private static void printRows(List<String[]> rows, PrintWriter out) {
        int[] w = new int[rows.getFirst().length];
        for (String[] r : rows) {
            for (int i = 0; i < r.length - 1; i++) {
                w[i] = Math.max(w[i], r[i].length());
            }
        }
        for (String[] r : rows) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < r.length; i++) {
                sb.append(i < r.length - 1 ? String.format("%-" + w[i] + "s  ", r[i]) : r[i]);
            }
            out.println(sb.toString().stripTrailing());
        }
    }

    private static String files(Map<String, String> files) {
        if (files.isEmpty()) {
            return "-";
        }
        return files.entrySet().stream().map(e -> e.getKey() + "=" + HumanBytes.cgroupValue(e.getKey(), e.getValue()))
                .collect(Collectors.joining(" "));
    }
}
