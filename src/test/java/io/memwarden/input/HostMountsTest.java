package io.memwarden.input;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Which bind sources lie on a tmpfs that may swap, from a mountinfo table. */
class HostMountsTest {
    static final String MOUNTINFO = """
            22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
            25 22 0:21 / /run rw,nosuid,nodev shared:5 - tmpfs tmpfs rw,size=1623456k,mode=755
            90 22 0:40 / /var/lib/kubelet/pods/u1/volumes/kubernetes.io~empty-dir/cache rw shared:40 - tmpfs tmpfs rw,size=65536k
            91 22 0:41 / /var/lib/kubelet/pods/u2/volumes/kubernetes.io~empty-dir/cache rw shared:41 - tmpfs tmpfs rw,size=65536k,noswap
            92 22 0:42 / /var/lib/with\\040space rw shared:42 - tmpfs tmpfs rw
            93 22 0:43 / /run/user/0 rw shared:43 - ext4 /dev/sdb rw
            garbage line
            """;

    @Test
    void tmpfsWithoutNoswapOnly() {
        HostMounts m = HostMounts.parse(MOUNTINFO);
        assertThat(m.swappableTmpfsAt("/var/lib/kubelet/pods/u1/volumes/kubernetes.io~empty-dir/cache")).isTrue();
        assertThat(m.swappableTmpfsAt("/var/lib/kubelet/pods/u1/volumes/kubernetes.io~empty-dir/cache/sub")).isTrue();
        assertThat(m.swappableTmpfsAt("/var/lib/kubelet/pods/u2/volumes/kubernetes.io~empty-dir/cache"))
                .as("the kubelet mounted it noswap").isFalse();
        assertThat(m.swappableTmpfsAt("/run/containerd/shm")).isTrue();
        assertThat(m.swappableTmpfsAt("/run/user/0/x")).as("a longer mount point holds it").isFalse();
        assertThat(m.swappableTmpfsAt("/runner")).as("a prefix is not a parent").isFalse();
        assertThat(m.swappableTmpfsAt("/var/lib/with space/f")).isTrue();
        assertThat(m.swappableTmpfsAt("/etc/hosts")).isFalse();
        assertThat(m.swappableTmpfsAt("relative")).isFalse();
        assertThat(m.swappableTmpfsAt(null)).isFalse();
    }
}
