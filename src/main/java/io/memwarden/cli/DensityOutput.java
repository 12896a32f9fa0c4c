package io.memwarden.cli;

import io.memwarden.density.DensityReport;
import io.memwarden.model.HumanBytes;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Renders a density report as JSON, YAML or tables; all three show the same data. */
final class DensityOutput {
    private DensityOutput() {}

    static void write(DensityReport r, PlanOutput.Format format, PrintWriter out) {
        switch (format) {
            case json -> out.println(PlanOutput.JSON.writeValueAsString(r));
            case yaml -> out.print(PlanOutput.YAML.writeValueAsString(r));
            case table -> table(r, out);
        }
    }

    private static void table(DensityReport r, PrintWriter out) {
        List<String[]> sum = new ArrayList<>();
        sum.add(new String[] {"SCENARIO", "PLACED", "UNPLACED", "GAIN"});
        for (DensityReport.Scenario s : r.scenarios()) {
            sum.add(new String[] {s.name(), Integer.toString(s.placed()), Integer.toString(s.unplaced().size()),
                    String.format(Locale.ROOT, "%.3f", s.gain())});
        }
        rows(sum, out);
        for (DensityReport.Scenario s : r.scenarios()) {
            out.println();
            out.println("SCENARIO " + s.name());
            List<String[]> nodes = new ArrayList<>();
            nodes.add(new String[] {"NODE", "ALLOCATABLE", "REQUESTED", "PODS", "HEADROOM"});
            for (DensityReport.NodeUse n : s.nodes()) {
                nodes.add(new String[] {n.name(), HumanBytes.of(n.allocatableMemoryBytes()),
                        HumanBytes.of(n.requestedMemoryBytes()), Integer.toString(n.pods()),
                        HumanBytes.of(n.headroomBytes())});
            }
            rows(nodes, out);
            if (!s.unplaced().isEmpty()) {
                List<String[]> un = new ArrayList<>();
                un.add(new String[] {"UNPLACED", "REASON"});
                for (DensityReport.Unplaced u : s.unplaced()) {
                    un.add(new String[] {u.namespace() + "/" + u.name(), u.reason()});
                }
                rows(un, out);
            }
        }
        if (!r.warnings().isEmpty()) {
            out.println();
            out.println("WARNINGS");
            for (String w : r.warnings()) {
                out.println("  " + w);
            }
        }
        out.println();
        out.println("(sizes in binary units, exact unless they have a decimal point; exact bytes: -o json or -o yaml)");
    }

    /** Left-aligned columns, the last one unpadded. */
    private static void rows(List<String[]> rows, PrintWriter out) {
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
}
