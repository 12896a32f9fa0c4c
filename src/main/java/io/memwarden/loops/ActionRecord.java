package io.memwarden.loops;

/**
 * One decision taken (or, in dry-run, that would have been taken), with its trigger and result.
 *
 * @param atMillis  the loops' clock ({@link ControlLoops#clock()}, monotonic; surfaces convert to wall time)
 * @param pod       namespace/name
 * @param container null when it concerned the whole pod (eviction)
 * @param result    "ok", "dry-run", "reclaimed N bytes", "failed: ...", "skipped: ..."
 * @param actedOn   the pressure guard's actions: which threshold acted (memwarden's own or the kubelet's) and where
 *                  the other side stood; null for the other loops
 */
public record ActionRecord(long atMillis, String loop, String pod, String container, String action, String trigger,
                           String result, NodeStatus.ActedOn actedOn) {

    /** An action that is not the pressure guard's. */
    public ActionRecord(long atMillis, String loop, String pod, String container, String action, String trigger,
                        String result) {
        this(atMillis, loop, pod, container, action, trigger, result, null);
    }
}
