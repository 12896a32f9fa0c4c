package io.memwarden.cgroup;

import io.memwarden.model.CgroupFiles;
import io.memwarden.model.CgroupVersion;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Pushes memory of one cgroup out of RAM, letting the kernel's LRU pick the coldest pages.
 * <ul>
 *   <li>cgroup v2: write the byte count to {@code memory.reclaim} (EAGAIN means it reclaimed less).</li>
 *   <li>cgroup v1 has no memory.reclaim: "limit probing" — lower {@code memory.limit_in_bytes} to
 *       usage − bytes (the kernel reclaims synchronously, to swap where memsw allows, or answers EBUSY) and put the
 *       previous limit back at once, always. The same "poke then reset" oomd uses as its fallback.</li>
 * </ul>
 * Returns how much the cgroup's usage actually dropped.
 */
public final class CgroupReclaim {
    private CgroupReclaim() {}

    public static long reclaim(Path cg, CgroupVersion version, long bytes, long pageSize) throws IOException {
        if (bytes < pageSize) {
            return 0;
        }
        return version == CgroupVersion.V2 ? v2(cg, bytes) : v1(cg, bytes, pageSize);
    }

    private static long usage(Path cg, String file) throws IOException {
        return Long.parseLong(Files.readString(cg.resolve(file)).strip());
    }

    private static long v2(Path cg, long bytes) throws IOException {
        long before = usage(cg, CgroupFiles.MEMORY_CURRENT);
        // one write(2) through a FileChannel: the kernel may answer EAGAIN (it reclaimed less than asked) or accept
        // fewer bytes than given (seen on 6.12 with swap full: 0, which Files.writeString turns into an unchecked
        // "no bytes written" error); either way what it reclaimed stays reclaimed and is measured below
        try (FileChannel ch = FileChannel.open(cg.resolve(CgroupFiles.MEMORY_RECLAIM), StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(Long.toString(bytes).getBytes(StandardCharsets.US_ASCII)));
        } catch (IOException e) {
            String why = e instanceof FileSystemException f ? f.getReason() : e.getMessage();
            if (why == null || !why.contains("Resource temporarily unavailable")) {
                throw e;
            }
        }
        return Math.max(0, before - usage(cg, CgroupFiles.MEMORY_CURRENT));
    }

    private static long v1(Path cg, long bytes, long pageSize) throws IOException {
        Path limitFile = cg.resolve(CgroupFiles.V1_LIMIT);
        String previous = Files.readString(limitFile).strip();
        long before = usage(cg, CgroupFiles.V1_USAGE);
        long target = Math.max(pageSize, (before - bytes) / pageSize * pageSize);
        if (target >= Long.parseLong(previous)) {
            return 0;
        }
        try {
            Files.writeString(limitFile, Long.toString(target), StandardOpenOption.WRITE);
        } catch (FileSystemException e) {
            if (e.getReason() == null || !e.getReason().contains("Device or resource busy")) {
                throw e;
            }
            // EBUSY: the kernel could not get that far; whatever it reclaimed on the way stays reclaimed
        } finally {
            Files.writeString(limitFile, previous, StandardOpenOption.WRITE);
        }
        return Math.max(0, before - usage(cg, CgroupFiles.V1_USAGE));
    }
}
