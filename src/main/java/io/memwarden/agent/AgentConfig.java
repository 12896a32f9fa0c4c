package io.memwarden.agent;

import io.memwarden.control.KsmPolicy;
import io.memwarden.control.KsmTuner;
import io.memwarden.control.Ksmtuned;
import io.memwarden.control.KubevirtKsm;
import io.memwarden.control.PressureGuard;
import io.memwarden.kernel.PsiTrigger;
import io.memwarden.loops.LoopOptions;
import io.memwarden.model.QosClass;
import io.memwarden.policy.WardenConfig;
import io.memwarden.loops.ControlLoops;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The node agent's whole configuration: the policy ({@link WardenConfig}: memoryQos, swap, annotations) and the
 * agent's own sections {@code agent}, {@code loops} and {@code kubernetes} of the same file (docs/agent.md).
 */
public record AgentConfig(WardenConfig policy, Agent agent, Loops loops, Kubernetes kubernetes) {

    public static final AgentConfig DEFAULTS = new AgentConfig(WardenConfig.DEFAULTS, Agent.DEFAULTS, Loops.DEFAULTS,
            Kubernetes.DEFAULTS);

    /** What the agent does when swap is on at start. */
    public enum FailSwapOn {
        /** refuse when the kubelet's failSwapOn is true (the kubelet would not start either), else go on */
        KUBELET,
        /** refuse to start with swap on */
        REFUSE,
        /** log a warning and go on */
        WARN
    }

    /**
     * @param listen            [HOST:]PORT of the status API, or "off"
     * @param protect           namespace/name globs the pressure guard never evicts
     * @param history           loop actions kept for /status and explain
     * @param statusFromNetwork serve /status (every pod's plan) to clients not on loopback too
     */
    public record Agent(String listen, FailSwapOn failSwapOn, Set<String> protect, int history,
                        boolean statusFromNetwork) {
        public static final Agent DEFAULTS = new Agent("127.0.0.1:9767", FailSwapOn.KUBELET, Set.of(), 500, false);

        public Agent {
            protect = Set.copyOf(protect);
        }

        public Agent(String listen, FailSwapOn failSwapOn, Set<String> protect, int history) {
            this(listen, failSwapOn, protect, history, false);
        }

        public Agent withStatusFromNetwork(boolean on) {
            return new Agent(listen, failSwapOn, protect, history, on);
        }
    }

    /** A memory.available threshold: bytes, or a percentage of capacity. */
    public record Threshold(Long bytes, Double percent, String text) {
        public long resolve(long capacity) {
            return bytes != null ? bytes : (long) Math.floor(capacity * percent / 100.0);
        }
    }

    /**
     * @param directAfter how long a HARD node waits for the Eviction API to take a pod off before the guard kills the
     *                    victim directly ({@link PressureGuard.Config#directAfter})
     */
    public record Guard(boolean enabled, Threshold softAvailable, Duration softGrace, Threshold hardAvailable,
                        Duration cooldown, Duration directAfter) {
        public static final Guard DEFAULTS = new Guard(true, new Threshold(null, 20.0, "20%"), Duration.ofSeconds(5),
                new Threshold(null, 10.0, "10%"), Duration.ofSeconds(10), PressureGuard.DEFAULT_DIRECT_AFTER);

        /** The pressure guard's config for a node of {@code capacity} bytes. */
        public PressureGuard.Config resolve(long capacity) {
            PressureGuard.Config d = PressureGuard.Config.defaults(capacity);
            return new PressureGuard.Config(softAvailable.resolve(capacity), softGrace, hardAvailable.resolve(capacity),
                    d.psiSomeAvg10Soft(), d.psiFullAvg10Hard(), d.swapFreeMin(), d.swapInPagesPerSecMax(), cooldown,
                    d.reclaimFraction(), directAfter);
        }
    }

