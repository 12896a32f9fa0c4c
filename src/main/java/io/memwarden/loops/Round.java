package io.memwarden.loops;

import io.memwarden.cgroup.HostFacts;
import io.memwarden.cgroup.NodeStats;
import io.memwarden.control.BalloonWatch;
import io.memwarden.control.GuardTrigger;
import io.memwarden.control.PressureGuard;
import java.io.IOException;
import java.util.List;

/**
 * One observe → decide → act round of the control loops ({@link ControlLoops#tick}), written as a recipe:
 * <ol>
 *   <li>{@link #observe()}: the running containers (lazy where the workload can: each cgroup file is read only when a
 *       step below asks for it), the managed pods (once: a runtime's view may be costly) and the node, with what a
 *       hypervisor's balloon left of it ({@link BalloonStep});</li>
 *   <li>the node swap cap ({@link SwapCapStep}): the workloads' swap together capped on kubepods, re-evaluated on
 *       the swap total observed;</li>
 *   <li>{@link #guard()}: the pressure guard reclaims, throttles or evicts when the node nears eviction;</li>
 *   <li>{@link #throttle()}: throttle relief lifts the ceiling of containers throttled for no good reason;</li>
 *   <li>{@link #offload()}: the offloader moves cold memory to swap under a stall target.</li>
 * </ol>
 * Each step decides with its control loop (pure, in {@code control}) and acts through the round's {@link Actuator};
 * every action is recorded with its trigger, and with what woke the round early.
 */
final class Round {
    private final HostFacts host;
    private final ManagedWorkload workload;
    private final LoopOptions opt;
    private final Steps steps;
    private final Actuator actuator;
    private final ActionHistory history;
    private final String wokenBy;
    private List<ContainerStatus> running;
    private List<ManagedWorkload.ManagedPod> pods;
    private NodeStats node;

    /** The loops' steps, each keeping its control loop's state from round to round. */
    record Steps(GuardStep guard, ThrottleStep throttle, OffloadStep offload, BalloonStep balloon,
                 SwapCapStep swapCap) {}

    /** @param wokenBy what woke the round early (e.g. "PSI trigger some 150000/2000000"), or null: the period */
    Round(HostFacts host, ManagedWorkload workload, LoopOptions opt, Steps steps, Actuator actuator,
          ActionHistory history, String wokenBy) {
        this.host = host;
        this.workload = workload;
        this.opt = opt;
        this.steps = steps;
        this.actuator = actuator;
        this.history = history;
        this.wokenBy = wokenBy;
    }

    void run() throws IOException {
        observe();
        steps.swapCap().run(this, host, host.pageSize());
        guard();
        throttle();
        offload();
    }

    private void observe() throws IOException {
        running = workload.lazySnapshot().stream().filter(ContainerStatus::running).toList();
        pods = workload.pods();
        node = opt.nodeCgroup() == null ? NodeStats.read(host) : NodeStats.ofCgroup(host, opt.nodeCgroup());
        node = steps.balloon().observe(this, host, node);
    }

    private void guard() {
        if (opt.guard()) {
            steps.guard().run(this);
        }
    }

    private void throttle() {
        if (opt.throttle()) {
            steps.throttle().run(this);
        }
    }

    private void offload() {
        if (opt.offload()) {
            steps.offload().run(this);
        }
    }

    // ------------------------------------------------------------------ what the steps see and use

    LoopOptions options() {
        return opt;
    }

    HostFacts host() {
        return host;
    }

    /** The running containers. */
    List<ContainerStatus> running() {
        return running;
    }

    List<ManagedWorkload.ManagedPod> pods() {
        return pods;
    }

    NodeStats node() {
        return node;
    }

    /** The balloon's state this round, or null where it could not be read. */
    BalloonWatch.State balloon() {
        return steps.balloon().last();
    }

    /**
     * The pressure guard's config for this round: the options' (resolved on MemTotal at start; the balloon's first
     * reading of MemTotal stands for it), its memory.available thresholds scaled to the effective capacity when a
     * balloon is present and the guard's node is the host.
     */
    PressureGuard.Config guardConfig() {
        BalloonWatch.State b = balloon();
        if (b == null || b.driver().equals("none") || opt.nodeCgroup() != null) {
            return opt.guardConfig();
        }
        return opt.guardConfig().scaled(steps.balloon().configuredFor(), b.effectiveBytes());
    }

    Actuator actuator() {
        return actuator;
    }

    /** The running container {@code container} of {@code pod}, or null. */
    ContainerStatus find(String pod, String container) {
        return running.stream().filter(s -> s.pod().equals(pod) && s.container().equals(container)).findFirst()
                .orElse(null);
    }

    /** Records an action of this round; its trigger says what woke the round early, if anything did. */
    void record(String loop, String pod, String container, String action, String trigger, String result) {
        history.record(loop, pod, container, action, wokenBy == null ? trigger : trigger + "; woken by " + wokenBy,
                result);
    }

    /** A pressure-guard action: with the threshold that acted and, for an eviction, the pod grace period given. */
    void record(String loop, String pod, String container, String action, String trigger, String result,
                GuardTrigger acted, Long podGraceSeconds) {
        history.record(loop, pod, container, action, wokenBy == null ? trigger : trigger + "; woken by " + wokenBy,
                result, acted == null ? null : new NodeStatus.ActedOn(acted.by(), acted.threshold(), acted.signal(),
                        acted.availableBytes(), acted.thresholdBytes(), acted.versus(), acted.line(),
                        podGraceSeconds));
    }

    /**
     * Reclaims {@code bytes} of {@code s} for {@code loop} and records it; nothing for a container gone (null).
     *
     * @return the bytes reclaimed (0 in dry-run or on failure)
     */
    long reclaim(String loop, ContainerStatus s, long bytes, String trigger) {
        return reclaim(loop, s, bytes, trigger, null);
    }

    /** {@link #reclaim(String, ContainerStatus, long, String)} for the pressure guard, with the threshold that acted. */
    long reclaim(String loop, ContainerStatus s, long bytes, String trigger, GuardTrigger acted) {
        if (s == null) {
            return 0;
        }
        Actuator.Reclaimed r = actuator.reclaim(s, bytes);
        record(loop, s.pod(), s.container(), "reclaim " + bytes + " bytes", trigger, r.result(), acted, null);
        return r.bytes();
    }
}
