package io.memwarden.nri;

import static io.memwarden.model.CgroupFiles.*;

import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.TextFormat;
import io.memwarden.model.CgroupVersion;
import io.memwarden.nri.api.Container;
import io.memwarden.nri.api.ContainerUpdate;
import io.memwarden.nri.api.LinuxContainer;
import io.memwarden.nri.api.LinuxContainerUpdate;
import io.memwarden.nri.api.LinuxMemory;
import io.memwarden.nri.api.LinuxResources;
import io.memwarden.nri.api.OptionalInt64;
import io.memwarden.nri.api.OptionalUInt64;
import io.memwarden.policy.Plan.ContainerPlan;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Maps a container's planned cgroup files onto NRI resources, relative to what the container already has (so
 * memwarden claims ownership of as few fields as possible: nri-protocol.md §4 "Ownership"):
 * <ul>
 *   <li>cgroup v2: every planned file except {@code memory.max} goes into {@code linux.resources.unified} (skipped
 *       when the container already has that value); {@code memory.max} becomes {@code LinuxMemory.limit} only when
 *       it differs from the current limit;</li>
 *   <li>cgroup v1: {@code memory.limit_in_bytes} → {@code LinuxMemory.limit} (when it differs),
 *       {@code memory.memsw.limit_in_bytes} → {@code LinuxMemory.swap} (memory + swap; -1 unlimited), and
 *       {@code memory.swappiness} → {@code LinuxMemory.swappiness}.</li>
 * </ul>
 */
final class PlanToNri {
    private PlanToNri() {}

    /** The resources to set; empty (no memory, no unified) when the container already has everything. */
    public static LinuxResources resources(CgroupVersion version, ContainerPlan plan, LinuxResources current) {
        return resources(version, plan, current, Set.of());
    }

    /**
     * As {@link #resources(CgroupVersion, ContainerPlan, LinuxResources)}, but the planned files in
     * {@code keepCurrent} are left alone when the container already has a value for them (degraded mode: the
     * kubelet computed that value with the real memory request, which memwarden does not know).
     */
    public static LinuxResources resources(CgroupVersion version, ContainerPlan plan, LinuxResources current,
                                           Set<String> keepCurrent) {
        LinuxMemory curMem = current != null && current.hasMemory() ? current.getMemory() : LinuxMemory.getDefaultInstance();
        Long curLimit = curMem.hasLimit() ? curMem.getLimit().getValue() : null;
        Map<String, String> curUnified = current == null ? Map.of() : current.getUnifiedMap();
        LinuxResources.Builder r = LinuxResources.newBuilder();
        LinuxMemory.Builder mem = LinuxMemory.newBuilder();
        boolean memSet = false;
        if (version == CgroupVersion.V2) {
            Map<String, String> unified = new LinkedHashMap<>();
            for (var e : plan.cgroup().entrySet()) {
                if (keepCurrent.contains(e.getKey()) && has(version, e.getKey(), curMem, curUnified)) {
                    continue;
                }
                if (e.getKey().equals(MEMORY_MAX)) {
                    long limit = Long.parseLong(e.getValue());
                    if (curLimit == null || curLimit != limit) {
                        mem.setLimit(OptionalInt64.newBuilder().setValue(limit));
                        memSet = true;
                    }
                } else if (!e.getValue().equals(curUnified.get(e.getKey()))) {
                    unified.put(e.getKey(), e.getValue());
                }
            }
            r.putAllUnified(unified);
        } else {
            String limit = plan.cgroup().get(V1_LIMIT);
            if (limit != null && !(keepCurrent.contains(V1_LIMIT) && curLimit != null)) {
                long l = Long.parseLong(limit);
                if (curLimit == null || curLimit != l) {
                    mem.setLimit(OptionalInt64.newBuilder().setValue(l));
                    memSet = true;
                }
            }
            String swappiness = plan.cgroup().get(V1_SWAPPINESS);
            if (swappiness != null && !(keepCurrent.contains(V1_SWAPPINESS) && curMem.hasSwappiness())) {
                long v = Long.parseLong(swappiness);
                if (!curMem.hasSwappiness() || curMem.getSwappiness().getValue() != v) {
                    mem.setSwappiness(OptionalUInt64.newBuilder().setValue(v));
                    memSet = true;
                }
            }
            String memsw = plan.cgroup().get(V1_MEMSW_LIMIT);
            if (memsw != null && !(keepCurrent.contains(V1_MEMSW_LIMIT) && curMem.hasSwap())) {
                long s = Long.parseLong(memsw);
                if (!curMem.hasSwap() || curMem.getSwap().getValue() != s) {
                    mem.setSwap(OptionalInt64.newBuilder().setValue(s));
                    memSet = true;
                }
            }
        }
        if (memSet) {
            r.setMemory(mem);
        }
        return r.build();
    }