    /**
     * @param qosClasses   the classes whose containers are offloaded
     * @param stallTargets per class, the share of time (percent) a container may be stalled on memory while the loop
     *                     probes; classes not named use 1 %
     * @param v1Method     how cold memory leaves RAM on cgroup v1 (madvise: cold ranges; limit: limit probing)
     * @param v2Method     how cold memory leaves RAM on cgroup v2 (madvise: cold ranges; reclaim: memory.reclaim)
     */
    public record Offload(boolean enabled, Set<QosClass> qosClasses, java.util.Map<QosClass, Double> stallTargets,
                          LoopOptions.V1Offload v1Method, LoopOptions.V2Offload v2Method) {
        public static final Offload DEFAULTS = new Offload(true, Set.of(QosClass.BEST_EFFORT, QosClass.BURSTABLE),
                java.util.Map.of(), LoopOptions.V1Offload.DEFAULT, LoopOptions.V2Offload.DEFAULT);

        public Offload {
            qosClasses = Set.copyOf(qosClasses);
            stallTargets = java.util.Map.copyOf(stallTargets);
            java.util.Objects.requireNonNull(v1Method, "v1Method");
            java.util.Objects.requireNonNull(v2Method, "v2Method");
        }
    }

    /**
     * The KSM tuner ({@code loops.ksm}, docs/vm-nodes.md "KSM tuner"); off by default.
     *
     * @param policy      "kubevirt" or "ksmtuned"
     * @param period      time between passes
     * @param takeOver    tune KSM that was running before memwarden started (else observe only)
     * @param netLossHold how long KSM stays stopped after a net loss
     * @param committed   ksmtuned's committed processes, by comm
     */
    public record Ksm(boolean enabled, String policy, Duration period, boolean takeOver, Duration netLossHold,
                      KubevirtKsm.Settings kubevirt, Ksmtuned.Settings ksmtuned, Pattern committed) {
        public static final Ksm DEFAULTS = new Ksm(false, "kubevirt", Duration.ofSeconds(60), false,
                KsmTuner.Config.DEFAULTS.hold(), KubevirtKsm.Settings.DEFAULTS, Ksmtuned.Settings.DEFAULTS,
                Ksmtuned.QEMU);

        /** A fresh policy (ksmtuned keeps state: one per tuner). */
        public KsmPolicy newPolicy() {
            return policy.equals("ksmtuned") ? new Ksmtuned(ksmtuned) : new KubevirtKsm(kubevirt);
        }

        public KsmTuner.Config tunerConfig() {
            KsmTuner.Config d = KsmTuner.Config.DEFAULTS;
            return new KsmTuner.Config(d.minFullScans(), d.breakEven(), netLossHold);
        }
    }

    /**
     * @param period     how often the loops observe and act
     * @param psiTrigger the system PSI trigger that wakes the loops before the period ends (docs/control-loops.md
     *                   "Wake-up"), or null ("off"): the fixed period only
     */
    public record Loops(Duration period, boolean dryRun, Guard guard, boolean throttle, Offload offload,
                        PsiTrigger.Spec psiTrigger, Ksm ksm) {
        public static final PsiTrigger.Spec PSI_TRIGGER_DEFAULT = PsiTrigger.Spec.parse("some 150000 2000000");
        public static final Loops DEFAULTS = new Loops(Duration.ofSeconds(1), false, Guard.DEFAULTS, true,
                Offload.DEFAULTS, PSI_TRIGGER_DEFAULT, Ksm.DEFAULTS);

        public Loops(Duration period, boolean dryRun, Guard guard, boolean throttle, Offload offload,
                     PsiTrigger.Spec psiTrigger) {
            this(period, dryRun, guard, throttle, offload, psiTrigger, Ksm.DEFAULTS);
        }

        public Loops withDryRun(boolean dryRun) {
            return new Loops(period, dryRun, guard, throttle, offload, psiTrigger, ksm);
        }
    }

    /** Whether to use the Kubernetes API. */
    public enum KubeMode { AUTO, TRUE, FALSE }

    /**
     * @param watchAllPods list and watch every pod of the cluster and keep this node's, instead of asking the API
     *                     server for {@code spec.nodeName=NODE} only: for API servers and proxies without that field
     *                     selector (fabric8's mock server, for one); costs memory and traffic on large clusters
     */
    public record Kubernetes(KubeMode enabled, boolean events, boolean evictions, boolean nodeLabel,
                             boolean taintSwapNodes, boolean watchAllPods) {
        public static final Kubernetes DEFAULTS = new Kubernetes(KubeMode.AUTO, true, true, true, false, false);
    }

    public AgentConfig withAgent(Agent a) {
        return new AgentConfig(policy, a, loops, kubernetes);
    }

    public AgentConfig withLoops(Loops l) {
        return new AgentConfig(policy, agent, l, kubernetes);
    }

    /** The protect globs as a list, sorted (for messages). */
    public List<String> protectSorted() {
        return agent.protect().stream().sorted().toList();
    }
}
