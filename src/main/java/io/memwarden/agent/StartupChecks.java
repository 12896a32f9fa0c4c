package io.memwarden.agent;

import io.memwarden.cgroup.HostFacts;
import io.memwarden.model.CgroupVersion;
import io.memwarden.model.KernelRelease;
import io.memwarden.policy.Plan;
import io.memwarden.policy.KubeletSettings;
import java.util.ArrayList;
import java.util.List;

/**
 * What the node agent checks before it serves (pure: from the probed host, the node plan and the config): swap with
 * the kubelet's failSwapOn meaning, cgroup version, PSI, swap accounting and the kernel warnings of the policy
 * (kubelet-semantics.md §1–§2). An ERROR finding makes the agent refuse to start.
 */
public final class StartupChecks {
    private StartupChecks() {}

    public enum Level { ERROR, WARNING, INFO }

    public record Finding(Level level, String message) {
        @Override
        public String toString() {
            return level.name().toLowerCase(java.util.Locale.ROOT) + ": " + message;
        }
    }

    /** The outcome: findings in order, and whether the offload loop can run (it needs PSI as its stall signal). */
    public record Result(List<Finding> findings, boolean offloadPossible) {
        public boolean refuse() {
            return findings.stream().anyMatch(f -> f.level() == Level.ERROR);
        }
    }

    public static Result check(HostFacts host, Plan.NodePlan node, KubeletSettings kubelet, AgentConfig cfg) {
        List<Finding> out = new ArrayList<>();
        if (host.memoryController() == null) {
            out.add(new Finding(Level.ERROR, "this host has no cgroup memory controller: nothing to manage"));
            return new Result(out, false);
        }
        out.add(new Finding(Level.INFO, "cgroup v" + host.memoryController().number() + " memory controller at "
                + host.memoryMount() + (host.hybrid() ? " (hybrid host)" : "")));
        boolean swapOn = host.swapTotal() > 0;
        String failSwapOnError = node.errors().stream().filter(e -> e.contains("--fail-swap-on")).findFirst()
                .orElse(null);
        if (swapOn) {
            switch (cfg.agent().failSwapOn()) {
                case KUBELET -> {
                    if (failSwapOnError != null) {
                        out.add(new Finding(Level.ERROR, failSwapOnError + "; memwarden follows the kubelet"
                                + " (agent.failSwapOn: kubelet): set failSwapOn: false in the kubelet config, or"
                                + " agent.failSwapOn: warn"));
                    }
                }
                case REFUSE -> out.add(new Finding(Level.ERROR, "swap is on (SwapTotal " + host.swapTotal()
                        + " bytes) and agent.failSwapOn is refuse: disable swap or set agent.failSwapOn: warn"));
                case WARN -> {
                    if (failSwapOnError != null) {
                        out.add(new Finding(Level.WARNING, failSwapOnError + " (agent.failSwapOn: warn: serving"
                                + " anyway)"));
                    }
                }
            }
            out.add(new Finding(Level.INFO, "swap on: " + host.swapTotal() + " bytes, devices "
                    + String.join(", ", host.swapDevices()) + "; swap behaviour " + node.swapBehavior()));
        } else {
            out.add(new Finding(Level.INFO, "swap off: containers get no swap whatever their class; the offload"
                    + " loop has nowhere to offload to"));
        }
        for (String e : node.errors()) {
            if (!e.equals(failSwapOnError)) {
                out.add(new Finding(Level.WARNING, e));
            }
        }
        for (String w : node.warnings()) {
            out.add(new Finding(Level.WARNING, w));
        }
        if (host.memoryController() == CgroupVersion.V1) {
            out.add(new Finding(Level.INFO, "cgroup v1 has no memory.high: throttle relief works on the projected"
                    + " ceiling (memory.limit_in_bytes) instead (docs/control-loops.md)"));
        }
        if (kernelOlder(host.kernelVersion(), 5, 9) && cfg.loops().throttle()) {
            out.add(new Finding(Level.WARNING, "kernel " + host.kernelVersion() + " is older than 5.9: memory.high"
                    + " can livelock; throttle relief is what keeps throttled containers progressing"));
        }
        boolean offload = cfg.loops().offload().enabled();
        if (!host.psi()) {
            out.add(new Finding(Level.WARNING, "PSI is not available (/proc/pressure/memory; boot with psi=1):"
                    + " the pressure guard uses memory.available and swap only"
                    + (offload ? ", and the offload loop is off (it needs a stall signal)" : "")));
            offload = false;
        }
        if (swapOn && !host.swapAccounting()) {
            out.add(new Finding(Level.WARNING, "the memory controller does not account swap: per-container swap"
                    + " limits are not enforced and the offload loop is off"));
            offload = false;
        }
        return new Result(out, offload);
    }

    static boolean kernelOlder(String version, int major, int minor) {
        return KernelRelease.older(version, major, minor);
    }
}
