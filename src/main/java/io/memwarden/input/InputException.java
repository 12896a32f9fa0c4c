package io.memwarden.input;

/** An input file (node facts, kubelet config, memwarden config, manifests, usage) that cannot be used. */
public final class InputException extends Exception {
    public InputException(String message) {
        super(message);
    }

    public InputException(String message, Throwable cause) {
        super(message, cause);
    }

    /** "FILE: field F: MESSAGE". */
    public static InputException field(String file, String field, String message) {
        return new InputException(file + ": field " + field + ": " + message);
    }
}
