package io.memwarden.nri;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.model.CgroupVersion;
import io.memwarden.nri.api.Container;
import io.memwarden.nri.api.Mount;
import io.memwarden.policy.Plan.ContainerPlan;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Invariants of the noswap mount adjustment, whatever the mounts, the plan and the kernel. */
class NoswapMountsPropertiesTest {

    @Provide
    Arbitrary<Mount> mounts() {
        Arbitrary<String> dest = Arbitraries.of("/dev", "/dev/shm", "/tmp", "/run", "/data", "/x y", "/proc");
        Arbitrary<String> type = Arbitraries.of("tmpfs", "bind", "proc", "sysfs", "");
        Arbitrary<String> source = Arbitraries.of("tmpfs", "/var/lib/kubelet/pods/u/volumes/kubernetes.io~empty-dir/m",
                "/run/containerd/shm", "/etc/hosts", "");
        Arbitrary<List<String>> options = Arbitraries.of("rw", "ro", "nosuid", "noswap", "size=1m", "mode=755",
                "rbind", "bind", "huge=always").list().ofMaxSize(6);
        return Combinators.combine(dest, type, source, options).as((d, t, s, o) -> Mount.newBuilder()
                .setDestination(d).setType(t).setSource(s).addAllOptions(o).build());
    }

    @Provide
    Arbitrary<List<Mount>> mountLists() {
        return mounts().list().ofMaxSize(6);
    }

    @Provide
    Arbitrary<Map<String, String>> plans() {
        Arbitrary<String> swap = Arbitraries.of("0", "max", "268435456", null);
        Arbitrary<String> memsw = Arbitraries.of("1073741824", "2147483648", "-1", null);
        return Combinators.combine(swap, memsw).as((s, m) -> {
            Map<String, String> f = new HashMap<>();
            f.put("memory.max", "1073741824");
            f.put("memory.limit_in_bytes", "1073741824");
            if (s != null) {
                f.put("memory.swap.max", s);
            }
            if (m != null) {
                f.put("memory.memsw.limit_in_bytes", m);
            }
            return f;
        });
    }

    @Property
    void neverDropsAnOptionAndNeverTouchesAContainerThatCannotSwap(
            @ForAll("mountLists") List<Mount> mounts, @ForAll("plans") Map<String, String> files, @ForAll boolean v2,
            @ForAll boolean supported, @ForAll boolean bindSourcesAreTmpfs) {
        CgroupVersion v = v2 ? CgroupVersion.V2 : CgroupVersion.V1;
        ContainerPlan plan = new ContainerPlan("c", false, "x", 0, files, List.of());
        Container c = Container.newBuilder().setName("c").addAllMounts(mounts).build();
        var out = NoswapMounts.decide(v, plan, c,
                new MemoryBackedVolumes(supported, "test", s -> bindSourcesAreTmpfs));
        boolean maySwap = v2 ? files.get("memory.swap.max") != null && !files.get("memory.swap.max").equals("0")
                : files.get("memory.memsw.limit_in_bytes") != null
                        && !files.get("memory.memsw.limit_in_bytes").equals(files.get("memory.limit_in_bytes"));
        if (!maySwap) {
            assertThat(out.adjust()).isEmpty();
            assertThat(out.unprotected()).isEmpty();
            return;
        }
        if (!supported) {
            assertThat(out.adjust()).isEmpty();
        }
        List<Mount> adjust = out.adjust();
        assertThat(adjust.size() % 2).isZero();
        List<Mount> remaining = new ArrayList<>(mounts);
        for (int i = 0; i < adjust.size(); i += 2) {
            Mount removal = adjust.get(i);
            Mount added = adjust.get(i + 1);
            assertThat(removal).isEqualTo(Mount.newBuilder().setDestination("-" + added.getDestination()).build());
            // the original mount: same destination, type, source; every option kept in order, noswap appended
            Mount original = remaining.stream().filter(m -> m.getDestination().equals(added.getDestination())
                    && m.getType().equals("tmpfs") && m.getSource().equals(added.getSource())
                    && !m.getOptionsList().contains("noswap")).findFirst().orElseThrow();
            remaining.remove(original);
            assertThat(added.getType()).isEqualTo("tmpfs");
            List<String> expected = new ArrayList<>(original.getOptionsList());
            expected.add("noswap");
            assertThat(added.getOptionsList()).isEqualTo(expected);
        }
        // with support, every tmpfs without noswap was adjusted
        if (supported) {
            assertThat(remaining).noneMatch(m -> m.getType().equals("tmpfs") && !m.getOptionsList().contains("noswap"));
        }
    }
}
