package io.memwarden.nri.wire;

/** A ttrpc call answered with a non-OK status, or a handler's refusal carrying the status to send. */
public final class RpcException extends Exception {
    private final int code;

    public RpcException(int code, String message) {
        super(message);
        this.code = code;
    }

    public int code() {
        return code;
    }

    @Override
    public String toString() {
        return "ttrpc status " + code + ": " + getMessage();
    }
}
