package io.memwarden.policy;

import io.memwarden.model.ContainerSpec;
import io.memwarden.model.PodSpec;
import io.memwarden.model.Resources;
import java.util.ArrayList;
import java.util.List;

/**
 * The API server's defaulting of resource requests: a container (or pod-level stanza) with a cpu or memory limit and
 * no request for it gets request = limit. A manifest read from a file has not been through the API server; a pod
 * from the API has, and applying this again changes nothing.
 */
final class ApiDefaults {
    private ApiDefaults() {}

    /** A defaulted pod and the notes saying what was defaulted. */
    public record Defaulted(PodSpec pod, List<String> notes) {}

    public static Defaulted apply(PodSpec pod) {
        List<String> notes = new ArrayList<>();
        List<ContainerSpec> containers = new ArrayList<>();
        for (ContainerSpec c : pod.containers()) {
            Resources r = defaulted(c.resources(), "container " + c.name(), notes);
            containers.add(r == c.resources() ? c : c.withResources(r));
        }
        Resources podRes = pod.podResources().isSet()
                ? defaulted(pod.podResources(), "pod-level resources", notes) : pod.podResources();
        if (notes.isEmpty()) {
            return new Defaulted(pod, List.of());
        }
        return new Defaulted(new PodSpec(pod.namespace(), pod.name(), pod.uid(), pod.annotations(), pod.priority(),
                pod.priorityClassName(), pod.statusQosClass(), pod.overheadMemory(), podRes, containers, pod.labels(),
                pod.terminationGracePeriodSeconds()),
                notes);
    }

    private static Resources defaulted(Resources r, String who, List<String> notes) {
        var cpuReq = r.cpuRequest();
        Long memReq = r.memoryRequest();
        boolean changed = false;
        if (cpuReq == null && r.cpuLimit() != null) {
            cpuReq = r.cpuLimit();
            changed = true;
            notes.add(who + ": cpu request defaulted to its limit " + r.cpuLimit() + " (API server defaulting)");
        }
        if (memReq == null && r.memoryLimit() != null) {
            memReq = r.memoryLimit();
            changed = true;
            notes.add(who + ": memory request defaulted to its limit " + r.memoryLimit() + " (API server defaulting)");
        }
        return changed ? new Resources(cpuReq, r.cpuLimit(), memReq, r.memoryLimit()) : r;
    }
}
