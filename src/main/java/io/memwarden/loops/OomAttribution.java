package io.memwarden.loops;

import io.memwarden.cgroup.MemoryUsage;
import io.memwarden.cgroup.NodeStats;
import io.memwarden.control.OomDiagnosis;
import io.memwarden.model.CgroupVersion;
import io.memwarden.model.OomEvent;
import io.memwarden.model.Printable;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * Which managed container a kernel OOM kill hit: the one whose memory cgroup is the victim task's
 * ({@link OomEvent#containerCgroup()}, a path below the memory hierarchy's root). For {@code memwarden run}'s
 * and the agent's OOM watch alike; {@link #kill} adds the "OOM while swap was free" diagnosis
 * ({@link OomDiagnosis}) from the kernel's figures at the kill, the container's swap behaviour and the node's swap.
 */
public final class OomAttribution {
    private OomAttribution() {}

    /** The managed container an OOM kill hit; {@code pod} is namespace/name. */
    public record Victim(String pod, String container) {
        public String namespace() {
            return pod.split("/", 2)[0];
        }

        public String name() {
            String[] nsName = pod.split("/", 2);
            return nsName.length > 1 ? nsName[1] : "";
        }

        /** "namespace/name container NAME", as the logs say it. */
        public String describe() {
            return pod + " container " + container;
        }
    }

    /**
     * @param containers the managed containers now ({@link ManagedWorkload#snapshot()})
     * @param memoryRoot the memory hierarchy's root, which the kernel's cgroup paths are relative to
     * @return the container, or empty when the kill hit none of them
     */
    public static Optional<Victim> of(OomEvent e, List<ContainerStatus> containers, Path memoryRoot) {
        for (ContainerStatus s : containers) {
            if (s.cgroup().startsWith(memoryRoot)
                    && e.containerCgroup().equals("/" + memoryRoot.relativize(s.cgroup()))) {
                return Optional.of(new Victim(s.pod(), s.container()));
            }
        }
        return Optional.empty();
    }

    /** The node's swap right now (bytes); a reader that fails gives -1s. */
    @FunctionalInterface
    public interface NodeSwap {
        NodeSwap UNKNOWN = () -> new long[] {-1, -1};

        /** {total, free} in bytes */
        long[] read() throws java.io.IOException;
    }

    /**
     * One kernel OOM kill as memwarden reports it.
     *
     * @param victim     the managed container it hit, or null
     * @param diagnosis  why, in one sentence ({@link OomDiagnosis}); for a kill of no managed container: from the
     *                   kernel's figures alone
     * @param podsOnNode the pods on the node when it was attributed ("namespace/name"); null when unknown
     */
    public record Kill(OomEvent event, Victim victim, OomDiagnosis.Verdict diagnosis, Set<String> podsOnNode) {
        /** A kill nothing is known about beyond the kernel log (no workload, or attribution failed). */
        public static Kill unattributed(OomEvent e) {
            return new Kill(e, null, OomDiagnosis.of(facts(e, null, -1, new long[] {-1, -1})), null);
        }

        /** The killed process, made one printable line. */
        public String process() {
            return Printable.of(event.process(), 64);
        }

        /** "pid P (NAME)[ in NS/POD container C], system OOM|cgroup X, constraint K: diagnosis", for logs. */
        public String describe() {
            OomEvent e = event;
            return "pid " + e.pid() + " (" + process() + ")" + (victim == null ? "" : " in " + victim.describe())
                    + ", " + (e.systemOom() ? "system OOM" : "cgroup " + Printable.of(e.victimCgroup(), 300))
                    + ", constraint " + (e.constraint().isEmpty() ? "-" : Printable.of(e.constraint(), 64)) + ": "
                    + diagnosis.sentence();
        }

        /** The pod event's message: "container C, pid P (NAME): diagnosis". */
        public String eventMessage() {
            return (victim == null ? "" : "container " + victim.container() + ", ") + "pid " + event.pid() + " ("
                    + process() + "): " + diagnosis.sentence();
        }
    }

    /**
     * Attributes a kill and diagnoses it.
     *
     * @param containers the managed containers now
     * @param pods       the managed pods now ("namespace/name"), besides those of {@code containers}
     * @param nodeSwap   the node's swap, read now (a global OOM's own figures win)
     */
    public static Kill kill(OomEvent e, List<ContainerStatus> containers, Set<String> pods, Path memoryRoot,
                            NodeSwap nodeSwap) {
        Victim v = of(e, containers, memoryRoot).orElse(null);
        String behavior = null;
        long ownSwapLimit = -1;
        if (v != null) {
            for (ContainerStatus s : containers) {
                if (s.pod().equals(v.pod()) && s.container().equals(v.container())) {
                    behavior = s.swapBehavior();
                    ownSwapLimit = swapLimit(s);
                }
            }
        }
        long[] swap;
        try {
            swap = nodeSwap.read();
        } catch (java.io.IOException | RuntimeException ex) {
            swap = new long[] {-1, -1};
        }
        Set<String> onNode = new HashSet<>(pods);
        containers.forEach(s -> onNode.add(s.pod()));
        return new Kill(e, v, OomDiagnosis.of(facts(e, behavior, ownSwapLimit, swap)), Set.copyOf(onNode));
    }

    /** The container's own swap limit as its cgroup says now (limits do not change at a kill); -1 unknown/none. */
    private static long swapLimit(ContainerStatus s) {
        try {
            return s.usage() == null ? -1 : s.usage().swapLimitBytes();
        } catch (RuntimeException gone) {
            return -1; // the cgroup went away with the container
        }
    }

    /**
     * A kill diagnosed without a workload ({@code memwarden oom-watch}): the kernel's figures, the task cgroup's own
     * swap limit ({@code ownSwapLimit}, -1 unknown: see {@link #ownSwapLimit}) and the node's swap read now.
     */
    public static OomDiagnosis.Verdict diagnose(OomEvent e, long ownSwapLimit, NodeSwap nodeSwap) {
        long[] swap;
        try {
            swap = nodeSwap.read();
        } catch (java.io.IOException | RuntimeException ex) {
            swap = new long[] {-1, -1};
        }
        return OomDiagnosis.of(facts(e, null, ownSwapLimit, swap));
    }

    /**
     * The swap limit of the killed task's cgroup as it is now (a limit does not change at a kill), when the kill was
     * at a parent's limit and the cgroup still exists: v2 {@code memory.swap.max}, v1 memsw − memory limit. -1 when
     * unknown, unlimited, not below {@code memoryRoot} or gone. Reads only that cgroup's memory files.
     */
    public static long ownSwapLimit(OomEvent e, Path memoryRoot, CgroupVersion version) {
        if (e.systemOom() || e.victimCgroup().equals(e.containerCgroup()) || e.containerCgroup().equals("/")) {
            return -1;
        }
        try {
            Path root = memoryRoot.toAbsolutePath().normalize();
            Path cg = root.resolve(e.containerCgroup().substring(1)).normalize();
            if (!cg.startsWith(root) || cg.equals(root) || !java.nio.file.Files.isDirectory(cg)) {
                return -1;
            }
            return MemoryUsage.read(cg, version).swapLimitBytes();
        } catch (java.io.IOException | RuntimeException gone) {
            return -1;
        }
    }

    /**
     * The attribution of a watch over {@code workload}: each kill against its containers and pods at that moment, the
     * node's swap from {@code /proc/meminfo} read right then.
     */
    public static Function<OomEvent, Kill> over(ManagedWorkload workload, Path memoryRoot) {
        return e -> {
            Set<String> pods = new HashSet<>();
            workload.pods().forEach(p -> pods.add(p.key()));
            return kill(e, workload.snapshot(), pods, memoryRoot, NodeStats::swapNow);
        };
    }

    /**
     * The diagnosis's facts: the kernel's figures at the kill, the plan's swap behaviour, the node's swap. At a
     * parent's limit the kernel printed the parent's swap figures; the container's own swap limit
     * ({@code ownSwapLimit}, when it has one) bounds what it could swap all the same, so the lower one counts.
     */
    static OomDiagnosis.Facts facts(OomEvent e, String swapBehavior, long ownSwapLimit, long[] nodeSwap) {
        OomEvent.Memory m = e.memory();
        OomDiagnosis.Scope scope = e.systemOom() ? OomDiagnosis.Scope.SYSTEM
                : e.victimCgroup().equals(e.containerCgroup()) || e.containerCgroup().equals("/")
                ? OomDiagnosis.Scope.CONTAINER : OomDiagnosis.Scope.ANCESTOR;
        String ancestor = null;
        if (scope == OomDiagnosis.Scope.ANCESTOR) {
            String last = e.victimCgroup().substring(e.victimCgroup().lastIndexOf('/') + 1);
            ancestor = e.containerCgroup().startsWith(e.victimCgroup() + "/") && last.matches("(kubepods-[a-z]+-)?pod.+")
                    ? "its pod" : "cgroup " + Printable.of(e.victimCgroup(), 200);
        }
        long total = m.nodeSwapTotalBytes() >= 0 ? m.nodeSwapTotalBytes() : nodeSwap[0];
        long free = m.nodeSwapFreeBytes() >= 0 ? m.nodeSwapFreeBytes() : nodeSwap[1];
        long swapLimit = m.swapLimitBytes();
        boolean own = scope != OomDiagnosis.Scope.ANCESTOR;
        if (!own && ownSwapLimit >= 0 && (swapLimit < 0 || ownSwapLimit <= swapLimit)) {
            swapLimit = ownSwapLimit;
            own = true;
        }
        return new OomDiagnosis.Facts(scope, ancestor, m.limitBytes(), m.anonBytes(), m.swapUsageBytes(),
                swapLimit, swapBehavior, total, free, own);
    }
}