    /** For the reasons: each planned file in {@code keepCurrent} whose current value is kept instead. */
    public static List<String> kept(CgroupVersion version, ContainerPlan plan, LinuxResources current,
                                    Set<String> keepCurrent) {
        LinuxMemory curMem = current != null && current.hasMemory() ? current.getMemory() : LinuxMemory.getDefaultInstance();
        Map<String, String> curUnified = current == null ? Map.of() : current.getUnifiedMap();
        List<String> out = new ArrayList<>();
        for (var e : plan.cgroup().entrySet()) {
            if (keepCurrent.contains(e.getKey()) && has(version, e.getKey(), curMem, curUnified)) {
                String cur = currentValue(version, e.getKey(), curMem, curUnified);
                if (!cur.equals(e.getValue())) {
                    out.add(e.getKey() + ": kept the runtime's " + cur + " (the kubelet computed it with the real memory"
                            + " request; the degraded plan says " + e.getValue() + ")");
                }
            }
        }
        return out;
    }

    private static boolean has(CgroupVersion v, String file, LinuxMemory mem, Map<String, String> unified) {
        return currentValue(v, file, mem, unified) != null;
    }

    private static String currentValue(CgroupVersion v, String file, LinuxMemory mem, Map<String, String> unified) {
        if (v == CgroupVersion.V2) {
            if (file.equals(MEMORY_MAX)) {
                return mem.hasLimit() ? Long.toString(mem.getLimit().getValue()) : null;
            }
            return unified.get(file);
        }
        if (file.equals(V1_LIMIT)) {
            return mem.hasLimit() ? Long.toString(mem.getLimit().getValue()) : null;
        }
        if (file.equals(V1_MEMSW_LIMIT)) {
            return mem.hasSwap() ? Long.toString(mem.getSwap().getValue()) : null;
        }
        if (file.equals(V1_SWAPPINESS)) {
            return mem.hasSwappiness() ? Long.toString(mem.getSwappiness().getValue()) : null;
        }
        return null;
    }

    public static boolean isEmpty(LinuxResources r) {
        return !r.hasMemory() && r.getUnifiedCount() == 0;
    }

    /** {@code base} with {@code change} applied on top (memory limit/swap and unified keys), for tracking state. */
    public static LinuxResources merge(LinuxResources base, LinuxResources change) {
        LinuxResources.Builder b = (base == null ? LinuxResources.getDefaultInstance() : base).toBuilder();
        if (change.hasMemory()) {
            LinuxMemory.Builder m = b.getMemory().toBuilder();
            if (change.getMemory().hasLimit()) {
                m.setLimit(change.getMemory().getLimit());
            }
            if (change.getMemory().hasSwap()) {
                m.setSwap(change.getMemory().getSwap());
            }
            b.setMemory(m);
        }
        b.putAllUnified(change.getUnifiedMap());
        return b.build();
    }

    /** The container's resources as the runtime gave them (empty when it gave none). */
    static LinuxResources currentResources(Container c) {
        return c.hasLinux() && c.getLinux().hasResources() ? c.getLinux().getResources()
                : LinuxResources.getDefaultInstance();
    }

    /** The container with {@code r} as its resources. */
    static Container withResources(Container c, LinuxResources r) {
        LinuxContainer.Builder l = c.hasLinux() ? c.getLinux().toBuilder() : LinuxContainer.newBuilder();
        return c.toBuilder().setLinux(l.setResources(r)).build();
    }

    /** An unsolicited update of a running container's resources, which the runtime may fail to apply. */
    static ContainerUpdate update(String containerId, LinuxResources r) {
        return ContainerUpdate.newBuilder().setContainerId(containerId)
                .setLinux(LinuxContainerUpdate.newBuilder().setResources(r)).setIgnoreFailure(true).build();
    }

    /** A message on one line, for logs. */
    static String oneLine(MessageOrBuilder m) {
        return TextFormat.printer().emittingSingleLine(true).printToString(m).strip();
    }
}
