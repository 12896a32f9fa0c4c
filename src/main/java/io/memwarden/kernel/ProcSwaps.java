package io.memwarden.kernel;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Reader of {@code /proc/swaps}:
 *
 * <pre>
 * Filename                                Type            Size            Used            Priority
 * /dev/zram0                              partition       65532           0               100
 * /var/tmp/my\040swap                     file            65532           0               -2
 * </pre>
 *
 * Sizes are KiB. The kernel escapes space, tab, newline and backslash in paths as octal ({@code \040}), so a line
 * always has five whitespace-separated fields.
 */
final class ProcSwaps {
    private ProcSwaps() {}

    public static final Path PATH = Path.of("/proc/swaps");

    /** Reads and parses the given file (normally {@link #PATH}). */
    public static List<SwapArea> read(Path file) throws IOException {
        try {
            // not readString: a path may hold bytes that are not UTF-8; those become U+FFFD instead of failing
            return parse(new String(Files.readAllBytes(file), StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    /** The active swap area with this (unescaped) path, if any. */
    public static Optional<SwapArea> find(List<SwapArea> areas, String path) {
        return areas.stream().filter(a -> a.path().equals(path)).findFirst();
    }

    /**
     * Parses the text of /proc/swaps. The header line is optional; blank lines are skipped.
     *
     * @throws IllegalArgumentException naming the line number and the line when a line is malformed
     */
    public static List<SwapArea> parse(String text) {
        List<SwapArea> areas = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || (i == 0 && line.startsWith("Filename"))) {
                continue;
            }
            String[] f = line.split("\\s+");
            if (f.length != 5) {
                throw new IllegalArgumentException("line " + (i + 1) + ": expected 5 fields (Filename Type Size Used"
                        + " Priority), got " + f.length + ": \"" + line + "\"");
            }
            try {
                areas.add(new SwapArea(unescape(f[0]), SwapArea.Type.fromProc(f[1]), kibToBytes(f[2], "Size"),
                        kibToBytes(f[3], "Used"), parseInt(f[4], "Priority")));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("line " + (i + 1) + ": " + e.getMessage() + ": \"" + line + "\"", e);
            }
        }
        return List.copyOf(areas);
    }

    private static long kibToBytes(String s, String field) {
        long kib;
        try {
            kib = Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(field + " \"" + s + "\" is not a number");
        }
        if (kib < 0 || kib > Long.MAX_VALUE / 1024) {
            throw new IllegalArgumentException(field + " " + s + " KiB is out of range");
        }
        return kib * 1024;
    }

    private static int parseInt(String s, String field) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(field + " \"" + s + "\" is not a number");
        }
    }

    /** Undoes the kernel's octal escapes ({@code \040} space, {@code \011} tab, {@code \012} newline, {@code \134} backslash). */
    public static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && isOctal(s, i + 1)) {
                sb.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    private static boolean isOctal(String s, int from) {
        if (from + 3 > s.length()) {
            return false;
        }
        for (int j = from; j < from + 3; j++) {
            char d = s.charAt(j);
            if (d < '0' || d > '7') {
                return false;
            }
        }
        return true;
    }
}
