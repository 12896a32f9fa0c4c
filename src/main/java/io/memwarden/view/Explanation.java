package io.memwarden.view;

import io.memwarden.model.CgroupFiles;
import io.memwarden.model.HumanBytes;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code memwarden explain}: why a pod's containers have the values they have — for each container its class, swap
 * behaviour, the planned cgroup files next to the live values, the plan's reasons, and the loops' decisions about
 * it. Pure; {@link #of} selects from a {@link StatusDoc}, {@link #text} renders. Field names are the
 * {@code -o json} contract.
 *
 * @param actionsTotal  every loop action of the run (the server lists only the newest {@code actionsListed})
 * @param balloon       the node's balloon (the node is a VM): what the hypervisor left is the capacity the pressure
 *                      guard's thresholds are computed on; null without one
 * @param balloonGrowth the balloon's large growths among the listed actions, oldest first; null without a balloon
 *                      and without such actions
 * @param guard         the pressure guard's level and the kubelet's MemoryPressure condition; null when the server
 *                      runs no guard; printed only while the guard is not at NONE or MemoryPressure is true
 */
public record Explanation(String server, long atMillis, String namespace, String pod, String qosClass,
                          int actionsTotal, int actionsListed, List<ContainerExplanation> containers,
                          StatusDoc.Balloon balloon, List<StatusDoc.Action> balloonGrowth, StatusDoc.Guard guard) {

    /**
     * @param state     "running", "exited N" or "stopped"
     * @param cgroup    each planned cgroup file → its planned and (where the status carries it) live value
     * @param reasons   the plan's reasons, in the plan's order
     * @param live      the cgroup's numbers now; null once it is gone
     * @param decisions loop actions concerning this container or its whole pod, oldest first
     * @param offload   the offload loop's numbers (bytes moved out, working-set estimate); null when it never acted
     * @param oomCause  one sentence connecting its OOM kills (or the guard's eviction) to their cause
     *                  ({@link OomCause}); null when nothing killed it
     */
    public record ContainerExplanation(String name, boolean init, String state, String qosClass, String swapBehavior,
                                       Integer oomScoreAdj, Map<String, CgroupValue> cgroup, List<String> reasons,
                                       StatusDoc.Memory live, List<StatusDoc.Action> decisions,
                                       StatusDoc.Offload offload, String oomCause) {}

    /**
     * @param live    the value read from the cgroup in the file's own form (bytes or "max"); null when the status
     *                does not carry that file
     * @param matches whether live equals planned (the kernel rounds limits down to a page); null when unknown
     */
    public record CgroupValue(String planned, String live, Boolean matches) {}

    /** Why a pod (or container) cannot be explained: not managed, or no such container. */
    public static final class NotFound extends RuntimeException {
        public NotFound(String message) {
            super(message);
        }
    }

    /**
     * Selects {@code NS/POD} (and the one container, when named) from the document.
     *
     * @throws NotFound naming the server, the number of managed pods and close matches
     */
    public static Explanation of(StatusDoc d, String server, String namespace, String pod, String container) {
        List<StatusDoc.Container> ofPod = d.containers().stream()
                .filter(c -> c.namespace().equals(namespace) && c.pod().equals(pod)).toList();
        if (ofPod.isEmpty()) {
            List<String> managed = d.containers().stream().map(StatusDoc.Container::podKey).distinct().toList();
            List<String> close = PodMatch.closest(namespace + "/" + pod, managed, 5);
            throw new NotFound("pod " + namespace + "/" + pod + " is not managed by memwarden at " + server
                    + " (managed: " + managed.size() + " pod" + (managed.size() == 1 ? "" : "s") + ")"
                    + (close.isEmpty() ? "" : "; did you mean " + String.join(", ", close) + "?"));
        }
        List<StatusDoc.Container> chosen = ofPod;
        if (container != null) {
            chosen = ofPod.stream().filter(c -> c.container().equals(container)).toList();
            if (chosen.isEmpty()) {
                throw new NotFound("pod " + namespace + "/" + pod + " has no container " + container
                        + " (containers: " + String.join(", ", ofPod.stream().map(StatusDoc.Container::container)
                        .toList()) + ")");
            }
        }
        List<ContainerExplanation> out = new ArrayList<>();
        for (StatusDoc.Container c : chosen) {
            List<StatusDoc.Action> decisions = d.recentActions().stream()
                    .filter(a -> a.concerns(namespace, pod, c.container()))
                    .sorted(Comparator.comparingLong(StatusDoc.Action::atMillis))
                    .toList();
            StatusDoc.ContainerPlan p = c.plan();
            Map<String, CgroupValue> cgroup = new LinkedHashMap<>();
            if (p != null) {
                p.cgroup().forEach((file, planned) -> cgroup.put(file, compare(file, planned, c.memory())));
            }
            out.add(new ContainerExplanation(c.container(), c.init(), TopFrame.state(c), c.qosClass(),
                    c.swapBehavior(), p == null ? null : p.oomScoreAdj(), cgroup,
                    p == null ? List.of() : p.reasons(), c.memory(), decisions, c.offload(),
                    OomCause.of(c, decisions, d.node(), d.oomKills())));
        }
        List<StatusDoc.Action> growth = d.recentActions().stream().filter(a -> a.loop().equals("balloon"))
                .sorted(Comparator.comparingLong(StatusDoc.Action::atMillis)).toList();
        return new Explanation(server, d.atMillis(), namespace, pod, ofPod.getFirst().qosClass(), d.actionsTotal(),
                d.recentActions().size(), List.copyOf(out), d.node().balloon(),
                d.node().balloon() == null && growth.isEmpty() ? null : growth,
                d.node().guard() == null || d.node().guard().level().equals("NONE") && !d.node().guard().memoryPressure()
                        ? null : d.node().guard());
    }

    private static final long PAGE = 4096;

    /** The planned value next to the live one, for the files the status carries (limits, memory.high, swap). */
    static CgroupValue compare(String file, String planned, StatusDoc.Memory m) {
        if (m == null) {
            return new CgroupValue(planned, null, null);
        }
        Long live = switch (file) {
            case CgroupFiles.MEMORY_MAX, CgroupFiles.V1_LIMIT -> m.limitBytes();
            case CgroupFiles.MEMORY_HIGH -> m.cgroupVersion() == 2 ? m.highBytes() : null;
            case CgroupFiles.MEMORY_SWAP_MAX -> m.cgroupVersion() == 2 ? m.swapLimitBytes() : null;
            case CgroupFiles.V1_MEMSW_LIMIT -> m.limitBytes() < 0 || m.swapLimitBytes() < 0 ? -1L
                    : m.limitBytes() + m.swapLimitBytes();
            default -> null;
        };
        if (live == null) {
            return new CgroupValue(planned, null, null);
        }
        String liveText = live < 0 ? "max" : Long.toString(live);
        Long want = bytes(planned);
        if (want == null) {
            return new CgroupValue(planned, liveText, null);
        }
        boolean same = want < 0 ? live < 0 : live >= 0 && live <= want && want - live < PAGE;
        return new CgroupValue(planned, liveText, same);
    }

    /** "max" and "-1" are unlimited (-1); a decimal is bytes; anything else is not a byte value (null). */
    private static Long bytes(String v) {
        if (v.equals("max") || v.equals("-1")) {
            return -1L;
        }
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'", Locale.ROOT).withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter CLOCK =
            DateTimeFormatter.ofPattern("HH:mm:ss.SSS", Locale.ROOT).withZone(ZoneOffset.UTC);

    /** The explanation as text, one section per container. */
    public List<String> text() {
        List<String> l = new ArrayList<>();
        l.add("pod " + namespace + "/" + pod + "  QoS " + qosClass + "  (memwarden at " + server + ", "
                + TIME.format(Instant.ofEpochMilli(atMillis)) + ")");
        if (balloon != null) {
            l.add("node: a VM; " + balloon.driver() + " holds " + Bytes.human(balloon.balloonBytes()) + " of "
                    + Bytes.human(balloon.physicalBytes()) + ", capacity " + Bytes.human(balloon.effectiveBytes())
                    + " (the pressure guard's thresholds follow it)"
                    + (balloon.growthBytesPerSecond() > 0 ? "; growing " + Bytes.human(
                    Math.round(balloon.growthBytesPerSecond())) + "/s" : "")
                    + (balloon.freePageReporting() ? "; free page reporting on (not pressure)" : ""));
            if (balloon.podRequestsBytes() > balloon.effectiveBytes()) {
                l.add("  the pods here request " + Bytes.human(balloon.podRequestsBytes()) + ", "
                        + Bytes.human(balloon.podRequestsBytes() - balloon.effectiveBytes()) + " above that capacity:"
                        + " the scheduler placed them on an allocatable the balloon does not change");
            }
            for (StatusDoc.Action a : balloonGrowth == null ? List.<StatusDoc.Action>of() : balloonGrowth) {
                l.add("  " + CLOCK.format(Instant.ofEpochMilli(a.atMillis())) + "  " + a.trigger());
            }
        }
        if (guard != null) {
            l.add("node: pressure guard " + guard.level() + "; MemoryPressure " + (guard.memoryPressure()
                    ? "True (KubeletHasInsufficientMemory; stays so until no kubelet threshold was met for "
                    + guard.transitionPeriodSeconds() + " s)" : "False")
                    + (guard.thresholdsMet().isEmpty() ? "" : "; kubelet thresholds met: "
                    + String.join(", ", guard.thresholdsMet())));
        }
        for (ContainerExplanation c : containers) {
            l.add("");
            l.add("container " + c.name() + (c.init() ? " (init)" : "") + "  " + c.state());
            l.add("  class:          " + c.qosClass() + " (QoS)");
            l.add("  swap behaviour: " + c.swapBehavior());
            if (c.oomCause() != null) {
                l.add("  killed:         " + c.oomCause());
            }
            if (c.oomScoreAdj() != null) {
                l.add("  oom_score_adj:  " + c.oomScoreAdj());
            }
            if (c.cgroup().isEmpty()) {
                l.add("  planned cgroup files: none (the server knows no plan for this container)");
            } else {
                l.add("  planned cgroup files:");
                List<String[]> rows = new ArrayList<>();
                c.cgroup().forEach((file, v) -> rows.add(new String[] {"    " + file, v.planned() + human(file, v.planned()),
                        v.live() == null ? "" : "live " + v.live() + human(file, v.live())
                                + (Boolean.FALSE.equals(v.matches()) ? "  DIFFERS" : "")}));
                l.addAll(strip(TopFrame.align(rows)));
            }
            if (!c.reasons().isEmpty()) {
                l.add("  reasons:");
                c.reasons().forEach(r -> l.add("    - " + r));
            }
            StatusDoc.Memory m = c.live();
            if (m == null) {
                l.add("  live: cgroup gone");
            } else {
                l.add("  live (cgroup v" + m.cgroupVersion() + "):");
                l.add("    usage " + Bytes.human(m.usageBytes()) + "  working set " + Bytes.human(m.workingSetBytes())
                        + "  swap " + Bytes.human(m.swapBytes()) + " of " + Bytes.human(m.swapLimitBytes())
                        + "  limit " + Bytes.human(m.limitBytes())
                        + (m.cgroupVersion() == 2 ? "  memory.high " + Bytes.human(m.highBytes()) : ""));
                if (!m.events().isEmpty()) {
                    StringBuilder b = new StringBuilder("    events:");
                    m.events().forEach((k, v) -> b.append(' ').append(k).append('=').append(v));
                    l.add(b.toString());
                }
            }
            StatusDoc.Offload o = c.offload();
            if (o != null) {
                l.add("  offload: " + Bytes.human(o.offloadedBytes()) + " moved out since the agent started"
                        + (o.workingSetEstimateBytes() == null ? "; no working-set estimate yet"
                        : "; working set estimate " + Bytes.human(o.workingSetEstimateBytes()) + " ("
                        + o.estimateHow() + ", " + CLOCK.format(Instant.ofEpochMilli(o.estimateAtMillis())) + ")"));
            }
            if (c.decisions().isEmpty()) {
                l.add("  loop decisions: none" + (actionsTotal > actionsListed
                        ? " among the newest " + actionsListed + " of " + actionsTotal : ""));
            } else {
                l.add("  loop decisions (oldest first" + (actionsTotal > actionsListed
                        ? ", from the newest " + actionsListed + " of " + actionsTotal : "") + "):");
                for (StatusDoc.Action a : c.decisions()) {
                    l.add("    " + CLOCK.format(Instant.ofEpochMilli(a.atMillis())) + "  " + a.loop()
                            + (a.container() == null ? " (whole pod)" : "") + "  " + a.action() + "  -> "
                            + a.result());
                    l.add("        trigger: " + a.trigger());
                    if (a.actedOn() != null) {
                        l.add("        which acted: " + a.actedOn().line()
                                + (a.actedOn().podGraceSeconds() == null ? ""
                                : "; pod grace period " + a.actedOn().podGraceSeconds() + " s"));
                    }
                }
            }
        }
        return l;
    }

    /** " (1152Mi)" after a byte file's exact value of 1 KiB or more; nothing for other files and words. */
    private static String human(String file, String v) {
        Long b = HumanBytes.BYTE_FILES.contains(file) ? bytes(v) : null;
        return b == null || b < 1024 ? "" : " (" + Bytes.human(b) + ")";
    }

    private static List<String> strip(List<String> lines) {
        return lines.stream().map(String::stripTrailing).toList();
    }
}
