package io.memwarden.cli;

import io.memwarden.input.HostMounts;
import io.memwarden.kernel.TmpfsNoswap;
import io.memwarden.nri.MemoryBackedVolumes;
import java.io.PrintWriter;

/** Detects tmpfs noswap support once at a daemon's start, for the NRI plugin (docs/nri.md, "Memory-backed volumes"). */
final class NoswapSupport {
    private NoswapSupport() {}

    /**
     * As the kubelet, only on a node with swap at start (kubelet-semantics.md §1: swap is read once); without swap,
     * {@link MemoryBackedVolumes#NOT_DETECTED} (a container that may swap then has its tmpfs mounts reported).
     */
    static MemoryBackedVolumes detect(long swapCapacity, PrintWriter err, String prefix) {
        if (swapCapacity <= 0) {
            return MemoryBackedVolumes.NOT_DETECTED;
        }
        TmpfsNoswap.Support s = TmpfsNoswap.detect();
        err.println(prefix + "memory-backed volumes: " + (s.supported() ? "tmpfs noswap supported" : "no tmpfs noswap")
                + " (" + s.detection() + ")");
        err.flush();
        return new MemoryBackedVolumes(s.supported(), s.detection(), HostMounts::swappableTmpfs);
    }
}
