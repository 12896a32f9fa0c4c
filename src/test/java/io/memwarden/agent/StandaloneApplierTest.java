package io.memwarden.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.input.WardenConfigReader;
import io.memwarden.input.YamlDocs;
import io.memwarden.model.CgroupVersion;
import io.memwarden.model.ContainerKind;
import io.memwarden.model.ContainerSpec;
import io.memwarden.model.KubeQuantity;
import io.memwarden.model.NodeFacts;
import io.memwarden.model.PodSpec;
import io.memwarden.model.Resources;
import io.memwarden.policy.KubeletSettings;
import io.memwarden.policy.Planner;
import io.memwarden.policy.WardenConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The standalone applier on fake cgroup trees (files in a temp dir, as cgroup v1 or v2 lays them out): both drivers,
 * matching by container ID or (manifest) by the one container, cgroups it cannot match left alone, writes only where a
 * value differs, a kubelet's rewrite re-applied, a failure recorded once without stopping the others, dry-run.
 */
class StandaloneApplierTest {
    static final long GI = 1L << 30;
    static final long MI = 1L << 20;
    static final String UID = "8a1d3c5e-0000-4000-8000-000000000001";
    static final String UID2 = "8a1d3c5e-0000-4000-8000-000000000002";
    static final String APP = "a".repeat(64);
    static final String SIDE = "b".repeat(64);
    static final String PAUSE = "c".repeat(64);
    static final String V1_UNLIMITED = "9223372036854771712";

    @TempDir
    Path root;
    final List<String> records = new ArrayList<>();
    final Map<String, PodsByUid.Known> known = new HashMap<>();

    final PodsByUid source = new PodsByUid() {
        @Override
        public Optional<Known> find(String uid) {
            return Optional.ofNullable(known.get(uid));
        }

        @Override
        public String describe() {
            return "test pods";
        }
    };

    StandaloneApplier applier(CgroupVersion v, WardenConfig cfg) {
        NodeFacts node = new NodeFacts(16 * GI, 0, v, true, 4096, null, "6.12.0");
        return new StandaloneApplier(root, root.resolve("proc"), v, 4096,
                new Planner(node, KubeletSettings.DEFAULTS, cfg), source,
                (loop, pod, c, action, trigger, result) -> records.add(loop + " " + pod + "/" + c + " " + action + " ("
                        + result + ") because " + trigger));
    }

    static ContainerSpec container(String name, String req, String lim) {
        return new ContainerSpec(name, ContainerKind.REGULAR, new Resources(null, null,
                req == null ? null : KubeQuantity.parse(req).bytes(),
                lim == null ? null : KubeQuantity.parse(lim).bytes()));
    }

    static PodSpec pod(String name, String uid, ContainerSpec... cs) {
        return new PodSpec("shop", name, uid, Map.of(), null, null, null, null, null, List.of(cs));
    }

    Path v2(String rel) throws Exception {
        Path cg = root.resolve(rel);
        Files.createDirectories(cg);
        for (String[] f : new String[][] {{"memory.max", "max"}, {"memory.high", "max"}, {"memory.swap.max", "max"},
                {"memory.min", "0"}, {"memory.low", "0"}, {"memory.oom.group", "0"}}) {
            Files.writeString(cg.resolve(f[0]), f[1] + "\n");
        }
        return cg;
    }

    Path v1(String rel) throws Exception {
        Path cg = root.resolve(rel);
        Files.createDirectories(cg);
        for (String[] f : new String[][] {{"memory.limit_in_bytes", V1_UNLIMITED},
                {"memory.memsw.limit_in_bytes", V1_UNLIMITED}, {"memory.swappiness", "60"}}) {
            Files.writeString(cg.resolve(f[0]), f[1] + "\n");
        }
        return cg;
    }

    static String read(Path cg, String f) throws Exception {
        return Files.readString(cg.resolve(f)).strip();
    }

