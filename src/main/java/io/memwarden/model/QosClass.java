package io.memwarden.model;

/** Kubernetes pod QoS class, with the API's spelling. */
public enum QosClass {
    GUARANTEED("Guaranteed"),
    BURSTABLE("Burstable"),
    BEST_EFFORT("BestEffort");

    private final String apiName;

    QosClass(String apiName) {
        this.apiName = apiName;
    }

    public String apiName() {
        return apiName;
    }

    /** Parses the API spelling ({@code Guaranteed}, {@code Burstable}, {@code BestEffort}). */
    public static QosClass fromApiName(String name) {
        for (QosClass q : values()) {
            if (q.apiName.equals(name)) {
                return q;
            }
        }
        throw new IllegalArgumentException("unknown QoS class \"" + name + "\" (expected Guaranteed, Burstable or BestEffort)");
    }

    @Override
    public String toString() {
        return apiName;
    }
}
