package io.memwarden.vm.guest;

import io.memwarden.cgroup.HostFacts;
import io.memwarden.cgroup.HostProbe;
import io.memwarden.control.PressureGuard;
import io.memwarden.kernel.TmpfsNoswap;
import io.memwarden.loops.ContainerStatus;
import io.memwarden.loops.ControlLoops;
import io.memwarden.loops.LoopOptions;
import io.memwarden.loops.ManagedWorkload;
import io.memwarden.model.Clock;
import io.memwarden.policy.WardenConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * Guest program of the vm tier (test/vm/guest/cgroup-v2-checks.sh, check {@code memwarden_node_swap_cap}; class path:
 * memwarden.jar and target/test-classes): one round of memwarden's control loops with the node swap cap on, over a
 * memory root of the check's own that holds a {@code kubepods} cgroup, then memwarden's tmpfs noswap detection.
 *
 * <pre>usage: NodeSwapCapProbe MEMORY_ROOT NODE_CAP_BYTES</pre>
 *
 * Prints {@code cap=<bytes> result=<what the round did>} and {@code noswap=<true|false> <how>}; exit 0, or 2 on error.
 */
public final class NodeSwapCapProbe {
    private NodeSwapCapProbe() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: NodeSwapCapProbe MEMORY_ROOT NODE_CAP_BYTES");
            System.exit(2);
        }
        HostFacts host = HostProbe.probe();
        long cap = Long.parseLong(args[1]);
        ManagedWorkload none = new ManagedWorkload() {
            @Override
            public List<ContainerStatus> snapshot() {
                return List.of();
            }

            @Override
            public List<ManagedPod> pods() {
                return List.of();
            }
        };
        try (ControlLoops loops = new ControlLoops(host, none, new LoopOptions(false, false, false, false,
                PressureGuard.Config.defaults(host.memTotal()), Set.of(), null), Clock.SYSTEM, System.out::println)) {
            loops.nodeSwapCap(Path.of(args[0]), new WardenConfig.SwapConfig(null, null, null,
                    new WardenConfig.SwapCap(cap, null, Long.toString(cap)), null));
            loops.tick();
            ControlLoops.NodeSwapCapState s = loops.nodeSwapCapState();
            System.out.println("cap=" + s.decision().capBytes() + " result=" + s.result());
        }
        TmpfsNoswap.Support n = TmpfsNoswap.detect();
        System.out.println("noswap=" + n.supported() + " " + n.detection());
    }
}
