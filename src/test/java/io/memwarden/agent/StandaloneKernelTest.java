package io.memwarden.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.cgroup.CgroupTree;
import io.memwarden.cgroup.CgroupWriter;
import io.memwarden.cgroup.HostFacts;
import io.memwarden.cgroup.KernelAssumptions;
import io.memwarden.cgroup.MemoryUsage;
import io.memwarden.k8s.ClusterActions;
import io.memwarden.model.CgroupVersion;
import io.memwarden.model.Clock;
import io.memwarden.model.NodeFacts;
import io.memwarden.model.PodSpec;
import io.memwarden.policy.KubeletSettings;
import io.memwarden.policy.Plan;
import io.memwarden.policy.Planner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The standalone agent on the real memory controller (kernel tier): a kubepods-like tree of both drivers built below
 * this JVM's own memory cgroup (memwarden-test-*), a real process in a container cgroup, the agent pointed at the
 * tree as its memory root. The containers' real cgroup files get the plan, the sandbox's keep the kernel's defaults,
 * and stopping the agent leaves the values. The tree (and the process) is removed at the end.
 */
@Tag("kernel")
class StandaloneKernelTest {
    static final String UID_FS = "8a1d3c5e-0000-4000-8000-0000000000f1";
    static final String UID_SD = "8a1d3c5e-0000-4000-8000-0000000000f2";
    static final String APP = "a".repeat(64);
    static final String PAUSE = "c".repeat(64);
    static final String SIDE = "e".repeat(64);

    @Test
    void theContainersRealCgroupsGetThePlanAndKeepItAfterTheAgentStops() throws Exception {
        HostFacts h = KernelAssumptions.requireMemoryCgroup();
        NodeFacts node = h.toNodeFacts();
        PodSpec web = StandaloneApplierTest.pod("web", UID_FS, StandaloneApplierTest.container("app", "32Mi", "64Mi"));
        PodSpec db = StandaloneApplierTest.pod("db", UID_SD, StandaloneApplierTest.container("app", "48Mi", "48Mi"));
        Map<String, PodsByUid.Known> known = Map.of(
                UID_FS, new PodsByUid.Known(web, Map.of(APP, "app"), true, "kernel test"),
                UID_SD, new PodsByUid.Known(db, Map.of(SIDE, "app"), true, "kernel test"));
        PodsByUid source = new PodsByUid() {
            @Override
            public Optional<Known> find(String uid) {
                return Optional.ofNullable(known.get(uid));
            }

            @Override
            public String describe() {
                return "kernel test";
            }
        };
        Path cfgFile = Files.createTempFile("memwarden-standalone-", ".yaml");
        Process p = null;
        try (CgroupTree t = KernelAssumptions.newTree(h)) {
            Path app = t.mkdirs("kubepods/burstable/pod" + UID_FS + "/" + APP);
            Path pause = t.mkdirs("kubepods/burstable/pod" + UID_FS + "/" + PAUSE);
            Path side = t.mkdirs("kubepods.slice/kubepods-pod" + UID_SD.replace('-', '_') + ".slice/cri-containerd-"
                    + SIDE + ".scope");
            String pauseLimit = read(pause, limitFile(h));
            Process sleeper = new ProcessBuilder("/bin/sh", "-c", "echo $$ > \"$0\" && exec sleep 120",
                    app.resolve("cgroup.procs").toString()).start();
            p = sleeper;
            while (t.pids().isEmpty()) {
                Thread.sleep(10);
            }
            Files.writeString(cfgFile, "loops: {period: 100ms, guard: {enabled: false}, throttle: {enabled: false},"
                    + " offload: {enabled: false}}\n");
            Agent agent = new Agent(new Agent.Setup(h, node, KubeletSettings.DEFAULTS, AgentConfigReader.read(cfgFile),
                    null, null, null, null, ClusterActions.NONE, null, false, Clock.SYSTEM,
                    new Agent.Standalone(source, t.root())), false);
            Planner planner = new Planner(node, KubeletSettings.DEFAULTS, AgentConfig.DEFAULTS.policy());
            Map<String, String> webPlan = plan(planner, web);
            Map<String, String> dbPlan = plan(planner, db);
            CgroupWriter check = new CgroupWriter(h.memoryController(), h.pageSize());
            try {
                agent.start();
                // the round writes each cgroup as it goes and publishes its containers to the workload at its end
                AgentTest.await("the plan in the real cgroups", () -> matches(check, app, webPlan)
                        && matches(check, side, dbPlan) && agent.workload().snapshot().size() == 2);
                assertThat(agent.workload().snapshot()).hasSize(2).anySatisfy(s -> {
                    assertThat(s.cgroup()).isEqualTo(app);
                    assertThat(s.usage().pids()).contains(sleeper.pid());
                });
            } finally {
                agent.close();
            }
            assertThat(read(app, limitFile(h))).isEqualTo(Long.toString(64L << 20));
            assertThat(read(side, limitFile(h))).isEqualTo(Long.toString(48L << 20));
            assertThat(read(pause, limitFile(h))).isEqualTo(pauseLimit); // the sandbox: never matched, never written
            assertThat(check.differing(app, webPlan)).isEmpty();         // stopping left every value
            assertThat(check.differing(side, dbPlan)).isEmpty();
            assertThat(p.isAlive()).isTrue();
            MemoryUsage u = MemoryUsage.read(app, h.memoryController());
            assertThat(u.limitBytes()).isEqualTo(64L << 20);
        } finally {
            Files.deleteIfExists(cfgFile);
            if (p != null) {
                p.destroyForcibly().waitFor();
            }
        }
    }

    static String limitFile(HostFacts h) {
        return h.memoryController() == CgroupVersion.V1 ? "memory.limit_in_bytes" : "memory.max";
    }

    static Map<String, String> plan(Planner planner, PodSpec pod) {
        Plan.PodPlan pp = planner.planPod(pod).plan();
        return pp.containers().getFirst().cgroup();
    }

    static boolean matches(CgroupWriter w, Path cg, Map<String, String> plan) {
        try {
            return w.differing(cg, plan).isEmpty();
        } catch (Exception e) {
            return false;
        }
    }

    static String read(Path cg, String f) throws Exception {
        return Files.readString(cg.resolve(f)).strip();
    }
}
