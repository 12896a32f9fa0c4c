package io.memwarden.kernel;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * A saved kernel log (kmsg records as {@code cat /dev/kmsg} writes them, {@code dmesg -r} lines, or plain
 * messages), read line by line in bounded memory: one line of at most {@link #MAX_LINE_BYTES} is held at a time,
 * whatever the file's size.
 *
 * <ul>
 *   <li>{@link #open} refuses, with the reason in words ({@link Unusable}), a path that does not exist, a directory,
 *       a file that cannot be opened, and binary data: a NUL byte in the first {@link #BINARY_PROBE_BYTES} bytes
 *       (git's and grep's test).</li>
 *   <li>{@link #next} gives every other line as an entry numbered by its line: a line longer than
 *       {@link #MAX_LINE_BYTES}, with a NUL byte or not UTF-8 comes back as a {@link BadKmsgRecord} (and the rest of
 *       the file is read on). Empty lines and continuation lines (starting with a blank: kmsg's dictionary) are
 *       passed over; a trailing CR (CRLF files) is dropped; the last line needs no newline.</li>
 * </ul>
 */
public final class KernelLogFile implements AutoCloseable {
    /** The longest line read (the kernel's longest record, escaped, is 8 KiB; a longer line is skipped as bad). */
    public static final int MAX_LINE_BYTES = 64 * 1024;
    /** How much of the start is checked for a NUL byte (binary data). */
    public static final int BINARY_PROBE_BYTES = 8000;

    /** The file cannot serve as a kernel log; {@link #getMessage()} is "FILE: reason". */
    public static final class Unusable extends IOException {
        private final String reason;

        Unusable(Path file, String reason) {
            super(file + ": " + reason);
            this.reason = reason;
        }

        public String reason() {
            return reason;
        }
    }

    private final Path file;
    private final InputStream in;
    private final byte[] buf = new byte[MAX_LINE_BYTES];
    private int pos;
    private int lim;
    private boolean eof;
    private final byte[] line = new byte[MAX_LINE_BYTES];
    private long lineNumber;
    private long bytesRead;

    private KernelLogFile(Path file, InputStream in) {
        this.file = file;
        this.in = in;
    }

    /** Opens {@code file} and checks that its start is text. */
    public static KernelLogFile open(Path file) throws Unusable {
        if (Files.isDirectory(file)) {
            throw new Unusable(file, "is a directory, not a kernel log file");
        }
        InputStream in;
        try {
            in = Files.newInputStream(file);
        } catch (IOException e) {
            throw new Unusable(file, openFailure(e));
        }
        KernelLogFile f = new KernelLogFile(file, in);
        try {
            while (!f.eof && f.lim < BINARY_PROBE_BYTES) {
                f.fill();
            }
        } catch (IOException e) {
            f.close();
            throw new Unusable(file, "cannot be read: " + reason(e));
        }
        for (int i = 0; i < Math.min(f.lim, BINARY_PROBE_BYTES); i++) {
            if (f.buf[i] == 0) {
                f.close();
                throw new Unusable(file, "binary data, not a kernel log (a NUL byte at offset " + i + ")");
            }
        }
        return f;
    }

    /** Why opening failed, in words. */
    static String openFailure(IOException e) {
        return switch (e) {
            case NoSuchFileException x -> "no such file";
            case AccessDeniedException x -> "permission denied (not readable by this user)";
            default -> "cannot be opened: " + reason(e);
        };
    }

    /** An I/O failure's reason as the operating system gives it (never the exception's class). */
    static String reason(IOException e) {
        String r = e instanceof FileSystemException fse ? fse.getReason() : e.getMessage();
        return r == null || r.isBlank() ? "input/output error" : r;
    }

    /** True when the file holds no bytes at all (known once opened). */
    public boolean empty() {
        return eof && lim == 0 && bytesRead == 0;
    }

    /** The file as given. */
    public Path file() {
        return file;
    }

    /** The number of the last line read (0 before the first). */
    public long lineNumber() {
        return lineNumber;
    }

    /** The next entry, or null at the end of the file. */
    public KmsgEntry next() throws IOException {
        while (true) {
            int len = 0;
            long total = 0;
            boolean any = false;
            while (true) {
                if (pos == lim) {
                    if (eof) {
                        break;
                    }
                    fill();
                    continue;
                }
                any = true;
                int nl = -1;
                for (int i = pos; i < lim; i++) {
                    if (buf[i] == '\n') {
                        nl = i;
                        break;
                    }
                }
                int end = nl < 0 ? lim : nl;
                int copy = (int) Math.min(end - pos, Math.max(0, MAX_LINE_BYTES - total));
                System.arraycopy(buf, pos, line, len, copy);
                len += copy;
                total += end - pos;
                pos = nl < 0 ? lim : nl + 1;
                if (nl >= 0) {
                    break;
                }
            }
            if (!any) {
                return null;
            }
            lineNumber++;
            if (total > MAX_LINE_BYTES) {
                return new KmsgEntry(lineNumber, new BadKmsgRecord("line",
                        new String(line, 0, BadKmsgRecord.PREVIEW_CHARS + 1, java.nio.charset.StandardCharsets.ISO_8859_1),
                        "longer than " + MAX_LINE_BYTES + " bytes (" + total + " bytes)"));
            }
            if (len > 0 && line[len - 1] == '\r') {
                len--;
            }
            if (len == 0 || line[0] == ' ') {
                continue; // an empty line, or a continuation (dictionary) line of the record before
            }
            return new KmsgEntry(lineNumber, KmsgRecord.read(line, 0, len));
        }
    }

    private void fill() throws IOException {
        if (pos == lim) {
            pos = 0;
            lim = 0;
        }
        int n = in.read(buf, lim, buf.length - lim);
        if (n < 0) {
            eof = true;
        } else {
            lim += n;
            bytesRead += n;
        }
    }

    @Override
    public void close() {
        try {
            in.close();
        } catch (IOException ignored) {
            // read-only: nothing is lost
        }
    }
}
