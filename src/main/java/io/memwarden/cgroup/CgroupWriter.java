package io.memwarden.cgroup;

import static io.memwarden.model.CgroupFiles.V1_LIMIT;
import static io.memwarden.model.CgroupFiles.V1_MEMSW_LIMIT;

import io.memwarden.model.CgroupVersion;
import io.memwarden.model.CgroupFiles;
import io.memwarden.model.Printable;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Applies a plan's files to one cgroup: all or nothing. It reads the current values, writes the new ones in a safe
 * order, reads them back, and on any failure restores the previous values (in a safe order too) before reporting a
 * typed {@link CgroupWriteException}.
 *
 * <p>Ordering: cgroup v1 requires {@code memory.memsw.limit_in_bytes >= memory.limit_in_bytes} after every write,
 * so when the new memsw is at least the current limit, memsw is written first; otherwise the limit goes first.
 * "-1" counts as unlimited. Other files are written in the plan's order.
 *
 * <p>Read-back: the kernel rounds byte limits down to the page size (v1 and v2) and shows v1's unlimited as
 * {@code PAGE_COUNTER_MAX × page}; both are accepted as equal.
 */
public final class CgroupWriter {
    private final CgroupVersion version;
    private final long pageSize;

    public CgroupWriter(CgroupVersion version, long pageSize) {
        this.version = version;
        this.pageSize = pageSize;
    }

    /** What was applied: file → {previous, written, read back}. */
    public record Applied(Path cgroup, Map<String, String[]> files) {}

    /**
     * The files of {@code target} whose current value differs from it (read-back equality: page rounding and v1's
     * unlimited count as equal), file → current value; empty when the cgroup already has the target.
     */
    public Map<String, String> differing(Path cgroup, Map<String, String> target) throws CgroupWriteException {
        checkFiles(cgroup, target);
        Map<String, String> out = new LinkedHashMap<>();
        for (var e : target.entrySet()) {
            String current = read(cgroup, e.getKey(), e.getValue());
            if (!same(e.getKey(), e.getValue(), current)) {
                out.put(e.getKey(), current);
            }
        }
        return out;
    }

    public Applied apply(Path cgroup, Map<String, String> target) throws CgroupWriteException {
        checkFiles(cgroup, target);
        Map<String, String> previous = new LinkedHashMap<>();
        for (String file : target.keySet()) {
            previous.put(file, read(cgroup, file, target.get(file)));
        }
        List<String> order = order(previous, target);
        List<String> written = new ArrayList<>();
        try {
            for (String file : order) {
                write(cgroup, file, target.get(file));
                written.add(file);
            }
            Map<String, String[]> out = new LinkedHashMap<>();
            for (String file : target.keySet()) {
                String back = read(cgroup, file, target.get(file));
                if (!same(file, target.get(file), back)) {
                    throw new CgroupWriteException(CgroupWriteException.Kind.VERIFY, cgroup, file, target.get(file),
                            "read back " + back, null);
                }
                out.put(file, new String[] {previous.get(file), target.get(file), back});
            }
            return new Applied(cgroup, out);
        } catch (CgroupWriteException e) {
            restore(cgroup, previous, written);
            throw e;
        }
    }

    /**
     * The writer touches only the memory controller's settings files of its cgroup version
     * ({@link CgroupFiles#settings}), named plainly: a name with a path separator, a dot-dot or any other file (e.g.
     * {@code cgroup.procs}) is refused before anything is read or written, whatever the plan says.
     */
    private void checkFiles(Path cgroup, Map<String, String> target) throws CgroupWriteException {
        for (var e : target.entrySet()) {
            String file = e.getKey();
            if (file == null || !CgroupFiles.settings(version).contains(file)) {
                throw new CgroupWriteException(CgroupWriteException.Kind.REFUSED, cgroup,
                        file == null ? "(no name)" : Printable.of(file, 64),
                        e.getValue() == null ? "" : Printable.of(e.getValue(), 64),
                        "not a memory controller setting of cgroup " + version.number() + " (memwarden writes only "
                                + new java.util.TreeSet<>(CgroupFiles.settings(version)) + ")", null);
            }
            if (e.getValue() == null || e.getValue().indexOf('\0') >= 0 || e.getValue().indexOf('\n') >= 0) {
                throw new CgroupWriteException(CgroupWriteException.Kind.REFUSED, cgroup, file,
                        e.getValue() == null ? "(no value)" : Printable.of(e.getValue(), 64),
                        "a value must be one line of text", null);
            }
        }
    }

