package io.memwarden.policy;

import static io.memwarden.model.CgroupFiles.V1_LIMIT;
import static io.memwarden.model.CgroupFiles.V1_MEMSW_LIMIT;
import static io.memwarden.model.CgroupFiles.V1_UNLIMITED;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A cgroup v1 container's projected ceiling ({@code memory.limit_in_bytes}, v1's stand-in for memory.high) moved by
 * throttle relief. v1 counts swap in {@code memory.memsw.limit_in_bytes}, memory plus swap: moving the ceiling alone
 * would change the swap the container may use, so a finite memsw moves with it and the allowance above the ceiling
 * stays what the plan gave: {@code memsw = ceiling + (memsw − limit)}.
 */
public final class V1Ceiling {
    private V1Ceiling() {}

    /**
     * The files to write to put a v1 container's ceiling at {@code ceilingBytes}: {@code memory.limit_in_bytes}, and
     * {@code memory.memsw.limit_in_bytes} where the container has a finite one (unlimited or unknown: left alone).
     *
     * @param applied the container's files as last written (file → value), where its limit and memsw are read
     */
    public static Map<String, String> files(long ceilingBytes, Map<String, String> applied) {
        Map<String, String> files = new LinkedHashMap<>();
        files.put(V1_LIMIT, Long.toString(ceilingBytes));
        String memsw = applied.get(V1_MEMSW_LIMIT);
        String limit = applied.get(V1_LIMIT);
        if (memsw != null && !memsw.equals(V1_UNLIMITED) && limit != null) {
            files.put(V1_MEMSW_LIMIT, Long.toString(ceilingBytes + Long.parseLong(memsw) - Long.parseLong(limit)));
        }
        return files;
    }
}
