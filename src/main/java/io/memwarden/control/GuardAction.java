package io.memwarden.control;

/** What the pressure guard decided; each carries its trigger for the log and `explain`. */
public sealed interface GuardAction {
    String pod();

    String trigger();

    /** Which threshold made the guard act (memwarden's own or the kubelet's), for explain. */
    GuardTrigger acted();

    /** Push {@code bytes} of the container's memory out to swap (v2 memory.reclaim; v1 process_madvise). */
    record Reclaim(String pod, String container, long bytes, String trigger, GuardTrigger acted) implements GuardAction {}

    /** Throttle a BestEffort container at {@code highBytes} (v2 memory.high). */
    record Throttle(String pod, String container, long highBytes, String trigger, GuardTrigger acted) implements GuardAction {}

    /**
     * Evict (Eviction API) or, without a pod source that can evict, kill the pod; {@code message} is kubelet-style.
     * {@code podGraceSeconds} is the kubelet's pod grace period for it (kubelet-semantics §4): 1 s at HARD, else
     * min(evictionMaxPodGracePeriod, the pod's terminationGracePeriodSeconds).
     */
    record Evict(String pod, String message, String trigger, long podGraceSeconds, GuardTrigger acted)
            implements GuardAction {}

    /**
     * Kill the pod's containers directly (SIGKILL through pidfd), not through the Eviction API: the node stayed HARD
     * while evictions through the API took no pod off it ({@code reason} says which and for how long). Like the
     * kubelet's node-pressure eviction, this overrides any PodDisruptionBudget of the pod. {@code message} is
     * kubelet-style.
     */
    record Kill(String pod, String message, String reason, String trigger, GuardTrigger acted)
            implements GuardAction {}
}
