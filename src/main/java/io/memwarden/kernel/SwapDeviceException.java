package io.memwarden.kernel;

import java.util.Objects;

/**
 * A swap file, zram device or /proc/swaps operation that could not be done. The message names the device or path
 * and the offending value; {@link #kind()} says what went wrong so callers can map it (the CLI: {@code INVALID} and
 * {@code NOT_FOUND} are usage errors, the others runtime failures).
 */
public final class SwapDeviceException extends Exception {

    public enum Kind {
        /** The effective uid is not 0. */
        NOT_ROOT,
        /** The device or path is in use (active swap, initialised zram, mounted). */
        BUSY,
        /** The device or path does not exist, or is not an active swap area. */
        NOT_FOUND,
        /** An argument is out of range or not acceptable (size, priority, name, algorithm, existing path). */
        INVALID,
        /** A tool (fallocate, dd, mkswap, swapon, swapoff) or a kernel file write failed. */
        COMMAND_FAILED
    }

    private final Kind kind;

    public SwapDeviceException(Kind kind, String message) {
        super(message);
        this.kind = Objects.requireNonNull(kind, "kind");
    }

    public SwapDeviceException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = Objects.requireNonNull(kind, "kind");
    }

    public Kind kind() {
        return kind;
    }
}
