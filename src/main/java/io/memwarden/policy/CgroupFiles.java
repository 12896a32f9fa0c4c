package io.memwarden.policy;

/** The cgroup file names policy writes, one place each (docs/architecture.md). */
public final class CgroupFiles {
    private CgroupFiles() {}

    // cgroup v2
    public static final String MEMORY_MAX = "memory.max";
    public static final String MEMORY_SWAP_MAX = "memory.swap.max";
    public static final String MEMORY_MIN = "memory.min";
    public static final String MEMORY_LOW = "memory.low";
    public static final String MEMORY_HIGH = "memory.high";
    public static final String MEMORY_OOM_GROUP = "memory.oom.group";
    // cgroup v1
    public static final String V1_LIMIT = "memory.limit_in_bytes";
    public static final String V1_MEMSW_LIMIT = "memory.memsw.limit_in_bytes";
    public static final String V1_SWAPPINESS = "memory.swappiness";
    /** cgroup v1's "unlimited". */
    public static final String V1_UNLIMITED = "-1";
    /** cgroup v2's "unlimited". */
    public static final String V2_MAX = "max";
}
