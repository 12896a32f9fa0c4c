package io.memwarden.cgroup;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.model.QosClass;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Container cgroup names → identity, for both drivers (the standalone agent's discovery). */
class KubeletCgroupLayoutParseTest {
    static final String ID = "0123456789abcdef".repeat(4);
    static final String UID = "8a1d3c5e-0000-4000-8000-000000000001";

    @Test
    void everyPathTheLayoutBuildsParsesBackToItsIdentity() {
        for (CgroupDriver d : CgroupDriver.values()) {
            KubeletCgroupLayout l = new KubeletCgroupLayout(d);
            for (QosClass q : QosClass.values()) {
                for (String runtime : d == CgroupDriver.SYSTEMD ? new String[] {"cri-containerd", "crio", "docker"}
                        : new String[] {"any"}) {
                    String path = l.containerCgroup(q, UID, runtime, ID);
                    assertThat(KubeletCgroupLayout.parse(path)).as(path).hasValueSatisfying(c -> {
                        assertThat(c.driver()).isEqualTo(d);
                        assertThat(c.qos()).isEqualTo(q);
                        assertThat(c.podUid()).isEqualTo(UID);
                        assertThat(c.containerId()).isEqualTo(ID);
                        assertThat(c.podCgroup()).isEqualTo(l.podCgroup(q, UID));
                        assertThat(c.cgroup()).isEqualTo(path);
                        assertThat(c.runtime()).isEqualTo(d == CgroupDriver.SYSTEMD ? runtime : "");
                    });
                }
            }
        }
    }

    @Test
    void knownNamesOfBothDrivers() {
        assertThat(KubeletCgroupLayout.parse("/kubepods/burstable/pod" + UID + "/crio-" + ID))
                .hasValueSatisfying(c -> assertThat(c.runtime()).isEqualTo("crio"));
        assertThat(KubeletCgroupLayout.parse("kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod"
                + UID.replace('-', '_') + ".slice/cri-containerd-" + ID + ".scope")).hasValueSatisfying(c -> {
                    assertThat(c.qos()).isEqualTo(QosClass.BEST_EFFORT);
                    assertThat(c.podUid()).isEqualTo(UID);
                    assertThat(c.runtime()).isEqualTo("cri-containerd");
                });
    }

    @Test
    void notContainers() {
        String sysPod = "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + UID.replace('-', '_')
                + ".slice";
        for (String p : new String[] {
                "kubepods", "kubepods/burstable", "kubepods/burstable/pod" + UID, "kubepods.slice", sysPod,
                sysPod + "/crio-conmon-" + ID + ".scope",          // CRI-O's monitor
                "kubepods/burstable/pod" + UID + "/crio-conmon-" + ID,
                sysPod + "/cri-containerd-" + ID,                   // systemd names end in .scope
                sysPod + "/runc-" + ID + ".scope",                  // unknown runtime prefix
                "kubepods/burstable/pod" + UID + "/" + ID.substring(1), // not a 64-hex ID
                "kubepods/guaranteed/pod" + UID + "/" + ID,         // no such QoS cgroup
                "kubepods/burstable/pod" + UID + "/" + ID + "/child",
                // the burstable slice's pod with the besteffort prefix
                "kubepods.slice/kubepods-burstable.slice/kubepods-besteffort-pod" + UID.replace('-', '_')
                        + ".slice/crio-" + ID + ".scope",
                "system.slice/containerd.service", "user.slice/kubepods/pod" + UID + "/" + ID}) {
            assertThat(KubeletCgroupLayout.parse(p)).as(p).isEmpty();
        }
    }

    @Test
    void scanFindsContainersOfBothDriversAndNothingElse(@TempDir Path root) throws Exception {
        String a = "kubepods/pod" + UID + "/" + ID;
        String b = "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + UID.replace('-', '_')
                + ".slice/crio-" + ID + ".scope";
        for (String p : new String[] {a, b, "kubepods/burstable/pod" + UID + "/crio-conmon-" + ID, "system.slice/x",
                "kubepods/besteffort"}) {
            Files.createDirectories(root.resolve(p));
        }
        Files.writeString(root.resolve("kubepods/burstable/memory.max"), "max"); // files are not cgroups
        assertThat(KubepodsScan.scan(root)).extracting(f -> f.id().cgroup()).containsExactlyInAnyOrder(a, b);
        assertThat(KubepodsScan.scan(root)).extracting(KubepodsScan.Found::podCgroup).contains(root.resolve("kubepods/pod" + UID));
        assertThat(KubepodsScan.scan(root.resolve("nonexistent"))).isEmpty();
    }
}
