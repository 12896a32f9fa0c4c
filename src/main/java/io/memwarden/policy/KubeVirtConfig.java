package io.memwarden.policy;

/**
 * The parts of the {@code kubevirt.io/v1} KubeVirt CR ({@code spec.configuration}) that size virt-launcher pods.
 *
 * @param memoryOvercommitPercent            {@code developerConfiguration.memoryOvercommit}: percent, default 100,
 *                                           minimum 10
 * @param additionalGuestMemoryOverheadRatio {@code additionalGuestMemoryOverheadRatio}: a decimal string ≥ 1.0, null
 *                                           when absent (ratio 1)
 * @param cpuAllocationRatio                 {@code developerConfiguration.cpuAllocationRatio}, default 10
 * @param serialConsoleLogDisabled           {@code virtualMachineOptions.disableSerialConsoleLog} present
 */
public record KubeVirtConfig(int memoryOvercommitPercent, String additionalGuestMemoryOverheadRatio,
                             int cpuAllocationRatio, boolean serialConsoleLogDisabled) {

    public static final KubeVirtConfig DEFAULTS = new KubeVirtConfig(100, null, 10, false);

    public KubeVirtConfig {
        if (memoryOvercommitPercent < 10) {
            throw new IllegalArgumentException("memoryOvercommit must be at least 10, got " + memoryOvercommitPercent);
        }
        if (cpuAllocationRatio <= 0) {
            throw new IllegalArgumentException("cpuAllocationRatio must be positive, got " + cpuAllocationRatio);
        }
        if (additionalGuestMemoryOverheadRatio != null) {
            double r = ratio(additionalGuestMemoryOverheadRatio);
            if (!(r >= 1.0) || Double.isInfinite(r)) {
                throw new IllegalArgumentException("additionalGuestMemoryOverheadRatio must be a number of at least"
                        + " 1.0, got \"" + additionalGuestMemoryOverheadRatio + "\"");
            }
        }
    }

    /** A decimal number as Go's {@code strconv.ParseFloat} reads the plain forms; NaN when it is not one. */
    static double ratio(String text) {
        if (!text.matches("[+-]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?")) {
            return Double.NaN;
        }
        return Double.parseDouble(text);
    }
}
