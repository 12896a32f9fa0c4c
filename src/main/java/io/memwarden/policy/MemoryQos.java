package io.memwarden.policy;

import io.memwarden.model.CgroupFiles;
import io.memwarden.model.CgroupVersion;
import io.memwarden.model.NodeFacts;
import io.memwarden.model.QosClass;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Memory QoS (KEP-2570) values as the kubelet writes them on cgroup v2 (kubelet-semantics §2): protection
 * (memory.min/low per memoryReservationPolicy), throttling (memory.high from the throttling factor), and their pod
 * and QoS-level counterparts.
 */
final class MemoryQos {
    private MemoryQos() {}

    /** Files and their reasons, in write order. */
    public record Values(Map<String, String> files, List<String> reasons) {}

    public static boolean applies(NodeFacts node, KubeletSettings k) {
        return k.memoryQosGate() && node.cgroupVersion() == CgroupVersion.V2;
    }

    /**
     * {@code memory.high = int64(floor(R + f*(base − R)) / page) * page}, computed in float64 as the kubelet's Go code.
     */
    public static long throttleAt(long request, long base, double factor, long pageSize) {
        double v = Math.floor((double) request + ((double) base - (double) request) * factor);
        return (long) (v / (double) pageSize) * pageSize;
    }

    /**
     * Container-level values.
     *
     * @param request         the container's own memory request (0 when absent)
     * @param limit           the container's own memory limit (0 when absent; no pod-level fallback here)
     * @param podLevelLimit   the pod-level memory limit when PodLevelResources is on, else 0
     * @param allocatable     node-status allocatable memory
     */
    public static Values container(NodeFacts node, KubeletSettings k, QosClass qos, long request, long limit,
                                   long podLevelLimit, long allocatable) {
        Map<String, String> files = new LinkedHashMap<>();
        List<String> why = new java.util.ArrayList<>();
        if (node.cgroupVersion() != CgroupVersion.V2) {
            return new Values(files, why);
        }
        if (!k.memoryQosGate()) {
            files.put(CgroupFiles.MEMORY_HIGH, "max");
            why.add("memory.high=max: MemoryQoS feature gate off on cgroup v2, written so a resize clears stale values"
                    + " [kubelet-semantics §2]");
            return new Values(files, why);
        }
        if (k.memoryReservationPolicy() == ReservationPolicy.TIERED_RESERVATION && request != 0) {
            if (qos == QosClass.GUARANTEED) {
                files.put(CgroupFiles.MEMORY_MIN, Long.toString(request));
                why.add("memory.min=" + request + ": TieredReservation, Guaranteed pod, container memory request"
                        + " [kubelet-semantics §2]");
            } else {
                files.put(CgroupFiles.MEMORY_LOW, Long.toString(request));
                why.add("memory.low=" + request + ": TieredReservation, " + qos + " pod, container memory request"
                        + " [kubelet-semantics §2]");
            }
        } else {
            files.put(CgroupFiles.MEMORY_MIN, "0");
            files.put(CgroupFiles.MEMORY_LOW, "0");
            why.add("memory.min=0, memory.low=0: " + (request == 0 ? "no memory request" : "memoryReservationPolicy "
                    + k.memoryReservationPolicy()) + " [kubelet-semantics §2]");
        }
        Double f = k.memoryThrottlingFactor();
        if (f == null) {
            why.add("memory.high not written: memoryThrottlingFactor unset (1.37 default) [kubelet-semantics §2]");
        } else if (!(request != limit || request == 0)) {
            why.add("memory.high not written: memory request equals limit (" + request + ") [kubelet-semantics §2]");
        } else if (k.podLevelResourcesGate() && podLevelLimit != 0 && limit == 0) {
            why.add("memory.high not written: container has no limit and the pod-level memory limit " + podLevelLimit
                    + " throttles at the pod cgroup [kubelet-semantics §2]");
        } else {
            long base = limit != 0 ? limit : allocatable;
            String baseName = limit != 0 ? "limit " + limit : "node allocatable " + allocatable;
            if (limit == 0 && allocatable <= 0) {
                why.add("memory.high not written: no limit and no positive node allocatable [kubelet-semantics §2]");
            } else {
                long high = throttleAt(request, base, f, node.pageSize());
                if (high != 0 && high > request) {
                    files.put(CgroupFiles.MEMORY_HIGH, Long.toString(high));
                    why.add("memory.high=" + high + ": floor((request " + request + " + " + f + " × (" + baseName
                            + " − request)) / page " + node.pageSize() + ") × page [kubelet-semantics §2]");
                } else {
                    why.add("memory.high not written: computed " + high + " is not above the request " + request
                            + " [kubelet-semantics §2]");
                }
            }
        }
        return new Values(files, why);
    }

    /** Pod-cgroup protection and throttling (TieredReservation; memory.high only with a pod-level limit). */
    public static Values pod(NodeFacts node, KubeletSettings k, QosClass qos, long podRequest, long podLevelLimit) {
        Map<String, String> files = new LinkedHashMap<>();
        List<String> why = new java.util.ArrayList<>();
        if (!applies(node, k)) {
            return new Values(files, why);
        }
        if (k.memoryReservationPolicy() == ReservationPolicy.TIERED_RESERVATION) {
            if (qos == QosClass.GUARANTEED) {
                files.put(CgroupFiles.MEMORY_MIN, Long.toString(podRequest));
                why.add("pod memory.min=" + podRequest + ": TieredReservation, Guaranteed, pod memory request incl."
                        + " overhead [kubelet-semantics §2]");
            } else if (qos == QosClass.BURSTABLE) {
                files.put(CgroupFiles.MEMORY_LOW, Long.toString(podRequest));
                why.add("pod memory.low=" + podRequest + ": TieredReservation, Burstable, pod memory request incl."
                        + " overhead [kubelet-semantics §2]");
            }
        }
        Double f = k.memoryThrottlingFactor();
        if (f != null && podLevelLimit > 0) {
            long high = throttleAt(podRequest, podLevelLimit, f, node.pageSize());
            if (high != 0 && high > podRequest) {
                files.put(CgroupFiles.MEMORY_HIGH, Long.toString(high));
                why.add("pod memory.high=" + high + ": pod-level limit " + podLevelLimit + ", request " + podRequest
                        + ", factor " + f + " [kubelet-semantics §2]");
            }
        }
        return new Values(files, why);
    }

    /** QoS-level cgroups: kubepods memory.min = ΣG+ΣB, kubepods/burstable memory.low = ΣB. */
    public static Map<String, Map<String, String>> qosLevel(NodeFacts node, KubeletSettings k, long guaranteedRequests,
                                                            long burstableRequests) {
        Map<String, Map<String, String>> out = new LinkedHashMap<>();
        if (!applies(node, k)) {
            return out;
        }
        boolean tiered = k.memoryReservationPolicy() == ReservationPolicy.TIERED_RESERVATION;
        out.put("kubepods", new LinkedHashMap<>(Map.of(CgroupFiles.MEMORY_MIN,
                tiered ? Long.toString(guaranteedRequests + burstableRequests) : "0")));
        out.put("kubepods/burstable", new LinkedHashMap<>(Map.of(CgroupFiles.MEMORY_LOW,
                tiered ? Long.toString(burstableRequests) : "0")));
        return out;
    }
}
