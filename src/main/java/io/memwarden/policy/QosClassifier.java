package io.memwarden.policy;

import io.memwarden.model.ContainerSpec;
import io.memwarden.model.KubeQuantity;
import io.memwarden.model.PodSpec;
import io.memwarden.model.QosClass;
import io.memwarden.model.Resources;
import java.math.BigDecimal;

/**
 * Pod QoS class exactly as the kubelet's {@code ComputePodQOS} (kubelet-semantics §3): only cpu and memory count, zero
 * quantities are ignored, init and sidecar containers count; requests and limits are summed over containers and the
 * sums compared; with pod-level resources (gate on, non-empty stanza) only the pod-level stanza decides.
 */
final class QosClassifier {
    private QosClassifier() {}

    /** {@code status.qosClass} when set (the kubelet prefers it), otherwise computed. */
    public static QosClass classify(PodSpec pod, boolean podLevelResourcesGate) {
        return pod.statusQosClass() != null ? pod.statusQosClass() : compute(pod, podLevelResourcesGate);
    }

    /** Whether the pod-level stanza decides (PodLevelResources on, {@code spec.resources} non-empty). */
    public static boolean podLevelDecides(PodSpec pod, boolean podLevelResourcesGate) {
        return podLevelResourcesGate && pod.podResources().isSet();
    }

    public static QosClass compute(PodSpec pod, boolean podLevelResourcesGate) {
        Sums s = new Sums();
        if (podLevelDecides(pod, podLevelResourcesGate)) {
            s.add(pod.podResources());
        } else {
            for (ContainerSpec c : pod.containers()) {
                s.add(c.resources());
            }
        }
        boolean anyRequest = s.cpuReq != null || s.memReq != null;
        boolean anyLimit = s.cpuLim != null || s.memLim != null;
        if (!anyRequest && !anyLimit) {
            return QosClass.BEST_EFFORT;
        }
        boolean guaranteed = s.allHaveBothLimits;
        if (guaranteed) {
            // every present request must have an equal limit
            if (s.cpuReq != null && (s.cpuLim == null || s.cpuLim.compareTo(s.cpuReq) != 0)) {
                guaranteed = false;
            }
            if (s.memReq != null && (s.memLim == null || s.memLim.compareTo(s.memReq) != 0)) {
                guaranteed = false;
            }
        }
        int nReq = (s.cpuReq != null ? 1 : 0) + (s.memReq != null ? 1 : 0);
        int nLim = (s.cpuLim != null ? 1 : 0) + (s.memLim != null ? 1 : 0);
        return guaranteed && nReq == nLim ? QosClass.GUARANTEED : QosClass.BURSTABLE;
    }

    private static final class Sums {
        BigDecimal cpuReq;
        BigDecimal cpuLim;
        BigDecimal memReq;
        BigDecimal memLim;
        boolean allHaveBothLimits = true;

        void add(Resources r) {
            cpuReq = plus(cpuReq, r.cpuRequest());
            memReq = plus(memReq, r.memoryRequest());
            boolean cpuLimFound = positive(r.cpuLimit());
            boolean memLimFound = r.memoryLimit() != null && r.memoryLimit() > 0;
            if (cpuLimFound) {
                cpuLim = cpuLim == null ? r.cpuLimit().value() : cpuLim.add(r.cpuLimit().value());
            }
            if (memLimFound) {
                BigDecimal m = BigDecimal.valueOf(r.memoryLimit());
                memLim = memLim == null ? m : memLim.add(m);
            }
            if (!cpuLimFound || !memLimFound) {
                allHaveBothLimits = false;
            }
        }

        private static boolean positive(KubeQuantity q) {
            return q != null && q.signum() > 0;
        }

        private static BigDecimal plus(BigDecimal sum, KubeQuantity q) {
            if (!positive(q)) {
                return sum;
            }
            return sum == null ? q.value() : sum.add(q.value());
        }

        private static BigDecimal plus(BigDecimal sum, Long bytes) {
            if (bytes == null || bytes <= 0) {
                return sum;
            }
            BigDecimal b = BigDecimal.valueOf(bytes);
            return sum == null ? b : sum.add(b);
        }
    }
}
