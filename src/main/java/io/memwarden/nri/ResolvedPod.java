package io.memwarden.nri;

import io.memwarden.model.PodSpec;
import java.util.List;

/**
 * A pod spec for planning and where it came from.
 *
 * @param source   a short name of the source (for logs): "manifest PODS.yaml", "nri", ...
 * @param degraded true when the spec is reconstructed from partial data (memory requests unknown)
 * @param notes    what the reconstruction assumed; added in front of the plan's reasons
 */
record ResolvedPod(PodSpec spec, String source, boolean degraded, List<String> notes) {
    public ResolvedPod {
        notes = List.copyOf(notes);
    }
}