    /** Every file of the cgroup, for "left alone" checks. */
    static Map<String, String> files(Path cg) throws Exception {
        Map<String, String> out = new HashMap<>();
        try (var s = Files.list(cg)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                out.put(p.getFileName().toString(), Files.readString(p));
            }
        }
        return out;
    }

    @Test
    void v2CgroupfsContainersMatchedByIdGetTheirPlanAndTheSandboxIsLeftAlone() throws Exception {
        String pod = "kubepods/burstable/pod" + UID;
        Path app = v2(pod + "/" + APP);
        Path side = v2(pod + "/" + SIDE);
        Path pause = v2(pod + "/" + PAUSE);
        Path podCg = v2(pod);
        Map<String, String> pauseBefore = files(pause);
        known.put(UID, new PodsByUid.Known(pod("web", UID, container("app", "256Mi", "1Gi"),
                container("sidecar", "64Mi", "128Mi")), Map.of(APP, "app", SIDE, "sidecar"), true, "test pods"));
        StandaloneApplier a = applier(CgroupVersion.V2, WardenConfig.DEFAULTS);

        StandaloneApplier.Round r = a.round(false);
        assertThat(r.containerCgroups()).isEqualTo(3);
        assertThat(r.matched()).isEqualTo(2);
        assertThat(r.leftAlone()).isEqualTo(1);
        // Burstable, NoSwap: the container's limit and no swap; memory.oom.group on v2
        assertThat(read(app, "memory.max")).isEqualTo(Long.toString(GI));
        assertThat(read(app, "memory.swap.max")).isEqualTo("0");
        assertThat(read(app, "memory.oom.group")).isEqualTo("1");
        assertThat(read(side, "memory.max")).isEqualTo(Long.toString(128 * MI));
        // every container declares a limit: the pod cgroup gets the sum
        assertThat(read(podCg, "memory.max")).isEqualTo(Long.toString(GI + 128 * MI));
        assertThat(files(pause)).isEqualTo(pauseBefore);
        assertThat(records).hasSize(3).anySatisfy(l -> assertThat(l).startsWith("apply shop/web/app memory.max="
                + GI + " memory.swap.max=0 memory.oom.group=1 (ok) because /" + pod + "/" + APP
                + " differs from the plan (memory.max was max, memory.swap.max was max, memory.oom.group was 0;"
                + " pod spec from test pods)"))
                .anySatisfy(l -> assertThat(l).startsWith("apply shop/web/null memory.max=" + (GI + 128 * MI)
                        + " (ok) because /" + pod + " differs"));
        assertThat(a.managed()).extracting(m -> m.name() + " " + m.cgroupsPath())
                .containsExactly("app /" + pod + "/" + APP, "sidecar /" + pod + "/" + SIDE);
        assertThat(a.managed().getFirst().plan().reasons().getFirst()).isEqualTo("pod spec from test pods; cgroup /"
                + pod + "/" + APP + " found by the standalone scan (cgroupfs driver)");

        // idempotent: the values are the plan's, nothing is written or recorded
        r = a.round(false);
        assertThat(r.written()).isZero();
        assertThat(records).hasSize(3);

        // the kubelet rewrites a value (a resize, a restart): the next round puts the plan back
        Files.writeString(app.resolve("memory.swap.max"), "max\n");
        r = a.round(false);
        assertThat(r.written()).isEqualTo(1);
        assertThat(read(app, "memory.swap.max")).isEqualTo("0");
        assertThat(records.getLast()).contains("shop/web/app memory.swap.max=0 (ok)")
                .contains("memory.swap.max was max");
    }

    @Test
    void v1SystemdContainersGetTheV1Files() throws Exception {
        String pod = "kubepods.slice/kubepods-pod" + UID.replace('-', '_') + ".slice";
        Path app = v1(pod + "/cri-containerd-" + APP + ".scope");
        Path conmon = v1(pod + "/crio-conmon-" + SIDE + ".scope");
        v1(pod);
        Map<String, String> conmonBefore = files(conmon);
        known.put(UID, new PodsByUid.Known(pod("db", UID, container("app", "512Mi", "512Mi")), Map.of(APP, "app"),
                true, "test pods"));
        StandaloneApplier a = applier(CgroupVersion.V1, WardenConfig.DEFAULTS);
        StandaloneApplier.Round r = a.round(false);
        assertThat(r.containerCgroups()).isEqualTo(1); // conmon is not a container
        assertThat(read(app, "memory.limit_in_bytes")).isEqualTo(Long.toString(512 * MI));
        assertThat(read(app, "memory.memsw.limit_in_bytes")).isEqualTo(Long.toString(512 * MI));
        assertThat(files(conmon)).isEqualTo(conmonBefore);
        assertThat(a.managed()).singleElement().satisfies(m -> {
            assertThat(m.podKey()).isEqualTo("shop/db");
            assertThat(m.cgroupsPath()).isEqualTo("/" + pod + "/cri-containerd-" + APP + ".scope");
        });
        int n = records.size();
        assertThat(a.round(false).written()).isZero();
        assertThat(records).hasSize(n);
    }

    @Test
    void aManifestMatchesOnlyAOneContainerPodWithOneContainerCgroup() throws Exception {
        Path one = v2("kubepods/besteffort/pod" + UID + "/" + APP);
        Path twoA = v2("kubepods/besteffort/pod" + UID2 + "/" + APP);
        Path twoB = v2("kubepods/besteffort/pod" + UID2 + "/" + PAUSE);
        Path stranger = v2("kubepods/besteffort/pod" + "ffffffff-0000-4000-8000-000000000009" + "/" + APP);
        Map<String, String> before = files(twoA);
        PodsByUid manifest = PodsByUid.manifest("pods.yaml", List.of(pod("one", UID, container("app", null, null)),
                pod("two", UID2, container("app", null, null))));
        known.put(UID, manifest.find(UID).orElseThrow());
        known.put(UID2, manifest.find(UID2).orElseThrow());
        StandaloneApplier a = applier(CgroupVersion.V2, WardenConfig.DEFAULTS);
        StandaloneApplier.Round r = a.round(false);
        assertThat(r.matched()).isEqualTo(1);
        assertThat(r.leftAlone()).isEqualTo(3);
        assertThat(read(one, "memory.swap.max")).isEqualTo("0");
        assertThat(files(twoA)).isEqualTo(before);
        assertThat(files(twoB)).isEqualTo(before);
        assertThat(files(stranger)).isEqualTo(before);
        assertThat(a.managed()).singleElement().satisfies(m -> assertThat(m.source()).isEqualTo("manifest pods.yaml"));
    }

    /** A process of the fake /proc in a cgroup. */
    void process(Path cg, int pid, String comm) throws Exception {
        Files.writeString(cg.resolve("cgroup.procs"), pid + "\n");
        Files.createDirectories(root.resolve("proc/" + pid));
        Files.writeString(root.resolve("proc/" + pid + "/comm"), comm + "\n");
    }

    @Test
    void aManifestPodsSandboxIsToldByItsPauseProcessAndLeftAlone() throws Exception {
        Path app = v2("kubepods/besteffort/pod" + UID + "/" + APP);
        Path pause = v2("kubepods/besteffort/pod" + UID + "/" + PAUSE);
        process(app, 4343, "nginx");
        process(pause, 4242, "pause");
        Map<String, String> pauseBefore = files(pause);
        PodsByUid manifest = PodsByUid.manifest("pods.yaml", List.of(pod("one", UID, container("app", null, null))));
        known.put(UID, manifest.find(UID).orElseThrow());
        StandaloneApplier a = applier(CgroupVersion.V2, WardenConfig.DEFAULTS);
        assertThat(a.round(false).matched()).isEqualTo(1);
        assertThat(read(app, "memory.swap.max")).isEqualTo("0");
        assertThat(files(pause)).isEqualTo(pauseBefore);

        // its process is not pause any more: not known to be the sandbox → ambiguous, nothing more written
        Files.writeString(app.resolve("memory.swap.max"), "max\n");
        process(pause, 4244, "sh");
        Map<String, String> appBefore = files(app);
        StandaloneApplier.Round r = a.round(false);
        assertThat(r.matched()).isZero();
        assertThat(r.leftAlone()).isEqualTo(2);
        assertThat(files(app)).isEqualTo(appBefore);
    }

    @Test
    void aFailedWriteIsRecordedOnceAndDoesNotStopTheOthers() throws Exception {
        String pod = "kubepods/burstable/pod" + UID;
        Path app = v2(pod + "/" + APP);
        Path side = v2(pod + "/" + SIDE);
        Files.delete(app.resolve("memory.swap.max")); // as without swap accounting
        known.put(UID, new PodsByUid.Known(pod("web", UID, container("app", "256Mi", null),
                container("sidecar", "64Mi", "128Mi")), Map.of(APP, "app", SIDE, "sidecar"), true, "test pods"));
        StandaloneApplier a = applier(CgroupVersion.V2, WardenConfig.DEFAULTS);
        StandaloneApplier.Round r = a.round(false);
        assertThat(r.failed()).isEqualTo(1);
        assertThat(read(side, "memory.max")).isEqualTo(Long.toString(128 * MI));
        assertThat(read(app, "memory.max")).isEqualTo("max"); // all or nothing: nothing of the app's plan
        assertThat(records).filteredOn(l -> l.contains("(failed: ")).singleElement()
                .satisfies(l -> assertThat(l).startsWith("apply shop/web/app ").contains("memory.swap.max"));
        a.round(false);
        assertThat(records).filteredOn(l -> l.contains("(failed: ")).hasSize(1);
        // still managed: the loops and /status see it
        assertThat(a.managed()).hasSize(2);
    }

    @Test
    void dryRunRecordsOnceAndWritesNothingAndReplanAppliesANewConfig() throws Exception {
        Path app = v2("kubepods/burstable/pod" + UID + "/" + APP);
        v2("kubepods/burstable/pod" + UID);
        known.put(UID, new PodsByUid.Known(pod("web", UID, container("app", "256Mi", "1Gi")), Map.of(APP, "app"),
                true, "test pods"));
        StandaloneApplier a = applier(CgroupVersion.V2, WardenConfig.DEFAULTS);
        a.round(true);
        a.round(true);
        assertThat(read(app, "memory.max")).isEqualTo("max");
        assertThat(records).hasSize(2).allSatisfy(l -> assertThat(l).contains("(dry-run)")); // pod and container
        a.round(false);
        assertThat(read(app, "memory.swap.max")).isEqualTo("0");

        // a reloaded config: UnlimitedSwap for everyone → the next round re-plans and writes the change
        NodeFacts node = new NodeFacts(16 * GI, 0, CgroupVersion.V2, true, 4096, null, "6.12.0");
        WardenConfig unlimited = WardenConfigReader.parse("cfg.yaml",
                YamlDocs.readAll("cfg.yaml", "swap: {behavior: UnlimitedSwap}\n").getFirst());
        a.replan(new Planner(node, KubeletSettings.DEFAULTS, unlimited));
        assertThat(a.round(false).written()).isEqualTo(1);
        assertThat(read(app, "memory.swap.max")).isEqualTo("max");
    }

    @Test
    void aContainerNotYetReportedIsLeftAloneThenMatched() throws Exception {
        Path app = v2("kubepods/burstable/pod" + UID + "/" + APP);
        Map<String, String> before = files(app);
        PodSpec spec = pod("web", UID, container("app", "256Mi", "1Gi"));
        known.put(UID, new PodsByUid.Known(spec, Map.of(), true, "test pods"));
        StandaloneApplier a = applier(CgroupVersion.V2, WardenConfig.DEFAULTS);
        assertThat(a.round(false).leftAlone()).isEqualTo(1);
        assertThat(files(app)).isEqualTo(before);
        assertThat(a.managed()).isEmpty();
        known.put(UID, new PodsByUid.Known(spec, Map.of(APP, "app"), true, "test pods"));
        assertThat(a.round(false).matched()).isEqualTo(1);
        assertThat(read(app, "memory.max")).isEqualTo(Long.toString(GI));
    }

    // ---- issue #11, class 1: a poisoned pod ahead of good ones is left alone, announced once; the others are written

    static final String UID3 = "8a1d3c5e-0000-4000-8000-000000000003";

    @Test
    void aPoisonedPodIsLeftAloneAndTheOthersAreWritten() throws Exception {
        WardenConfig cfg = WardenConfigReader.parse("c.yaml", YamlDocs.readAll("c.yaml",
                "memoryQos: {unifiedannotations: [memory.swap.max]}\nswap: {maxPerContainer: 1Gi}\n").getFirst());
        // scan order is the tree's: the poisoned pod's uid sorts first
        String bad = "kubepods/burstable/pod" + UID;
        String good = "kubepods/burstable/pod" + UID2;
        String spelled = "kubepods/burstable/pod" + UID3;
        Path badApp = v2(bad + "/" + APP);
        Path goodApp = v2(good + "/" + SIDE);
        Path spelledApp = v2(spelled + "/" + PAUSE);
        v2(bad);
        v2(good);
        v2(spelled);
        Map<String, String> badBefore = files(badApp);
        PodSpec poisoned = new PodSpec("shop", "evil", UID, Map.of("memory.swap.max.memory-qos.nri.io",
                "99999999999999999999"), null, null, null, null, null, List.of(container("app", "256Mi", "1Gi")));
        PodSpec spelledPod = new PodSpec("shop", "spelled", UID3, Map.of("memory.swap.max.memory-qos.nri.io", "100G"),
                null, null, null, null, null, List.of(container("app", "256Mi", "1Gi")));
        known.put(UID, new PodsByUid.Known(poisoned, Map.of(APP, "app"), true, "test pods"));
        known.put(UID2, new PodsByUid.Known(pod("web", UID2, container("side", "64Mi", "128Mi")), Map.of(SIDE, "side"),
                true, "test pods"));
        known.put(UID3, new PodsByUid.Known(spelledPod, Map.of(PAUSE, "app"), true, "test pods"));
        StandaloneApplier a = applier(CgroupVersion.V2, cfg);

        for (int round = 0; round < 2; round++) {
            StandaloneApplier.Round r = a.round(false);
            assertThat(r.matched()).isEqualTo(2);
            assertThat(r.leftAlone()).isEqualTo(1);
            assertThat(read(goodApp, "memory.max")).isEqualTo(Long.toString(128 * MI));
            assertThat(read(spelledApp, "memory.swap.max")).isEqualTo(Long.toString(GI)); // 100G capped at 1Gi
            assertThat(files(badApp)).isEqualTo(badBefore);
        }
        assertThat(records.stream().filter(l -> l.startsWith("apply shop/evil/app plan (failed)")).toList())
                .as("announced once, in one line, with the annotation and value").hasSize(1)
                .allSatisfy(l -> assertThat(l).contains("memory.swap.max.memory-qos.nri.io")
                        .contains("99999999999999999999").doesNotContain("\n"));
    }
}
