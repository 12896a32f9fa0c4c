package io.memwarden.kernel;

import java.util.Objects;

/**
 * One line of {@code /proc/swaps}: an active swap area.
 *
 * @param path     the file or device path, unescaped ({@code \040} → space)
 * @param type     file or partition (the kernel calls every block device a partition, zram included)
 * @param size     usable size in bytes (the kernel reports KiB; the header page is not counted)
 * @param used     bytes in use
 * @param priority swap priority; higher is used first, the kernel gives areas without one negative values
 */
public record SwapArea(String path, Type type, long size, long used, int priority) {

    public enum Type {
        FILE("file"), PARTITION("partition");

        private final String procName;

        Type(String procName) {
            this.procName = procName;
        }

        /** The word /proc/swaps uses. */
        public String procName() {
            return procName;
        }

        static Type fromProc(String word) {
            for (Type t : values()) {
                if (t.procName.equals(word)) {
                    return t;
                }
            }
            throw new IllegalArgumentException("unknown swap type \"" + word + "\" (expected file or partition)");
        }
    }

    /** The highest priority swapon accepts ({@code SWAP_FLAG_PRIO_MASK}). */
    public static final int MAX_PRIORITY = 32767;
    /** The smallest swap area mkswap accepts: 10 pages of 4 KiB. */
    public static final long MIN_SIZE = 10 * 4096;

    /** Why {@code priority} cannot be given to {@code swapon -p}, or null when it can. */
    public static String priorityProblem(int priority) {
        return priority < 0 || priority > MAX_PRIORITY
                ? priority + " is out of range 0.." + MAX_PRIORITY + " (swapon -p)" : null;
    }

    /** Why {@code size} bytes cannot be a swap area, or null when it can. */
    public static String sizeProblem(long size) {
        return size < MIN_SIZE ? size + " bytes is smaller than the " + MIN_SIZE + " bytes (40Ki, 10 pages) mkswap needs"
                : null;
    }

    public SwapArea {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(type, "type");
        if (size < 0 || used < 0) {
            throw new IllegalArgumentException("swap area " + path + ": negative size or used");
        }
    }
}
