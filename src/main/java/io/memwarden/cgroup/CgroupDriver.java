package io.memwarden.cgroup;

/** The kubelet's cgroup driver, which decides how cgroup names become paths. */
public enum CgroupDriver {
    CGROUPFS,
    SYSTEMD
}
