package io.memwarden.agent;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which container of a pod each container cgroup in the pod's cgroup is (standalone mode). Pure.
 * <ul>
 *   <li>With container IDs (the Kubernetes API's {@code status.containerStatuses}): the ID names the container. An
 *       ID the pod does not list is left alone: the pod's sandbox (pause) container, or a container the kubelet has
 *       not reported yet (it is matched in a later round).</li>
 *   <li>Without (a static manifest): only a pod with exactly one container whose cgroup holds exactly one container
 *       cgroup besides its sandbox is matched; anything else is ambiguous and left alone. The sandbox is told by its
 *       processes (the caller's {@code sandboxes}: every process is the pause binary), and is left alone.</li>
 * </ul>
 */
final class StandaloneMatch {
    private StandaloneMatch() {}

    /** @param container the matched container's name, or null when the cgroup is left alone (then {@code why}) */
    public record Match(String container, String why) {
        public boolean matched() {
            return container != null;
        }
    }

    /**
     * @param pod the pod found by uid, or null when no source knows it
     * @param ids       the container IDs of the container cgroups in the pod's cgroup
     * @param sandboxes those of {@code ids} whose processes are all the pause binary (only asked without IDs)
     * @return ID → match, in the order of {@code ids}
     */
    public static Map<String, Match> match(String podUid, PodsByUid.Known pod, List<String> ids,
                                           java.util.Set<String> sandboxes, String sources) {
        Map<String, Match> out = new LinkedHashMap<>();
        List<String> candidates = ids.stream().filter(id -> !sandboxes.contains(id)).toList();
        for (String id : ids) {
            out.put(id, one(podUid, pod, candidates, sandboxes, id, sources));
        }
        return out;
    }

    private static Match one(String podUid, PodsByUid.Known pod, List<String> ids, java.util.Set<String> sandboxes,
                             String id, String sources) {
        if (pod == null) {
            return new Match(null, "no pod with uid " + podUid + " in " + sources);
        }
        String key = pod.spec().key();
        if (pod.idsKnown()) {
            String name = pod.containerNames().get(id);
            if (name == null) {
                return new Match(null, "ID " + id + " is not a container " + pod.source() + " lists for pod " + key
                        + " (the pod's sandbox, or a container not reported yet)");
            }
            if (pod.spec().containers().stream().noneMatch(c -> c.name().equals(name))) {
                return new Match(null, "container " + name + " (" + id + ") is not in pod " + key
                        + "'s spec (an ephemeral container?)");
            }
            return new Match(name, null);
        }
        if (sandboxes.contains(id)) {
            return new Match(null, "the sandbox of pod " + key + " (its processes are all pause)");
        }
        if (pod.spec().containers().size() == 1 && ids.size() == 1) {
            return new Match(pod.spec().containers().getFirst().name(), null);
        }
        return new Match(null, "ambiguous: pod " + key + " of " + pod.source() + " has "
                + pod.spec().containers().size() + " container(s) and its cgroup " + ids.size()
                + " container cgroup(s) besides its sandbox; without container IDs (the Kubernetes API's) only a"
                + " one-container pod with one container cgroup is matched");
    }
}
