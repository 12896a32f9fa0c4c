package io.memwarden.nri;

import io.memwarden.model.ContainerKind;
import io.memwarden.model.ContainerSpec;
import io.memwarden.model.PodSpec;
import io.memwarden.model.QosClass;
import io.memwarden.model.Resources;
import io.memwarden.nri.api.Container;
import io.memwarden.nri.api.PodSandbox;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The degraded pod view built from NRI data alone, for pods no other source knows. What NRI carries: the pod's
 * identity and annotations, each container's name and memory limit ({@code LinuxMemory.limit}), and the cgroup
 * parent, which names the QoS class the kubelet chose ({@code kubepods-burstable…}, {@code kubepods/besteffort/…},
 * else Guaranteed). What it lacks: memory requests and the pod's priority.
 * <ul>
 *   <li>Guaranteed: request = limit (that is what Guaranteed means), exact;</li>
 *   <li>BestEffort: no request, no limit, exact;</li>
 *   <li>Burstable: the request is unknown and taken as absent, so request-proportional values degrade:
 *       LimitedSwap gives no swap (as NoSwap), memory.min/memory.low are not written, memory.high uses a zero
 *       request, and oom_score_adj is left to the kubelet.</li>
 * </ul>
 * Priority is unknown: only static and mirror pods (annotations) are recognised as critical.
 */
final class NriPodSource implements PodSpecSource {

    @Override
    public Optional<ResolvedPod> lookup(PodQuery q) {
        PodSandbox sb = q.pod();
        List<String> notes = new ArrayList<>();
        String parent = cgroupParent(q);
        QosClass qos = inferQos(parent);
        notes.add("pod spec unavailable: built from NRI data (degraded): qosClass " + qos + " inferred from cgroup"
                + " parent \"" + parent + "\"");
        List<ContainerSpec> containers = new ArrayList<>();
        boolean limitsKnown = true;
        for (Container c : q.containers()) {
            Long limit = limitOf(c);
            if (limit == null && qos != QosClass.BEST_EFFORT) {
                limitsKnown = false;
            }
            Long request = qos == QosClass.GUARANTEED ? limit : null;
            containers.add(new ContainerSpec(c.getName(), ContainerKind.REGULAR, new Resources(null, null, request,
                    limit)));
        }
        switch (qos) {
            case GUARANTEED -> notes.add("Guaranteed: memory request = memory limit");
            case BURSTABLE -> notes.add("Burstable: memory requests unknown (taken as absent): LimitedSwap falls back"
                    + " to NoSwap, memory.min/memory.low not written, memory.high computed without the request,"
                    + " oom_score_adj left to the kubelet");
            case BEST_EFFORT -> { }
        }
        if (!limitsKnown) {
            notes.add("some container's memory limit is not in the NRI data");
        }
        notes.add("priority unknown: only static and mirror pods are recognised as critical");
        PodSpec spec = new PodSpec(sb.getNamespace(), sb.getName(), sb.getUid(), sb.getAnnotationsMap(), null, null,
                qos, null, Resources.NONE, containers);
        return Optional.of(new ResolvedPod(spec, describe(), true, notes));
    }

    @Override
    public String describe() {
        return "nri";
    }

    /** The pod's cgroup parent, else the container's cgroups path, else the pod's cgroups path; "" if none. */
    static String cgroupParent(PodQuery q) {
        PodSandbox sb = q.pod();
        if (sb.hasLinux() && !sb.getLinux().getCgroupParent().isEmpty()) {
            return sb.getLinux().getCgroupParent();
        }
        if (q.container() != null && q.container().hasLinux() && !q.container().getLinux().getCgroupsPath().isEmpty()) {
            return q.container().getLinux().getCgroupsPath();
        }
        return sb.hasLinux() ? sb.getLinux().getCgroupsPath() : "";
    }

    /** The kubelet's QoS cgroup naming, both cgroup drivers: {@code kubepods-burstable-pod….slice}, {@code /kubepods/besteffort/pod…}. */
    static QosClass inferQos(String cgroupParent) {
        String p = cgroupParent.toLowerCase(Locale.ROOT);
        if (p.contains("kubepods-besteffort") || p.contains("kubepods/besteffort")) {
            return QosClass.BEST_EFFORT;
        }
        if (p.contains("kubepods-burstable") || p.contains("kubepods/burstable")) {
            return QosClass.BURSTABLE;
        }
        return QosClass.GUARANTEED;
    }

    /** The container's memory limit in bytes, null when absent or not positive (unlimited). */
    static Long limitOf(Container c) {
        if (c.hasLinux() && c.getLinux().hasResources() && c.getLinux().getResources().hasMemory()
                && c.getLinux().getResources().getMemory().hasLimit()) {
            long l = c.getLinux().getResources().getMemory().getLimit().getValue();
            return l > 0 ? l : null;
        }
        return null;
    }
}
