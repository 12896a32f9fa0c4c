package io.memwarden.nri;

import io.memwarden.nri.api.Container;
import io.memwarden.nri.api.PodSandbox;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Tells the observer (the agent: a pod event) of every container the plugin could not plan. */
final class PlanFailures {
    private static final Logger LOG = LoggerFactory.getLogger(NriPlugin.class);

    private volatile NriPlugin.PlanFailureObserver observer = (ns, p, uid, c, m) -> { };

    void observe(NriPlugin.PlanFailureObserver o) {
        this.observer = o;
    }

    /** Reports that {@code c} of {@code pod} did not plan; an observer's failure is logged, never thrown. */
    void report(PodSandbox pod, Container c, String message) {
        try {
            observer.failed(pod.getNamespace(), pod.getName(), pod.getUid(), c.getName(), message);
        } catch (RuntimeException e) {
            LOG.warn("reporting the plan failure of {}/{}:{} failed", pod.getNamespace(), pod.getName(), c.getName(), e);
        }
    }
}
