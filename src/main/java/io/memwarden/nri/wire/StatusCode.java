package io.memwarden.nri.wire;

/** The gRPC status codes ttrpc carries that memwarden sends or meets (nri-protocol.md §1.1). */
public final class StatusCode {
    private StatusCode() {}

    public static final int OK = 0;
    /** What a Go handler's plain error becomes: the runtime fails the container operation with the message. */
    public static final int UNKNOWN = 2;
    public static final int INVALID_ARGUMENT = 3;
    public static final int DEADLINE_EXCEEDED = 4;
    public static final int RESOURCE_EXHAUSTED = 8;
    /** Unknown method: v0.12+ runtimes fall back to StateChange. */
    public static final int UNIMPLEMENTED = 12;
    public static final int INTERNAL = 13;
    public static final int UNAVAILABLE = 14;
}
