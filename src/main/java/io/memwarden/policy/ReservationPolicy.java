package io.memwarden.policy;

/** KubeletConfiguration {@code memoryReservationPolicy} (1.36+). */
public enum ReservationPolicy {
    NONE("None"),
    TIERED_RESERVATION("TieredReservation");

    private final String configName;

    ReservationPolicy(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    public static ReservationPolicy parse(String s) {
        if (s == null || s.isEmpty() || s.equals("None")) {
            return NONE;
        }
        if (s.equals("TieredReservation")) {
            return TIERED_RESERVATION;
        }
        throw new IllegalArgumentException("unknown memoryReservationPolicy \"" + s + "\" (expected None or TieredReservation)");
    }

    @Override
    public String toString() {
        return configName;
    }
}
