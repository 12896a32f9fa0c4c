package io.memwarden.nri;

import java.util.function.Predicate;

/**
 * What the node offers for keeping memory-backed volumes off swap, found once at start by the caller (the agent, the
 * {@code nri} command) and given to the plugin ({@link NriPlugin#memoryBackedVolumes}).
 *
 * @param noswapSupported   the kernel accepts tmpfs's {@code noswap} option (6.4+; the kubelet's test: a tmpfs mount
 *                          with {@code noswap} succeeds, kubelet-semantics.md §1)
 * @param detection         how that was found, for the reasons and the log
 * @param swappableHostTmpfs whether a bind mount's host source lies on a tmpfs mounted without {@code noswap} (an
 *                          {@code emptyDir} of medium Memory, a secret, the pod's /dev/shm): NRI cannot change the
 *                          host mount, so such mounts are reported
 */
public record MemoryBackedVolumes(boolean noswapSupported, String detection, Predicate<String> swappableHostTmpfs) {
    /** Nothing detected: tmpfs mounts are reported, not adjusted; bind mounts are not examined. */
    public static final MemoryBackedVolumes NOT_DETECTED = new MemoryBackedVolumes(false,
            "tmpfs noswap support not detected", source -> false);
}
