package io.memwarden.view;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.model.CgroupVersion;
import io.memwarden.model.SwapBehavior;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** view.Doctor's invariants over any node: the overall verdict follows the capabilities, every failure has a fix. */
class DoctorPropertiesTest {

    @Provide
    Arbitrary<DoctorFacts> nodes() {
        Arbitrary<CgroupVersion> version = Arbitraries.of(CgroupVersion.V1, CgroupVersion.V2).injectNull(0.15);
        Arbitrary<String> kernel = Arbitraries.of("4.19.0", "5.4.0-150-generic", "5.10.0", "5.15.0", "6.1.0-40",
                "6.12.48+deb13", "garbage").injectNull(0.05);
        Arbitrary<Long> swap = Arbitraries.of(0L, 1L << 30);
        Arbitrary<Boolean> b = Arbitraries.of(true, false);
        Arbitrary<DoctorFacts.Nri> nri = Combinators.combine(Arbitraries.of(DoctorFacts.SocketState.class),
                Arbitraries.of(DoctorFacts.NriSetting.class)).as((s, set) -> new DoctorFacts.Nri(
                "/var/run/nri/nri.sock", s, null, "/etc/containerd/config.toml", set, 2));
        Arbitrary<DoctorFacts.Kube> kube = Combinators.combine(b, b, Arbitraries.of("/root/.kube/config")
                .injectNull(0.5)).as(DoctorFacts.Kube::new);
        Arbitrary<DoctorFacts.Kubelet> kubelet = Combinators.combine(b, Arbitraries.of(SwapBehavior.class),
                Arbitraries.of("bad field").injectNull(0.8)).as((fso, sb, err) -> new DoctorFacts.Kubelet(
                "/var/lib/kubelet/config.yaml", err, fso, err == null ? sb : null)).injectNull(0.3);
        Arbitrary<DoctorFacts> a = Combinators.combine(version, kernel, swap, b, b, b, b, b).as(
                (v, k, s, acct, reclaim, psi, kmsg, ksm) -> new DoctorFacts(k, 0, v, false,
                        v == null ? null : "/sys/fs/cgroup", acct, reclaim, psi, 8L << 30, s, s / 2,
                        s > 0 ? List.of("/dev/vdb") : List.of(), List.of(), null, null, kmsg, false, ksm ? 0 : null,
                        null, false, "kernel rule", null, null, null));
        return Combinators.combine(a, nri, kube, kubelet, Arbitraries.of("0x0007").injectNull(0.5), b)
                .as((f, n, ku, kl, mglru, noswap) -> new DoctorFacts(f.kernelRelease(), f.effectiveUid(),
                        f.memoryController(), f.hybrid(), f.memoryMount(), f.swapAccounting(), f.memoryReclaim(),
                        f.psi(), f.memTotal(), f.swapTotal(), f.swapFree(), f.swapDevices(), f.zramDevices(),
                        f.zswapEnabled(), mglru, f.kmsgReadable(), f.dmesgRestrict(), f.ksmRun(), f.balloonDriver(),
                        noswap, "kernel rule", n, ku, kl));
    }

    @Property
    void overallFollowsTheCapabilities(@ForAll("nodes") DoctorFacts f) {
        Doctor.Report r = Doctor.evaluate(f);
        boolean anyBad = r.capabilities().stream().anyMatch(c -> c.status() == Doctor.Status.DEGRADED
                || c.status() == Doctor.Status.UNAVAILABLE);
        if (f.memoryController() == null) {
            assertThat(r.overall()).isEqualTo(Doctor.Overall.UNUSABLE);
        } else {
            assertThat(r.overall()).isEqualTo(anyBad ? Doctor.Overall.DEGRADED : Doctor.Overall.READY);
        }
        assertThat(r.capabilities()).extracting(Doctor.Capability::name).containsExactly("cgroup", "swap",
                "memory-qos", "throttle-relief", "cold-offload", "pressure-guard", "oom-watch", "ksm", "balloon",
                "zram-zswap", "tmpfs-noswap", "nri", "kubernetes-api", "kubelet");
    }

    /** With a memory controller, whatever will not work comes with the one line that fixes it. */
    @Property
    void everyFailureOnAManagedNodeHasAFix(@ForAll("nodes") DoctorFacts f) {
        if (f.memoryController() == null) {
            return;
        }
        for (Doctor.Capability c : Doctor.evaluate(f).capabilities()) {
            if (c.status() == Doctor.Status.DEGRADED || c.status() == Doctor.Status.UNAVAILABLE) {
                assertThat(c.fix()).as(c.toString()).isNotBlank();
            }
            assertThat(c.detail()).as(c.toString()).isNotBlank().doesNotContain("\n");
        }
    }

    /** Swap behaviours are ready exactly when swap is on and accounted. */
    @Property
    void swapReadyIffOnAndAccounted(@ForAll("nodes") DoctorFacts f) {
        boolean ready = Doctor.evaluate(f).capability("swap").status() == Doctor.Status.READY;
        assertThat(ready).isEqualTo(f.memoryController() != null && f.swapTotal() > 0 && f.swapAccounting());
    }

    /** The text names every capability once, and its last line is the overall verdict. */
    @Property
    void textHasOneLinePerCapability(@ForAll("nodes") DoctorFacts f) {
        Doctor.Report r = Doctor.evaluate(f);
        String[] lines = Doctor.text(f, r).split("\n");
        assertThat(lines[lines.length - 1]).isEqualTo("overall: " + r.overall().text());
        long statusLines = java.util.Arrays.stream(lines).filter(l -> l.startsWith("[")).count();
        assertThat(statusLines).isEqualTo(r.capabilities().size());
    }
}
