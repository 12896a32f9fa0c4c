package io.memwarden.cli;

import io.memwarden.input.HostMounts;
import io.memwarden.kernel.TmpfsNoswap;
import io.memwarden.nri.MemoryBackedVolumes;
import java.io.PrintWriter;

/** Detects tmpfs noswap support once at a daemon's start, for the NRI plugin (docs/nri.md, "Memory-backed volumes"). */
final class NoswapSupport {
    private NoswapSupport() {}

    static MemoryBackedVolumes detect(PrintWriter err, String prefix) {
        TmpfsNoswap.Support s = TmpfsNoswap.detect();
        err.println(prefix + "memory-backed volumes: " + (s.supported() ? "tmpfs noswap supported" : "no tmpfs noswap")
                + " (" + s.detection() + ")");
        err.flush();
        return new MemoryBackedVolumes(s.supported(), s.detection(), HostMounts::swappableTmpfs);
    }
}
