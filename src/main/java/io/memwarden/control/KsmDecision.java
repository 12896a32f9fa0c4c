package io.memwarden.control;

/**
 * What one tuner pass writes, with its reason. A null setting is not written (KubeVirt writes only {@code run} while
 * KSM stays stopped; ksmtuned too).
 *
 * @param run            0 stop, 1 run, 2 unmerge everything (net loss); null: write nothing
 * @param pagesToScan    pages_to_scan, or null
 * @param sleepMillisecs sleep_millisecs, or null
 * @param pressure       whether the policy saw the pressure that makes it want KSM running
 */
public record KsmDecision(Integer run, Long pagesToScan, Long sleepMillisecs, boolean pressure, String reason) {

    public static KsmDecision stop(boolean pressure, String reason) {
        return new KsmDecision(0, null, null, pressure, reason);
    }

    public static KsmDecision start(long pagesToScan, long sleepMillisecs, boolean pressure, String reason) {
        return new KsmDecision(1, pagesToScan, sleepMillisecs, pressure, reason);
    }

    public static KsmDecision nothing(boolean pressure, String reason) {
        return new KsmDecision(null, null, null, pressure, reason);
    }
}
