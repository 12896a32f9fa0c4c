package io.memwarden.agent;

import io.memwarden.cgroup.CgroupWriteException;
import io.memwarden.cgroup.CgroupWriter;
import io.memwarden.cgroup.KubepodsScan;
import io.memwarden.model.CgroupFiles;
import io.memwarden.model.CgroupVersion;
import io.memwarden.model.PodSpec;
import io.memwarden.nri.NriPlugin;
import io.memwarden.policy.Plan;
import io.memwarden.policy.Planner;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node agent without a runtime hook ({@code memwarden agent --standalone}): each {@link #round(boolean)} finds the
 * container cgroups the kubelet's runtime created ({@link KubepodsScan}), matches each to its pod (by the uid in the
 * pod cgroup's name) and container ({@link StandaloneMatch}), plans the pod ({@link Planner#planPod}) and writes the
 * planned files where a current value differs: the pod cgroup's pod-level files, then each container's, each cgroup
 * all-or-nothing with read-back ({@link CgroupWriter}). A cgroup it cannot match is left alone (logged once); nothing
 * is written on exit.
 * <p>
 * Every write (and every failed or, in dry-run, skipped one) becomes an action of the loop {@value #LOOP} through the
 * {@link Recorder} (the control loops' history: /status, explain, the log line, {@code memwarden_loop_actions_total});
 * a failure is recorded once while it stays the same and retried every round. One cgroup's failure does not stop the
 * others.
 */
final class StandaloneApplier {
    private static final Logger LOG = LoggerFactory.getLogger(StandaloneApplier.class);

    /** The loop name of the applier's action records. */
    public static final String LOOP = "apply";
    /** The action recorded when a found container's pod cannot be planned (its trigger is the pod's error). */
    public static final String PLAN = "plan";

    /** Takes an action record (normally {@link io.memwarden.loops.ControlLoops#recordAction}). */
    @FunctionalInterface
    public interface Recorder {
        void record(String loop, String pod, String container, String action, String trigger, String result);
    }

    /** What one round saw and did. */
    public record Round(int containerCgroups, int matched, int written, int failed, int leftAlone) {}

    private final Path memoryRoot;
    private final Path procRoot;
    private final CgroupWriter writer;
    private final PodsByUid pods;
    private final Recorder recorder;
    private volatile Planner planner;
    private volatile List<NriPlugin.ManagedContainer> managed = List.of();
    /** cgroup → what was last recorded for it while its values are not the plan's (dry-run, failure) */
    private final Map<Path, String> pending = new HashMap<>();
    /** pod uid → its latest plan, reused while the spec and the planner are the same (pods rarely change) */
    private final Map<String, Planned> plans = new HashMap<>();

    private record Planned(PodSpec spec, Planner planner, Planner.PodOutcome outcome) {}

    /** cgroup + reason, for "left alone" lines logged once */
    private final Set<String> logged = new HashSet<>();

    /**
     * @param memoryRoot the memory controller's hierarchy root (v1 memory mount or the cgroup2 mount) holding
     *                   {@code kubepods} / {@code kubepods.slice}
     */
    public StandaloneApplier(Path memoryRoot, CgroupVersion version, long pageSize, Planner planner, PodsByUid pods,
                             Recorder recorder) {
        this(memoryRoot, Path.of("/proc"), version, pageSize, planner, pods, recorder);
    }

    /** @param procRoot where {@code <pid>/comm} is read to tell a sandbox (pause) cgroup without container IDs */
    public StandaloneApplier(Path memoryRoot, Path procRoot, CgroupVersion version, long pageSize, Planner planner,
                             PodsByUid pods, Recorder recorder) {
        this.memoryRoot = memoryRoot;
        this.procRoot = procRoot;
        this.writer = new CgroupWriter(version, pageSize);
        this.planner = planner;
        this.pods = pods;
        this.recorder = recorder;
    }

    /** Plans with {@code next} from the next round on (a reloaded config): every container is re-planned. */
    public void replan(Planner next) {
        this.planner = next;
    }

    /**
     * The matched containers of the latest round, with their plans, as {@link NriWorkload} and the OOM watch read
     * them ({@code cgroupsPath} is the cgroupfs-style path of the cgroup found, relative to the memory root).
     */
    public List<NriPlugin.ManagedContainer> managed() {
        return managed;
    }

    /** One scan → match → plan → apply round. */
    public synchronized Round round(boolean dryRun) throws IOException {
        List<KubepodsScan.Found> found = KubepodsScan.scan(memoryRoot);
        Map<Path, List<KubepodsScan.Found>> byPod = new LinkedHashMap<>();
        for (KubepodsScan.Found f : found) {
            byPod.computeIfAbsent(f.podCgroup(), k -> new ArrayList<>()).add(f);
        }
        Planner p = planner;
        List<NriPlugin.ManagedContainer> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        Set<String> seenUids = new HashSet<>();
        int written = 0;
        int failed = 0;
        int leftAlone = 0;
        for (var e : byPod.entrySet()) {
            try {
                int[] counts = roundPod(e.getKey(), e.getValue(), p, dryRun, out, seen, seenUids);
                written += counts[0];
                failed += counts[1];
                leftAlone += counts[2];
            } catch (RuntimeException ex) {
                // one pod's failure (a bug) never ends the round: the other pods are still planned and written
                for (KubepodsScan.Found f : e.getValue()) {
                    seen.add(f.cgroup().toString());
                }
                leftAlone += e.getValue().size();
                if (logged.add(e.getKey() + "\ninternal")) {
                    LOG.error("standalone: pod cgroup {} left alone (internal error)", e.getKey(), ex);
                }
            }
        }
        out.sort(java.util.Comparator.comparing(NriPlugin.ManagedContainer::namespace)
                .thenComparing(NriPlugin.ManagedContainer::pod).thenComparing(NriPlugin.ManagedContainer::name));
        managed = List.copyOf(out);
        pending.keySet().removeIf(k -> !seen.contains(k.toString()));
        plans.keySet().retainAll(seenUids);
        logged.removeIf(k -> !seen.contains(k.substring(0, k.indexOf('\n'))));
        return new Round(found.size(), out.size(), written, failed, leftAlone);
    }

    /** One pod of a round: match, plan, write; returns {written, failed, left alone}. */
    private int[] roundPod(Path podCgroup, List<KubepodsScan.Found> cs, Planner p, boolean dryRun,
                           List<NriPlugin.ManagedContainer> out, Set<String> seen, Set<String> seenUids) {
        int written = 0;
        int failed = 0;
        int leftAlone = 0;
        {
            String uid = cs.getFirst().id().podUid();
            PodsByUid.Known pod = null;
            String lookupError = null;
            try {
                pod = pods.find(uid).orElse(null);
            } catch (Exception ex) {
                lookupError = "pod uid " + uid + ": " + ex.getMessage();
            }
            Set<String> sandboxes = new HashSet<>();
            if (pod != null && !pod.idsKnown() && cs.size() > 1) {
                for (KubepodsScan.Found f : cs) {
                    if (onlyPause(f.cgroup())) {
                        sandboxes.add(f.id().containerId());
                    }
                }
            }
            Map<String, StandaloneMatch.Match> matches = StandaloneMatch.match(uid, pod,
                    cs.stream().map(f -> f.id().containerId()).toList(), sandboxes, pods.describe());
            Planner.PodOutcome outcome = null;
            if (pod != null) {
                Planned cached = plans.get(uid);
                if (cached == null || cached.planner() != p || !cached.spec().equals(pod.spec())) {
                    cached = new Planned(pod.spec(), p, p.planPod(pod.spec()));
                    plans.put(uid, cached);
                }
                outcome = cached.outcome();
                seenUids.add(uid);
            }
            Plan.PodPlan plan = outcome == null ? null : outcome.plan();
            if (plan != null && !plan.podCgroup().isEmpty()) {
                seen.add(podCgroup.toString());
                switch (ensure(podCgroup, plan.podCgroup(), pod.spec().key(), null, pod.source(), dryRun)) {
                    case WRITTEN -> written++;
                    case FAILED -> failed++;
                    default -> { }
                }
            }
            for (KubepodsScan.Found f : cs) {
                seen.add(f.cgroup().toString());
                StandaloneMatch.Match m = matches.get(f.id().containerId());
                String why = lookupError != null ? lookupError : m.why();
                Plan.ContainerPlan cp = null;
                String planError = null;
                if (why == null) {
                    cp = plan == null ? null : plan.containers().stream().filter(c -> c.name().equals(m.container()))
                            .findFirst().orElse(null);
                    if (cp == null) {
                        planError = errors(outcome, m.container());
                        why = "no plan for container " + m.container() + " of pod " + pod.spec().key() + ": "
                                + planError;
                    }
                }
                if (why != null) {
                    leftAlone++;
                    if (logged.add(f.cgroup() + "\n" + why)) {
                        LOG.info("standalone: /{} left alone: {}", f.id().cgroup(), why);
                        if (planError != null) { // the pod's own error: announced once (an event on the pod)
                            recorder.record(LOOP, pod.spec().key(), m.container(), PLAN, planError, "failed");
                        }
                    }
                    continue;
                }
                switch (ensure(f.cgroup(), cp.cgroup(), pod.spec().key(), cp.name(), pod.source(), dryRun)) {
                    case WRITTEN -> written++;
                    case FAILED -> failed++;
                    default -> { }
                }
                List<String> reasons = new ArrayList<>();
                reasons.add("pod spec from " + pod.source() + "; cgroup /" + f.id().cgroup() + " found by the"
                        + " standalone scan (" + f.id().driver().name().toLowerCase() + " driver)");
                reasons.addAll(cp.reasons());
                out.add(new NriPlugin.ManagedContainer(f.id().containerId(), pod.spec().namespace(),
                        pod.spec().name(), uid, cp.name(), "/" + f.id().cgroup(), pod.spec(), plan,
                        new Plan.ContainerPlan(cp.name(), cp.init(), cp.swapBehavior(), cp.oomScoreAdj(), cp.cgroup(),
                                reasons), false, pod.source()));
            }
        }
        return new int[] {written, failed, leftAlone};
    }

    /** Whether the cgroup has processes and every one is the pause binary (comm "pause"): a pod's sandbox. */
    private boolean onlyPause(Path cgroup) {
        try {
            List<String> pids = java.nio.file.Files.readAllLines(cgroup.resolve(CgroupFiles.CGROUP_PROCS)).stream()
                    .map(String::strip).filter(s -> !s.isEmpty()).toList();
            if (pids.isEmpty()) {
                return false;
            }
            for (String pid : pids) {
                if (!java.nio.file.Files.readString(procRoot.resolve(pid).resolve("comm")).strip().equals("pause")) {
                    return false;
                }
            }
            return true;
        } catch (IOException e) {
            return false; // gone, or unreadable: not known to be a sandbox
        }
    }

    private static String errors(Planner.PodOutcome o, String container) {
        if (o == null) {
            return "not planned";
        }
        List<String> msgs = o.errors().stream().filter(x -> x.container() == null || x.container().equals(container))
                .map(Plan.PlanError::message).toList();
        return msgs.isEmpty() ? "not planned" : String.join("; ", msgs);
    }

    private enum Outcome { UNCHANGED, WRITTEN, FAILED, PENDING }

    /** Writes {@code target} into {@code cgroup} when a current value differs; records what it did. */
    private Outcome ensure(Path cgroup, Map<String, String> target, String podKey, String container, String source,
                           boolean dryRun) {
        String rel = "/" + memoryRoot.relativize(cgroup);
        Map<String, String> differing;
        try {
            differing = writer.differing(cgroup, target);
        } catch (CgroupWriteException e) {
            return fail(cgroup, podKey, container, "write the plan " + target, "the plan for " + rel, e);
        }
        if (differing.isEmpty()) {
            pending.remove(cgroup);
            return Outcome.UNCHANGED;
        }
        StringBuilder action = new StringBuilder();
        StringBuilder was = new StringBuilder();
        for (var d : differing.entrySet()) {
            action.append(action.isEmpty() ? "" : " ").append(d.getKey()).append('=').append(target.get(d.getKey()));
            was.append(was.isEmpty() ? "" : ", ").append(d.getKey()).append(" was ").append(d.getValue());
        }
        String trigger = rel + " differs from the plan (" + was + "; pod spec from " + source + ")";
        if (dryRun) {
            String key = "dry-run " + target + " " + differing;
            if (!key.equals(pending.put(cgroup, key))) {
                recorder.record(LOOP, podKey, container, action.toString(), trigger, "dry-run");
            }
            return Outcome.PENDING;
        }
        try {
            writer.apply(cgroup, target);
        } catch (CgroupWriteException e) {
            return fail(cgroup, podKey, container, action.toString(), trigger, e);
        }
        pending.remove(cgroup);
        recorder.record(LOOP, podKey, container, action.toString(), trigger, "ok");
        return Outcome.WRITTEN;
    }

    private Outcome fail(Path cgroup, String podKey, String container, String action, String trigger,
                         CgroupWriteException e) {
        String key = "failed " + action + " " + e.getMessage();
        if (!key.equals(pending.put(cgroup, key))) {
            recorder.record(LOOP, podKey, container, action, trigger, "failed: " + e.getMessage());
        }
        return Outcome.FAILED;
    }
}
