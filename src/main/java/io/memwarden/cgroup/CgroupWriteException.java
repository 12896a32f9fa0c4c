package io.memwarden.cgroup;

import java.nio.file.Path;

/** A cgroup write that failed; names the cgroup, file and value. After it, the cgroup holds its previous values. */
public final class CgroupWriteException extends Exception {

    /** What went wrong, in errno terms. */
    public enum Kind {
        /** EBUSY: e.g. a limit below what the cgroup uses and cannot reclaim. */
        BUSY,
        /** EINVAL: a value the kernel rejects (e.g. v1 memsw below the memory limit). */
        INVALID,
        /** the file does not exist (controller or feature missing). */
        MISSING,
        /** EACCES/EPERM. */
        PERMISSION,
        /** the value read back differs from what was written. */
        VERIFY,
        /** memwarden refused before touching the cgroup: the file is not a memory controller setting it writes. */
        REFUSED,
        OTHER
    }

    private final Kind kind;
    private final Path cgroup;
    private final String file;
    private final String value;

    public CgroupWriteException(Kind kind, Path cgroup, String file, String value, String detail, Throwable cause) {
        super(kindText(kind) + " writing " + file + "=" + value + " in " + cgroup + (detail == null ? "" : ": " + detail),
                cause);
        this.kind = kind;
        this.cgroup = cgroup;
        this.file = file;
        this.value = value;
    }

    private static String kindText(Kind k) {
        return switch (k) {
            case BUSY -> "EBUSY";
            case INVALID -> "EINVAL";
            case MISSING -> "missing file";
            case PERMISSION -> "permission denied";
            case VERIFY -> "read-back mismatch";
            case REFUSED -> "refused";
            case OTHER -> "error";
        };
    }

    public Kind kind() {
        return kind;
    }

    public Path cgroup() {
        return cgroup;
    }

    public String file() {
        return file;
    }

    public String value() {
        return value;
    }
}
