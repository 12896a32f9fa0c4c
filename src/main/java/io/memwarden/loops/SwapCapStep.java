package io.memwarden.loops;

import io.memwarden.cgroup.CgroupWriteException;
import io.memwarden.cgroup.CgroupWriter;
import io.memwarden.cgroup.HostFacts;
import io.memwarden.model.CgroupFiles;
import io.memwarden.model.CgroupVersion;
import io.memwarden.policy.NodeSwapCap;
import io.memwarden.policy.WardenConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The round's node swap cap step: computes the workloads' swap cap ({@link NodeSwapCap}) from the config and the node's
 * swap total observed this round (a swapon/swapoff changes it, and the next round writes the new cap), and writes it
 * on the kubepods cgroup when kubepods holds another value. A write, a failure and a cap that cannot be enforced are
 * recorded as node actions (loop {@value #LOOP}), each once until something changes.
 */
final class SwapCapStep {
    static final String LOOP = "swap-cap";
    /** Where kubepods is looked for below the memory root: the systemd driver's slice, then the cgroupfs directory. */
    static final List<String> KUBEPODS = List.of("kubepods.slice", "kubepods");

    /** What the step last saw and did; null fields where it did not get that far. */
    record State(Path kubepods, NodeSwapCap.Decision decision, String result) {}

    private volatile Path memoryRoot;
    private volatile WardenConfig.SwapConfig config;
    private volatile State last;
    private String lastRecorded;

    /** Cap the workloads' swap below {@code memoryRoot}'s kubepods by {@code config}; null root: off. */
    synchronized void configure(Path memoryRoot, WardenConfig.SwapConfig config) {
        this.memoryRoot = memoryRoot;
        this.config = config;
        this.lastRecorded = null;
    }

    State last() {
        return last;
    }

    synchronized void run(Round round, HostFacts host, long pageSize) {
        WardenConfig.SwapConfig c = config;
        Path root = memoryRoot;
        if (root == null || c == null || !c.capsNode()) {
            last = null;
            return;
        }
        Path kubepods = KUBEPODS.stream().map(root::resolve).filter(Files::isDirectory).findFirst().orElse(null);
        CgroupVersion version = host.memoryController();
        long swapTotal = round.node().swapTotal();
        if (kubepods == null) {
            NodeSwapCap.Decision d = NodeSwapCap.decide(c, version, swapTotal, null);
            finish(round, null, d, "not written: no kubepods cgroup under " + root + " yet",
                    "node swap cap " + d.capBytes() + " bytes: no kubepods cgroup under " + root);
            return;
        }
        Long limit = null;
        if (version == CgroupVersion.V1) {
            try {
                limit = Long.parseLong(Files.readString(kubepods.resolve(CgroupFiles.V1_LIMIT)).strip());
            } catch (IOException | NumberFormatException e) {
                limit = null;
            }
        }
        NodeSwapCap.Decision d = NodeSwapCap.decide(c, version, swapTotal, limit);
        if (d.unenforceable() != null) {
            finish(round, kubepods, d, "not written: " + d.unenforceable(),
                    "node swap cap " + d.capBytes() + " bytes on " + kubepods + ": " + d.unenforceable());
            return;
        }
        String trigger = String.join("; ", d.reasons());
        String action = "set " + kubepods + " " + files(d.files());
        CgroupWriter writer = new CgroupWriter(version, pageSize);
        try {
            Map<String, String> differing = writer.differing(kubepods, d.files());
            if (differing.isEmpty()) {
                last = new State(kubepods, d, "in place");
                return;
            }
            String result = round.actuator().setNodeFiles(kubepods, version, d.files());
            last = new State(kubepods, d, result);
            round.record(LOOP, "", "", action, trigger + " (was " + files(differing) + ")", result);
            lastRecorded = null;
        } catch (CgroupWriteException e) {
            finish(round, kubepods, d, "failed: " + e.getMessage(), action);
        }
    }

    /** Records {@code action} with {@code result} once, until either changes. */
    private void finish(Round round, Path kubepods, NodeSwapCap.Decision d, String result, String action) {
        last = new State(kubepods, d, result);
        String key = action + " → " + result;
        if (!key.equals(lastRecorded)) {
            round.record(LOOP, "", "", action, String.join("; ", d.reasons()), result);
            lastRecorded = key;
        }
    }

    private static String files(Map<String, String> f) {
        StringBuilder b = new StringBuilder();
        f.forEach((k, v) -> b.append(b.isEmpty() ? "" : " ").append(k).append('=').append(v));
        return b.toString();
    }
}
