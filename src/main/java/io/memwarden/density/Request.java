package io.memwarden.density;

/** A pod's request for the resources the planner places by: memory in bytes and cpu in millicores. */
public record Request(long memory, long cpuMillis) {
    public static final Request ZERO = new Request(0, 0);
}
