package io.memwarden.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Where the pages of one virtual address range are: {@code /proc/<pid>/pagemap} has one 64-bit entry per page,
 * bit 63 = present in RAM, bit 62 = swapped out.
 */
public final class PageMap {
    private PageMap() {}

    public record Residency(long presentBytes, long swappedBytes) {}

    public static Residency read(long pid, long address, long length, long pageSize) throws IOException {
        long first = address / pageSize;
        long last = (address + length - 1) / pageSize;
        long pages = last - first + 1;
        long present = 0;
        long swapped = 0;
        try (FileChannel ch = FileChannel.open(Path.of("/proc", Long.toString(pid), "pagemap"), StandardOpenOption.READ)) {
            ByteBuffer buf = ByteBuffer.allocate(8 * 4096).order(ByteOrder.nativeOrder());
            long pos = first * 8;
            long left = pages;
            while (left > 0) {
                buf.clear();
                buf.limit((int) Math.min(buf.capacity(), left * 8));
                int n = ch.read(buf, pos);
                if (n <= 0) {
                    break;
                }
                buf.flip();
                while (buf.remaining() >= 8) {
                    long e = buf.getLong();
                    if ((e & (1L << 63)) != 0) {
                        present++;
                    } else if ((e & (1L << 62)) != 0) {
                        swapped++;
                    }
                }
                pos += n;
                left -= n / 8;
            }
        }
        return new Residency(present * pageSize, swapped * pageSize);
    }
}
