package io.memwarden.view;

import io.memwarden.model.HumanBytes;

/** Byte counts for people: {@link HumanBytes} (exact when an integer, else four significant digits). */
final class Bytes {
    private Bytes() {}

    /** "0", "512", "1536", "80.23Mi", "128Mi", "3.75Gi"; a negative value (unlimited) is "max". */
    public static String human(long bytes) {
        return bytes < 0 ? "max" : HumanBytes.of(bytes);
    }
}
