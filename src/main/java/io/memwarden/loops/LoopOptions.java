package io.memwarden.loops;

import io.memwarden.control.ColdOffloader;
import io.memwarden.control.KubeletEviction;
import io.memwarden.control.PressureGuard;
import io.memwarden.control.RangeOffloader;
import java.nio.file.Path;
import java.util.Set;

/**
 * Which control loops run and how ({@link ControlLoops#reconfigure} replaces them whole).
 *
 * @param dryRun        the loops log and record what they would do, and do nothing
 * @param nodeCgroup    a cgroup that stands in for the node (capacity = its limit), or null for the host
 * @param protectedPods namespace/name of pods the guard never touches, exact or globs ({@link ProtectedPods});
 *                      critical pods never anyway
 * @param kubeletEviction the kubelet's eviction settings the guard acts on beside its own
 *                      ({@link KubeletEviction.Settings#NONE}: none, as without a kubelet)
 * @param podsCgroup    the kubepods cgroup (allocatableMemory.available is observed on it), or null: not observed
 */
public record LoopOptions(boolean guard, boolean throttle, boolean offload, boolean dryRun,
                          PressureGuard.Config guardConfig, Set<String> protectedPods, Path nodeCgroup,
                          V1Offload v1Offload, V2Offload v2Offload, KubeletEviction.Settings kubeletEviction,
                          Path podsCgroup) {

    public LoopOptions(boolean guard, boolean throttle, boolean offload, boolean dryRun,
                       PressureGuard.Config guardConfig, Set<String> protectedPods, Path nodeCgroup,
                       V1Offload v1Offload, V2Offload v2Offload) {
        this(guard, throttle, offload, dryRun, guardConfig, protectedPods, nodeCgroup, v1Offload, v2Offload,
                KubeletEviction.Settings.NONE, null);
    }

    /** These options with the kubelet's eviction settings and the kubepods cgroup (null: not observed). */
    public LoopOptions withKubelet(KubeletEviction.Settings settings, Path pods) {
        return new LoopOptions(guard, throttle, offload, dryRun, guardConfig, protectedPods, nodeCgroup, v1Offload,
                v2Offload, settings, pods);
    }

    public LoopOptions(boolean guard, boolean throttle, boolean offload, boolean dryRun,
                       PressureGuard.Config guardConfig, Set<String> protectedPods, Path nodeCgroup) {
        this(guard, throttle, offload, dryRun, guardConfig, protectedPods, nodeCgroup, V1Offload.DEFAULT,
                V2Offload.DEFAULT);
    }

    public LoopOptions(boolean guard, boolean throttle, boolean offload, boolean dryRun,
                       PressureGuard.Config guardConfig, Set<String> protectedPods, Path nodeCgroup,
                       V1Offload v1Offload) {
        this(guard, throttle, offload, dryRun, guardConfig, protectedPods, nodeCgroup, v1Offload, V2Offload.DEFAULT);
    }

    public LoopOptions {
        if (v1Offload == null) {
            throw new IllegalArgumentException("v1Offload must be set (madvise or limit)");
        }
        if (v2Offload == null) {
            throw new IllegalArgumentException("v2Offload must be set (madvise or reclaim)");
        }
        if (kubeletEviction == null) {
            kubeletEviction = KubeletEviction.Settings.NONE;
        }
    }

    /**
     * How cold memory leaves RAM on cgroup v1 (no memory.reclaim there): page out the ranges found cold by
     * clear_refs sampling ({@link RangeOffloader}, falling back to limit probing where process_madvise is refused),
     * or limit probing only ({@link ColdOffloader} with {@link io.memwarden.cgroup.CgroupReclaim}).
     */
    public enum V1Offload {
        MADVISE, LIMIT;

        public static final V1Offload DEFAULT = MADVISE;

        public static V1Offload parse(String s) {
            return switch (s) {
                case "madvise" -> MADVISE;
                case "limit" -> LIMIT;
                default -> throw new IllegalArgumentException("v1 offload method must be madvise or limit, got \""
                        + s + "\"");
            };
        }
    }

    /**
     * How cold memory leaves RAM on cgroup v2: page out the ranges found cold by clear_refs sampling, as on v1
     * ({@link RangeOffloader}; falling back to {@code memory.reclaim} where process_madvise is refused or the
     * container's processes are not visible), or {@code memory.reclaim} under a PSI target only ({@link ColdOffloader}).
     */
    public enum V2Offload {
        MADVISE, RECLAIM;

        /**
         * memory.reclaim: with MGLRU on (distribution kernels) cold ranges met the hot-promotion goal in 1 of 7 VM runs;
         * with it off in 2 of 2 (docs/benchmarks.md).
         */
        public static final V2Offload DEFAULT = RECLAIM;

        public static V2Offload parse(String s) {
            return switch (s) {
                case "madvise" -> MADVISE;
                case "reclaim" -> RECLAIM;
                default -> throw new IllegalArgumentException("v2 offload method must be madvise or reclaim, got \""
                        + s + "\"");
            };
        }
    }
}
