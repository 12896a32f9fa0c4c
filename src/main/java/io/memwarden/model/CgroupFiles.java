package io.memwarden.model;

import java.util.Set;

/** Every cgroup file name memwarden reads or writes, one place each (docs/architecture.md). */
public final class CgroupFiles {
    private CgroupFiles() {}

    // cgroup v2
    public static final String MEMORY_MAX = "memory.max";
    public static final String MEMORY_SWAP_MAX = "memory.swap.max";
    public static final String MEMORY_MIN = "memory.min";
    public static final String MEMORY_LOW = "memory.low";
    public static final String MEMORY_HIGH = "memory.high";
    public static final String MEMORY_OOM_GROUP = "memory.oom.group";
    public static final String MEMORY_SWAP_HIGH = "memory.swap.high";
    public static final String MEMORY_ZSWAP_MAX = "memory.zswap.max";
    public static final String MEMORY_ZSWAP_WRITEBACK = "memory.zswap.writeback";
    // cgroup v1
    public static final String V1_LIMIT = "memory.limit_in_bytes";
    public static final String V1_MEMSW_LIMIT = "memory.memsw.limit_in_bytes";
    public static final String V1_SWAPPINESS = "memory.swappiness";
    public static final String V1_SOFT_LIMIT = "memory.soft_limit_in_bytes";

    // read (observations), cgroup v2
    public static final String MEMORY_CURRENT = "memory.current";
    public static final String MEMORY_PEAK = "memory.peak";
    public static final String MEMORY_STAT = "memory.stat";
    public static final String MEMORY_EVENTS = "memory.events";
    public static final String MEMORY_PRESSURE = "memory.pressure";
    public static final String MEMORY_SWAP_CURRENT = "memory.swap.current";
    public static final String MEMORY_SWAP_PEAK = "memory.swap.peak";
    /** Written as an action (reclaim N bytes), never as a setting. */
    public static final String MEMORY_RECLAIM = "memory.reclaim";
    // read (observations), cgroup v1
    public static final String V1_USAGE = "memory.usage_in_bytes";
    public static final String V1_MAX_USAGE = "memory.max_usage_in_bytes";
    public static final String V1_MEMSW_USAGE = "memory.memsw.usage_in_bytes";
    public static final String V1_MEMSW_MAX_USAGE = "memory.memsw.max_usage_in_bytes";
    public static final String V1_FAILCNT = "memory.failcnt";
    public static final String V1_MEMSW_FAILCNT = "memory.memsw.failcnt";
    public static final String V1_OOM_CONTROL = "memory.oom_control";
    // the cgroup core
    public static final String CGROUP_PROCS = "cgroup.procs";
    public static final String CGROUP_KILL = "cgroup.kill";
    public static final String CGROUP_CONTROLLERS = "cgroup.controllers";
    public static final String CGROUP_SUBTREE_CONTROL = "cgroup.subtree_control";

    /**
     * The cgroup v2 memory controller files that hold a setting of one cgroup (a container's leaf included): the
     * only files an nri memory-qos {@code unifiedannotations} entry may name, and with {@link #V1_SETTINGS} the
     * only files {@code CgroupWriter} writes. Not in it: read-only files, and files whose write is an action or a
     * registration rather than a value (memory.reclaim, memory.peak, memory.pressure).
     */
    public static final Set<String> V2_SETTINGS = Set.of(MEMORY_MIN, MEMORY_LOW, MEMORY_HIGH, MEMORY_MAX,
            MEMORY_SWAP_HIGH, MEMORY_SWAP_MAX, MEMORY_ZSWAP_MAX, MEMORY_ZSWAP_WRITEBACK, MEMORY_OOM_GROUP);
    /** The cgroup v1 memory controller files that hold a setting memwarden may write. */
    public static final Set<String> V1_SETTINGS = Set.of(V1_LIMIT, V1_MEMSW_LIMIT, V1_SOFT_LIMIT, V1_SWAPPINESS);

    /** The settings files of the memory controller of {@code version} (see {@link #V2_SETTINGS}). */
    public static Set<String> settings(CgroupVersion version) {
        return version == CgroupVersion.V2 ? V2_SETTINGS : V1_SETTINGS;
    }

    /** cgroup v1's "unlimited". */
    public static final String V1_UNLIMITED = "-1";
    /** cgroup v2's "unlimited". */
    public static final String V2_MAX = "max";
}
