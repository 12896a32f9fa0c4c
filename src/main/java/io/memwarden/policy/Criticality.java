package io.memwarden.policy;

import io.memwarden.model.PodSpec;

/**
 * The kubelet's critical-pod tests (kubelet-semantics §1, §3): a static pod (annotation
 * {@code kubernetes.io/config.source} present and not {@code api}), a mirror pod ({@code kubernetes.io/config.mirror}),
 * or priority ≥ 2,000,000,000. Node-critical additionally needs priorityClassName {@code system-node-critical}.
 */
public final class Criticality {
    private Criticality() {}

    public static final int SYSTEM_CRITICAL_PRIORITY = 2_000_000_000;
    public static final int SYSTEM_CLUSTER_CRITICAL_PRIORITY = 2_000_000_000;
    public static final int SYSTEM_NODE_CRITICAL_PRIORITY = 2_000_001_000;
    public static final String SYSTEM_NODE_CRITICAL = "system-node-critical";
    public static final String SYSTEM_CLUSTER_CRITICAL = "system-cluster-critical";
    public static final String CONFIG_SOURCE = "kubernetes.io/config.source";
    public static final String CONFIG_MIRROR = "kubernetes.io/config.mirror";

    /**
     * {@code spec.priority}; when absent, the value the Priority admission plugin would set for the two built-in
     * priority classes; otherwise null (= 0).
     */
    public static Integer effectivePriority(PodSpec pod) {
        if (pod.priority() != null) {
            return pod.priority();
        }
        if (SYSTEM_NODE_CRITICAL.equals(pod.priorityClassName())) {
            return SYSTEM_NODE_CRITICAL_PRIORITY;
        }
        if (SYSTEM_CLUSTER_CRITICAL.equals(pod.priorityClassName())) {
            return SYSTEM_CLUSTER_CRITICAL_PRIORITY;
        }
        return null;
    }

    public static boolean isStatic(PodSpec pod) {
        String src = pod.annotations().get(CONFIG_SOURCE);
        return src != null && !src.equals("api");
    }

    public static boolean isMirror(PodSpec pod) {
        return pod.annotations().containsKey(CONFIG_MIRROR);
    }

    public static boolean isCritical(PodSpec pod) {
        Integer p = effectivePriority(pod);
        return isStatic(pod) || isMirror(pod) || (p != null && p >= SYSTEM_CRITICAL_PRIORITY);
    }

    public static boolean isNodeCritical(PodSpec pod) {
        return isCritical(pod) && SYSTEM_NODE_CRITICAL.equals(pod.priorityClassName());
    }

    /** Why a pod is critical, for reasons; null when it is not. */
    public static String why(PodSpec pod) {
        if (isStatic(pod)) {
            return "static pod (" + CONFIG_SOURCE + "=" + pod.annotations().get(CONFIG_SOURCE) + ")";
        }
        if (isMirror(pod)) {
            return "mirror pod (" + CONFIG_MIRROR + ")";
        }
        Integer p = effectivePriority(pod);
        if (p != null && p >= SYSTEM_CRITICAL_PRIORITY) {
            return pod.priority() != null ? "priority " + p + " >= 2000000000"
                    : "priorityClassName " + pod.priorityClassName() + " (priority " + p + ")";
        }
        return null;
    }
}
