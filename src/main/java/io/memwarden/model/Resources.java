package io.memwarden.model;

/**
 * The cpu and memory part of a resource stanza; {@code null} means the key is absent. Memory is in bytes (rounded
 * up as {@code Quantity.Value()}), cpu exact.
 */
public record Resources(KubeQuantity cpuRequest, KubeQuantity cpuLimit, Long memoryRequest, Long memoryLimit) {

    public static final Resources NONE = new Resources(null, null, null, null);

    /** The memory request, 0 when absent (the kubelet's {@code Requests.Memory().Value()}). */
    public long memoryRequestOrZero() {
        return memoryRequest == null ? 0 : memoryRequest;
    }

    /** The memory limit, 0 when absent. */
    public long memoryLimitOrZero() {
        return memoryLimit == null ? 0 : memoryLimit;
    }

    public boolean hasMemoryLimit() {
        return memoryLimit != null && memoryLimit != 0;
    }

    public boolean hasMemoryRequest() {
        return memoryRequest != null && memoryRequest != 0;
    }

    /** These resources with another memory request and limit (cpu kept). */
    public Resources withMemory(Long request, Long limit) {
        return new Resources(cpuRequest, cpuLimit, request, limit);
    }

    /** True when any cpu or memory key is present (the "stanza is set" test of pod-level resources). */
    public boolean isSet() {
        return cpuRequest != null || cpuLimit != null || memoryRequest != null || memoryLimit != null;
    }
}