    /** Best effort: put back what was written, in a safe order; a failure here is added as suppressed. */
    private void restore(Path cgroup, Map<String, String> previous, List<String> written) {
        if (written.isEmpty()) {
            return;
        }
        Map<String, String> current = new LinkedHashMap<>();
        Map<String, String> back = new LinkedHashMap<>();
        for (String f : written) {
            try {
                current.put(f, read(cgroup, f, previous.get(f)));
            } catch (CgroupWriteException e) {
                current.put(f, previous.get(f));
            }
            back.put(f, restorable(previous.get(f)));
        }
        for (String f : order(current, back)) {
            try {
                write(cgroup, f, back.get(f));
            } catch (CgroupWriteException ignored) {
                // the original error is what the caller needs; the cgroup keeps what could be restored
            }
        }
    }

    /** v1's unlimited reads back as a huge number; write it back as -1 (the kernel accepts both). */
    private String restorable(String v) {
        if (version == CgroupVersion.V1 && isUnlimited(v)) {
            return "-1";
        }
        return v;
    }

    List<String> order(Map<String, String> current, Map<String, String> target) {
        List<String> order = new ArrayList<>(target.keySet());
        if (version == CgroupVersion.V1 && target.containsKey(V1_LIMIT) && target.containsKey(V1_MEMSW_LIMIT)) {
            BigInteger newMemsw = bytes(target.get(V1_MEMSW_LIMIT));
            BigInteger curLimit = bytes(current.getOrDefault(V1_LIMIT, "-1"));
            order.remove(V1_LIMIT);
            order.remove(V1_MEMSW_LIMIT);
            if (newMemsw.compareTo(curLimit) >= 0) {
                order.add(0, V1_LIMIT);
                order.add(0, V1_MEMSW_LIMIT);
            } else {
                order.add(0, V1_MEMSW_LIMIT);
                order.add(0, V1_LIMIT);
            }
        }
        return order;
    }

    private static final BigInteger UNLIMITED = BigInteger.ONE.shiftLeft(80);

    private static BigInteger bytes(String v) {
        String s = v.strip();
        if (s.equals("-1") || s.equals("max")) {
            return UNLIMITED;
        }
        try {
            BigInteger b = new BigInteger(s);
            return b.bitLength() >= 62 ? UNLIMITED : b;
        } catch (NumberFormatException e) {
            return UNLIMITED;
        }
    }

    private static boolean isUnlimited(String v) {
        return bytes(v).equals(UNLIMITED);
    }

    /**
     * Read-back equality for {@code file}: byte limits with {@link #same(String, String)}; other files (counts,
     * flags such as {@code memory.swappiness} or {@code memory.oom.group}) only when equal as text.
     */
    boolean same(String file, String written, String readBack) {
        boolean bytes = file.endsWith("_in_bytes") || file.matches("memory\\.((z?swap)\\.)?(max|high|low|min)");
        return bytes ? same(written, readBack) : written.strip().equals(readBack.strip());
    }

    boolean same(String written, String readBack) {
        String w = written.strip();
        String r = readBack.strip();
        if (w.equals(r)) {
            return true;
        }
        if (w.matches("-?[0-9]+|max") && r.matches("-?[0-9]+|max")) {
            BigInteger a = bytes(w);
            BigInteger b = bytes(r);
            if (a.equals(UNLIMITED) || b.equals(UNLIMITED)) {
                return a.equals(b);
            }
            BigInteger page = BigInteger.valueOf(pageSize);
            return a.divide(page).multiply(page).equals(b);
        }
        return false;
    }

    private static String read(Path cgroup, String file, String value) throws CgroupWriteException {
        try {
            return Files.readString(cgroup.resolve(file)).strip();
        } catch (NoSuchFileException e) {
            throw new CgroupWriteException(CgroupWriteException.Kind.MISSING, cgroup, file, value,
                    "no such file (is the controller or feature enabled?)", e);
        } catch (IOException e) {
            throw error(cgroup, file, value, e);
        }
    }

    private static void write(Path cgroup, String file, String value) throws CgroupWriteException {
        try {
            Files.writeString(cgroup.resolve(file), value, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
        } catch (NoSuchFileException e) {
            throw new CgroupWriteException(CgroupWriteException.Kind.MISSING, cgroup, file, value, "no such file", e);
        } catch (IOException e) {
            throw error(cgroup, file, value, e);
        }
    }

    private static CgroupWriteException error(Path cgroup, String file, String value, IOException e) {
        String reason = e instanceof FileSystemException fse && fse.getReason() != null ? fse.getReason() : e.getMessage();
        CgroupWriteException.Kind kind;
        if (e instanceof AccessDeniedException || (reason != null && (reason.contains("Permission denied")
                || reason.contains("Operation not permitted")))) {
            kind = CgroupWriteException.Kind.PERMISSION;
        } else if (reason != null && reason.contains("Device or resource busy")) {
            kind = CgroupWriteException.Kind.BUSY;
        } else if (reason != null && reason.contains("Invalid argument")) {
            kind = CgroupWriteException.Kind.INVALID;
        } else {
            kind = CgroupWriteException.Kind.OTHER;
        }
        return new CgroupWriteException(kind, cgroup, file, value, reason, e);
    }
}
