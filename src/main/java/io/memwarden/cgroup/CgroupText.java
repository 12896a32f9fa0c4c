package io.memwarden.cgroup;

import io.memwarden.model.Pressure;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads small kernel text files (cgroup and proc files, ASCII) into a per-thread buffer that is reused, and parses
 * them in place: no byte[] per read, no String per file. The agent's loops read cgroup files every second for every
 * container, where {@code Files.readString} allocated a buffer and a String each time.
 * <p>
 * The view returned by {@link #read(Path)} is valid until the calling thread's next read.
 */
final class CgroupText {
    private static final ThreadLocal<Buffer> BUF = ThreadLocal.withInitial(Buffer::new);

    private CgroupText() {
    }

    /** The file's bytes as Latin-1 characters (the kernel's files are ASCII); valid until the thread's next read. */
    static CharSequence read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return read(ch);
        }
    }

    /**
     * The whole text of an open kernel file, read with positional reads from offset 0 (a cgroup or proc file's text
     * is generated afresh by a read from its start); valid until the thread's next read.
     */
    static CharSequence read(FileChannel ch) throws IOException {
        Buffer b = BUF.get();
        int at = 0;
        while (true) {
            if (at == b.bytes.length) {
                b.bytes = java.util.Arrays.copyOf(b.bytes, b.bytes.length * 2);
            }
            ByteBuffer bb = ByteBuffer.wrap(b.bytes, at, b.bytes.length - at);
            int n = ch.read(bb, at);
            if (n <= 0) {
                break;
            }
            at += n;
        }
        b.length = at;
        return b;
    }

    /** A whole file holding one integer (surrounding white space allowed). */
    static long readLong(Path file) throws IOException {
        return parseLong(file, read(file));
    }

    static long parseLong(Path file, CharSequence s) {
        int b = skipSpace(s, 0, s.length());
        int e = trimEnd(s, b, s.length());
        try {
            return Long.parseLong(s, b, e, 10);
        } catch (NumberFormatException ex) {
            throw new NumberFormatException(file + ": not an integer: \"" + s.subSequence(b, e) + "\"");
        }
    }

    /** A limit file: "max" → -1; a v1 unlimited (≥ 2^62) → -1; otherwise the bytes. */
    static long readLimit(Path file) throws IOException {
        return parseLimit(file, read(file));
    }

    static long parseLimit(Path file, CharSequence s) {
        int b = skipSpace(s, 0, s.length());
        int e = trimEnd(s, b, s.length());
        if (e - b == 3 && s.charAt(b) == 'm' && s.charAt(b + 1) == 'a' && s.charAt(b + 2) == 'x') {
            return -1;
        }
        long v;
        try {
            v = Long.parseLong(s, b, e, 10);
        } catch (NumberFormatException ex) {
            throw new NumberFormatException(file + ": not a limit: \"" + s.subSequence(b, e) + "\"");
        }
        return v >= (1L << 62) ? -1 : v;
    }

    /** The end of {@code s[from, end)} without its trailing white space. */
    static int trimEnd(CharSequence s, int from, int end) {
        int e = end;
        while (e > from && Character.isWhitespace(s.charAt(e - 1))) {
            e--;
        }
        return e;
    }

    /** One integer per non-blank line (cgroup.procs). */
    static List<Long> readLongLines(Path file) throws IOException {
        return parseLongLines(read(file));
    }

    static List<Long> parseLongLines(CharSequence s) {
        List<Long> out = new ArrayList<>();
        int at = 0;
        int n = s.length();
        while (at < n) {
            int end = at;
            while (end < n && s.charAt(end) != '\n') {
                end++;
            }
            int b = skipSpace(s, at, end);
            int e = trimEnd(s, b, end);
            if (e > b) {
                out.add(Long.parseLong(s, b, e, 10));
            }
            at = end + 1;
        }
        return out;
    }

    static int skipSpace(CharSequence s, int from, int end) {
        while (from < end && Character.isWhitespace(s.charAt(from))) {
            from++;
        }
        return from;
    }

    /** The reused buffer, seen as characters. */
    private static final class Buffer implements CharSequence {
        byte[] bytes = new byte[8192];
        int length;

        @Override
        public int length() {
            return length;
        }

        @Override
        public char charAt(int index) {
            if (index >= length) {
                throw new IndexOutOfBoundsException(index);
            }
            return (char) (bytes[index] & 0xff);
        }

        @Override
        public CharSequence subSequence(int start, int end) {
            return toString(start, end);
        }

        private String toString(int start, int end) {
            return new String(bytes, start, end - start, java.nio.charset.StandardCharsets.ISO_8859_1);
        }

        @Override
        public String toString() {
            return toString(0, length);
        }
    }

    /** A PSI file ({@code /proc/pressure/memory}, a v2 cgroup's {@code memory.pressure}) read and parsed. */
    static Pressure pressure(Path file) throws IOException {
        return Pressure.parse(Files.readString(file));
    }
}
