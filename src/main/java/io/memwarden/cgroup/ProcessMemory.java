package io.memwarden.cgroup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** One process's resident and swapped memory from {@code /proc/<pid>/status} (VmRSS, VmSwap), in bytes. */
public record ProcessMemory(long pid, long rssBytes, long swapBytes) {

    /** Reads {@code /proc/<pid>/status}; returns null when the process is gone. */
    public static ProcessMemory read(Path proc, long pid) throws IOException {
        String text;
        try {
            text = Files.readString(proc.resolve(Long.toString(pid)).resolve("status"));
        } catch (NoSuchFileException e) {
            return null;
        }
        return parse(pid, text);
    }

    public static ProcessMemory parse(long pid, String status) {
        long rss = 0;
        long swap = 0;
        for (String line : status.split("\n")) {
            if (line.startsWith("VmRSS:")) {
                rss = kib(line);
            } else if (line.startsWith("VmSwap:")) {
                swap = kib(line);
            }
        }
        return new ProcessMemory(pid, rss, swap);
    }

    private static long kib(String line) {
        String[] f = line.strip().split("\\s+");
        return Long.parseLong(f[1]) * 1024;
    }
}
