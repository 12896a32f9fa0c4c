package io.memwarden.nri;

import io.memwarden.model.CgroupVersion;
import io.memwarden.model.PodSpec;
import io.memwarden.nri.api.LinuxResources;
import io.memwarden.policy.Plan.ContainerPlan;
import io.memwarden.policy.Plan.PodPlan;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A container's plan and its provenance.
 *
 * @param requestDependent in degraded mode (Burstable, requests unknown): the planned files whose value depends
 *                         on the unknown request; a value the container already has for them (the kubelet's,
 *                         computed with the real request) is kept
 */
record Planned(ContainerPlan plan, PodPlan podPlan, PodSpec spec, String podKey, String source, boolean degraded,
               Set<String> requestDependent, List<String> reasons, NoswapMounts.Outcome mounts) {
    Planned(ContainerPlan plan, PodPlan podPlan, PodSpec spec, String podKey, String source, boolean degraded,
            Set<String> requestDependent, List<String> reasons) {
        this(plan, podPlan, spec, podKey, source, degraded, requestDependent, reasons, NoswapMounts.Outcome.NONE);
    }

    LinuxResources resources(CgroupVersion v, LinuxResources current) {
        return PlanToNri.resources(v, plan, current, requestDependent);
    }

    List<String> reasonsFor(CgroupVersion v, LinuxResources current) {
        List<String> r = new ArrayList<>(reasons);
        r.addAll(PlanToNri.kept(v, plan, current, requestDependent));
        return r;
    }
}
