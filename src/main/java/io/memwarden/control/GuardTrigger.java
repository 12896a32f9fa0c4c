package io.memwarden.control;

/**
 * Which threshold made the pressure guard act, recorded with each of its actions so that {@code explain} can say
 * whether memwarden's own guard settings ({@code loops.guard.*}) or the kubelet's eviction thresholds acted, and
 * where the other side stood at that moment.
 *
 * @param by             {@link #MEMWARDEN} or {@link #KUBELET}
 * @param threshold      the threshold in words: "loops.guard.hardAvailable 200Mi", "loops.guard PSI full avg10 40%",
 *                       "evictionHard memory.available<100Mi", "evictionSoft memory.available<1Gi (grace 1m30s)"
 * @param signal         memory.available or allocatableMemory.available (the one {@code availableBytes} is of)
 * @param availableBytes the signal's available bytes when the guard decided
 * @param thresholdBytes the threshold in bytes (0 for a PSI or balloon trigger)
 * @param versus         the other side's thresholds at that moment, e.g. "before the kubelet's hard threshold
 *                       memory.available&lt;100Mi"
 */
public record GuardTrigger(String by, String threshold, String signal, long availableBytes, long thresholdBytes,
                           String versus) {
    public static final String MEMWARDEN = "memwarden";
    public static final String KUBELET = "kubelet";

    /** One line: "guard acted at 180Mi available (memwarden loops.guard.hardAvailable 200Mi), before the kubelet's ...". */
    public String line() {
        return "guard acted at " + PressureGuard.human(availableBytes) + " " + signal + " (" + by + " " + threshold
                + ")" + (versus == null || versus.isEmpty() ? "" : ", " + versus);
    }
}
