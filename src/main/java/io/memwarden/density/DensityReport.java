package io.memwarden.density;

import java.util.List;

/**
 * The planner's answer; field names are the {@code memwarden density -o json} contract (docs/density.md).
 *
 * @param warnings one line each, prefixed by the scenario they are about where they are about one
 */
public record DensityReport(List<Scenario> scenarios, List<String> warnings) {
    public DensityReport {
        scenarios = List.copyOf(scenarios);
        warnings = List.copyOf(warnings);
    }

    /**
     * @param name   requested, right-sized or vm-overcommit
     * @param gain   placed / placed of {@code requested} (1 when both are 0), three decimals
     */
    public record Scenario(String name, int placed, List<Unplaced> unplaced, List<NodeUse> nodes, double gain) {
        public Scenario {
            unplaced = List.copyOf(unplaced);
            nodes = List.copyOf(nodes);
        }
    }

    public record Unplaced(String namespace, String name, String reason) {}

    /** @param headroomBytes allocatable − requested; negative when bound pods hold more than allocatable */
    public record NodeUse(String name, long allocatableMemoryBytes, long requestedMemoryBytes, int pods,
                          long headroomBytes) {}
}
