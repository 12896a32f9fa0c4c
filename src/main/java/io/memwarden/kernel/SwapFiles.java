package io.memwarden.kernel;

import io.memwarden.kernel.SwapDeviceException.Kind;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * Swap files, as KEP-2400's "do it yourself" steps make them: allocate, {@code chmod 600}, {@code mkswap},
 * {@code swapon}; and the reverse. Mechanism only: the caller decides names, sizes and priorities.
 */
public final class SwapFiles {

    private static final Set<PosixFilePermission> OWNER_RW = PosixFilePermissions.fromString("rw-------");

    private final Host host;

    public SwapFiles(Host host) {
        this.host = Objects.requireNonNull(host, "host");
    }

    /**
     * Creates a swap file of {@code size} bytes at {@code path} and turns it on.
     *
     * <p>Refuses a path that exists (it is never touched). Allocates with {@code fallocate -l}, or with
     * {@code dd if=/dev/zero} where the filesystem does not support fallocate; then {@code chmod 600},
     * {@code mkswap}, {@code swapon [-p PRIORITY]}. On any failure the steps done are undone (swapoff if on,
     * delete the file); an undo that fails is attached as a suppressed exception.
     *
     * @param priority the swap priority, or empty for the kernel's (negative, decreasing) default
     * @return the new area as /proc/swaps shows it
     */
    public SwapArea create(Path path, long size, OptionalInt priority) throws SwapDeviceException {
        Path p = path.toAbsolutePath().normalize();
        String subject = "swap file " + p;
        String problem = SwapArea.sizeProblem(size);
        if (problem != null) {
            throw new SwapDeviceException(Kind.INVALID, subject + ": size " + problem);
        }
        if (priority.isPresent() && (problem = SwapArea.priorityProblem(priority.getAsInt())) != null) {
            throw new SwapDeviceException(Kind.INVALID, subject + ": priority " + problem);
        }
        host.requireRoot("create " + subject);
        if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            throw new SwapDeviceException(Kind.INVALID, subject + ": the path already exists; refusing to touch it");
        }
        Path parent = p.getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            throw new SwapDeviceException(Kind.NOT_FOUND, subject + ": directory " + parent + " does not exist");
        }
        FileAttribute<Set<PosixFilePermission>> ownerRw = PosixFilePermissions.asFileAttribute(OWNER_RW);
        try {
            Files.createFile(p, ownerRw); // exclusive: a file that appeared since the check above is not ours
        } catch (FileAlreadyExistsException e) {
            throw new SwapDeviceException(Kind.INVALID, subject + ": the path already exists; refusing to touch it", e);
        } catch (IOException e) {
            throw new SwapDeviceException(Kind.COMMAND_FAILED, subject + ": cannot create the file: " + e, e);
        }
        try {
            Files.setPosixFilePermissions(p, OWNER_RW); // chmod 600, whatever the umask
            allocate(p, size, subject);
            host.run(subject, "mkswap", p.toString());
            if (priority.isPresent()) {
                host.run(subject, "swapon", "-p", Integer.toString(priority.getAsInt()), p.toString());
            } else {
                host.run(subject, "swapon", p.toString());
            }
            return active(p).orElseThrow(() -> new SwapDeviceException(Kind.COMMAND_FAILED,
                    subject + ": swapon succeeded but the file is not in " + host.procSwaps()));
        } catch (SwapDeviceException e) {
            undoCreate(p, subject, e);
            throw e;
        } catch (IOException | RuntimeException e) {
            SwapDeviceException f = new SwapDeviceException(Kind.COMMAND_FAILED, subject + ": " + e, e);
            undoCreate(p, subject, f);
            throw f;
        }
    }

    private void allocate(Path p, long size, String subject) throws SwapDeviceException {
        CommandRunner.Result r;
        try {
            r = host.commands().run(java.util.List.of("fallocate", "-l", Long.toString(size), p.toString()));
        } catch (IOException e) {
            throw new SwapDeviceException(Kind.COMMAND_FAILED, subject + ": cannot run fallocate: " + e.getMessage(), e);
        }
        if (r.ok()) {
            return;
        }
        if (!r.stderr().contains("not supported")) {
            throw Host.failed(subject, r);
        }
        // EOPNOTSUPP (some filesystems): write zeros instead; count_bytes makes count a byte count
        host.run(subject, "dd", "if=/dev/zero", "of=" + p, "bs=1M", "count=" + size, "iflag=count_bytes",
                "status=none");
    }

    private void undoCreate(Path p, String subject, SwapDeviceException failure) {
        try {
            if (active(p).isPresent()) {
                host.run(subject + " (undo)", "swapoff", p.toString());
            }
        } catch (SwapDeviceException | IOException e) {
            failure.addSuppressed(e);
            return; // an active swap file must not be deleted
        }
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            failure.addSuppressed(new SwapDeviceException(Kind.COMMAND_FAILED,
                    subject + " (undo): cannot delete the file: " + e, e));
        }
    }

    /**
     * Turns off and deletes a swap file. Refuses a path that is not an active swap area of type file in
     * /proc/swaps (a partition, a zram device, a file that is not swap, a path that does not exist).
     */
    public void remove(Path path) throws SwapDeviceException {
        Path p = path.toAbsolutePath().normalize();
        String subject = "swap file " + p;
        host.requireRoot("remove " + subject);
        Path real;
        try {
            real = p.toRealPath();
        } catch (NoSuchFileException e) {
            throw new SwapDeviceException(Kind.NOT_FOUND, subject + ": no such file", e);
        } catch (IOException e) {
            throw new SwapDeviceException(Kind.NOT_FOUND, subject + ": " + e, e);
        }
        Optional<SwapArea> area;
        try {
            area = ProcSwaps.find(host.swaps(), real.toString());
        } catch (IOException e) {
            throw new SwapDeviceException(Kind.COMMAND_FAILED, subject + ": " + e.getMessage(), e);
        }
        if (area.isEmpty()) {
            throw new SwapDeviceException(Kind.NOT_FOUND, subject + ": not an active swap area (not in "
                    + host.procSwaps() + "); refusing to delete it");
        }
        if (area.get().type() != SwapArea.Type.FILE || !Files.isRegularFile(real, LinkOption.NOFOLLOW_LINKS)) {
            throw new SwapDeviceException(Kind.INVALID, subject + ": is a swap " + area.get().type().procName()
                    + ", not a swap file; refusing to remove it");
        }
        host.run(subject, "swapoff", real.toString());
        try {
            Files.delete(real);
        } catch (IOException e) {
            throw new SwapDeviceException(Kind.COMMAND_FAILED, subject + ": swapped off, but cannot delete the file: "
                    + e, e);
        }
    }

    /** The area {@code p} is in /proc/swaps, or empty when it is not on as swap. */
    public Optional<SwapArea> active(Path p) throws IOException {
        Path real = Files.exists(p) ? p.toRealPath() : p;
        return ProcSwaps.find(host.swaps(), real.toString());
    }
}
