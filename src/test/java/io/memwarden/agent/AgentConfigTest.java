package io.memwarden.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.memwarden.cgroup.HostFacts;
import io.memwarden.input.InputException;
import io.memwarden.input.KubeletConfigReader;
import io.memwarden.input.WardenConfigReader;
import io.memwarden.input.YamlDocs;
import io.memwarden.loops.LoopOptions;
import io.memwarden.loops.ProtectedPods;
import io.memwarden.model.CgroupVersion;
import io.memwarden.model.NodeFacts;
import io.memwarden.model.QosClass;
import io.memwarden.model.SwapBehavior;
import io.memwarden.policy.KubeletSettings;
import io.memwarden.loops.ControlLoops;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The agent's config sections, cgroups-path resolution, protect globs and start-up checks. */
class AgentConfigTest {
    static final long GI = 1L << 30;

    static AgentConfig parse(String yaml) throws InputException {
        return AgentConfigReader.parse("cfg.yaml", YamlDocs.readAll("cfg.yaml", yaml).getFirst());
    }

    @Test
    void defaultsAndEverySection() throws Exception {
        assertThat(parse("{}")).isEqualTo(AgentConfig.DEFAULTS);
        AgentConfig c = parse("""
                swap: {behavior: LimitedSwap}
                agent: {listen: "127.0.0.1:19767", failSwapOn: warn, protect: [kube-system/coredns-*], history: 20,
                        statusFromNetwork: true}
                loops:
                  period: 2s
                  dryRun: true
                  psiTrigger: full 200000 4000000
                  guard: {enabled: true, softAvailable: 2Gi, softGrace: 10s, hardAvailable: 1Gi, cooldown: 30s,
                          directAfter: 3s}
                  throttle: {enabled: false}
                  offload: {enabled: true, qosClasses: [BestEffort], stallTargets: {BestEffort: 2%, Burstable: 0.5%}}
                kubernetes: {enabled: false, events: false, evictions: false, nodeLabel: false, taintSwapNodes: true,
                             watchAllPods: true}
                """);
        assertThat(c.policy().swap().behavior()).isEqualTo(SwapBehavior.LIMITED_SWAP);
        assertThat(c.agent()).isEqualTo(new AgentConfig.Agent("127.0.0.1:19767", AgentConfig.FailSwapOn.WARN,
                Set.of("kube-system/coredns-*"), 20, true));
        assertThat(c.loops().period()).isEqualTo(Duration.ofSeconds(2));
        assertThat(c.loops().dryRun()).isTrue();
        assertThat(c.loops().psiTrigger().text()).isEqualTo("full 200000 4000000");
        assertThat(c.loops().throttle()).isFalse();
        assertThat(c.loops().offload().qosClasses()).containsExactly(QosClass.BEST_EFFORT);
        assertThat(c.loops().offload().stallTargets()).containsEntry(QosClass.BEST_EFFORT, 2.0)
                .containsEntry(QosClass.BURSTABLE, 0.5);
        assertThat(c.loops().guard().resolve(16 * GI).softAvailableBytes()).isEqualTo(2 * GI);
        assertThat(c.loops().guard().resolve(16 * GI).cooldown()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.loops().guard().resolve(16 * GI).directAfter()).isEqualTo(Duration.ofSeconds(3));
        assertThat(AgentConfig.DEFAULTS.loops().guard().resolve(16 * GI).directAfter())
                .isEqualTo(Duration.ofSeconds(5));
        assertThat(c.kubernetes()).isEqualTo(new AgentConfig.Kubernetes(AgentConfig.KubeMode.FALSE, false, false,
                false, true, true));
        // percentages scale with the node
        assertThat(AgentConfig.DEFAULTS.loops().guard().resolve(10 * GI).hardAvailableBytes()).isEqualTo(GI);
    }

    @Test
    void offloadMethodsPerCgroupVersion() throws Exception {
        assertThat(AgentConfig.DEFAULTS.loops().offload().v1Method()).isEqualTo(LoopOptions.V1Offload.MADVISE);
        assertThat(AgentConfig.DEFAULTS.loops().offload().v2Method()).isEqualTo(LoopOptions.V2Offload.RECLAIM);
        AgentConfig c = parse("loops: {offload: {v1Method: limit, v2Method: reclaim}}");
        assertThat(c.loops().offload().v1Method()).isEqualTo(LoopOptions.V1Offload.LIMIT);
        assertThat(c.loops().offload().v2Method()).isEqualTo(LoopOptions.V2Offload.RECLAIM);
        // one named, the other keeps its default; the other offload fields keep theirs
        AgentConfig v2 = parse("loops: {offload: {v2Method: madvise}}");
        assertThat(v2.loops().offload().v1Method()).isEqualTo(LoopOptions.V1Offload.MADVISE);
        assertThat(v2.loops().offload().qosClasses()).isEqualTo(AgentConfig.Offload.DEFAULTS.qosClasses());
        assertThat(v2.loops().offload().v2Method()).isEqualTo(LoopOptions.V2Offload.MADVISE);
    }

    @Test
    void psiTriggerDefaultsToSome150msIn2sAndOffDisablesIt() throws Exception {
        assertThat(parse("loops: {}").loops().psiTrigger().text()).isEqualTo("some 150000 2000000");
        assertThat(parse("loops: {psiTrigger: \"off\"}").loops().psiTrigger()).isNull();
        assertThat(parse("loops: {dryRun: true}").loops().psiTrigger()).isEqualTo(AgentConfig.Loops.PSI_TRIGGER_DEFAULT);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "agent: {listn: x}|field agent.listn: unknown field (known: listen, failSwapOn, protect, history,"
            + " statusFromNetwork)",
        "agent: {failSwapOn: maybe}|field agent.failSwapOn: \"maybe\" is not one of kubelet, refuse, warn",
        "agent: {protect: [coredns]}|field agent.protect[0]: \"coredns\" is not NAMESPACE/NAME",
        "agent: {history: 0}|field agent.history: expected an integer from 1 to 1000000, got 0",
        "agent: {listen: 'nohost:'}|field agent.listen:",
        "loops: {period: 5ms}|field loops.period: must be from 100ms to 1m, got 5ms",
        "loops: {period: soon}|field loops.period:",
        "loops: {guard: {directAfter: -1s}}|field loops.guard.directAfter: \"-1s\" must not be negative",
        "loops: {guard: {directAfter: later}}|field loops.guard.directAfter:",
        "loops: {guard: {softAvailable: 5%, hardAvailable: 10%}}|field loops.guard.hardAvailable: 10% is above"
            + " loops.guard.softAvailable 5%",
        "loops: {guard: {softAvailable: 150%}}|field loops.guard.softAvailable: \"150%\" must be above 0% and below"
            + " 100%",
        "loops: {offload: {qosClasses: [Gold]}}|field loops.offload.qosClasses[0]: \"Gold\" is not a QoS class",
        "loops: {offload: {stallTargets: {Gold: 1%}}}|field loops.offload.stallTargets.Gold: \"Gold\" is not a QoS class",
        "loops: {offload: {stallTargets: {BestEffort: 1pc}}}|field loops.offload.stallTargets.BestEffort: expected a"
            + " percentage such as 1%",
        "loops: {offload: {stallTargets: {BestEffort: 80%}}}|field loops.offload.stallTargets.BestEffort: \"80%\""
            + " must be above 0% and at most 50%",
        "loops: {offload: {v1Method: reclaim}}|field loops.offload.v1Method: \"reclaim\" is not one of madvise, limit",
        "loops: {offload: {v2Method: limit}}|field loops.offload.v2Method: \"limit\" is not one of madvise, reclaim",
        "loops: {offload: {v2Method: 2}}|field loops.offload.v2Method: expected a string, got 2",
        "loops: {offload: {method: madvise}}|field loops.offload.method: unknown field",
        "loops: {throttle: yes please}|field loops.throttle: expected a mapping",
        "loops: {psiTrigger: some 150000 1000000}|field loops.psiTrigger: \"some 150000 1000000\": PSI trigger window"
            + " must be a multiple of 2000000 us (2 s)",
        "loops: {psiTrigger: sometimes}|field loops.psiTrigger: PSI trigger \"sometimes\" must be",
        "loops: {psiTrigger: 5}|field loops.psiTrigger: expected a string, got 5",
        "kubernetes: {enabled: maybe}|field kubernetes.enabled: expected auto, true or false, got",
        "kubernetes: {taint: true}|field kubernetes.taint: unknown field",
        "swap: {behavior: Sometimes}|field swap.behavior:",
        "agents: {}|field agents: unknown field",
        "agent: {statusFromNetwork: sometimes}|field agent.statusFromNetwork: expected true or false, got \"sometimes\"",
        "agent: {statusFromNetwork: 1}|field agent.statusFromNetwork: expected true or false, got 1",
    })
    void badInputNamesTheFieldAndValue(String yaml, String message) {
        assertThatThrownBy(() -> parse(yaml)).isInstanceOf(InputException.class)
                .hasMessageStartingWith("cfg.yaml: " + message.substring(0, message.indexOf(':') + 1))
                .hasMessageContaining(message);
    }

    @Test
    void thePolicyReaderAcceptsAFileWithAgentSections() throws Exception {
        var n = YamlDocs.readAll("cfg.yaml", "swap: {behavior: NoSwap}\nagent: {history: 5}\nloops: {}\n").getFirst();
        assertThat(WardenConfigReader.parse("cfg.yaml", n).swap().behavior()).isEqualTo(SwapBehavior.NO_SWAP);
    }

    @ParameterizedTest
    @CsvSource({
        "/kubepods/burstable/podabc/c1, kubepods/burstable/podabc/c1",
        "kubepods/besteffort/podabc/c2, kubepods/besteffort/podabc/c2",
        "kubepods-burstable-pod1_2.slice:cri-containerd:c3,"
            + " kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1_2.slice/cri-containerd-c3.scope",
        "kubepods-pod9.slice:crio:c4, kubepods.slice/kubepods-pod9.slice/crio-c4.scope",
        "system.slice:docker:c5, system.slice/docker-c5.scope",
        ":cri-containerd:c6, system.slice/cri-containerd-c6.scope",
        "-.slice:cri-containerd:c7, cri-containerd-c7.scope",
    })
    void cgroupsPathsOfBothDrivers(String given, String expected) {
        Path root = Path.of("/sys/fs/cgroup");
        assertThat(CgroupPaths.resolve(root, given)).isEqualTo(root.resolve(expected));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "''|no cgroups path",
        "/../../etc|is outside",
        "a.slice:x|is not slice:prefix:name",
        "kube--x.slice:p:c|not a valid systemd slice name",
        "notaslice:p:c|is not a systemd slice name",
    })
    void badCgroupsPaths(String given, String message) {
        assertThatThrownBy(() -> CgroupPaths.resolve(Path.of("/sys/fs/cgroup"), given))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(message);
    }

    @Test
    void protectGlobs() {
        Set<String> p = Set.of("kube-system/coredns-*", "shop/db", "mon/prom-?");
        assertThat(ProtectedPods.contains(p, "kube-system/coredns-7d9f-x")).isTrue();
        assertThat(ProtectedPods.contains(p, "kube-system/kube-proxy-1")).isFalse();
        assertThat(ProtectedPods.contains(p, "shop/db")).isTrue();
        assertThat(ProtectedPods.contains(p, "shop/db-2")).isFalse();
        assertThat(ProtectedPods.contains(p, "mon/prom-1")).isTrue();
        assertThat(ProtectedPods.contains(p, "mon/prom-12")).isFalse();
        assertThat(ProtectedPods.contains(Set.of("a.b/c"), "aXb/c")).isFalse(); // dots are literal
    }

    static HostFacts host(CgroupVersion v, long swap, boolean psi, String kernel) {
        return new HostFacts(v, false, Path.of("/sys/fs/cgroup"), Path.of("/sys/fs/cgroup"), null, true, psi, 16 * GI,
                swap, swap > 0 ? List.of("/swapfile") : List.of(), List.of(), null, kernel, 4096);
    }

    static StartupChecks.Result check(HostFacts h, KubeletSettings k, AgentConfig c) {
        NodeFacts n = new NodeFacts(h.memTotal(), h.swapTotal(), h.memoryController(), true, 4096, null,
                h.kernelVersion());
        return StartupChecks.check(h, Agent.nodePlan(n, k, c), k, c);
    }

    @Test
    void swapOnWithTheKubeletsFailSwapOnRefusesUnlessTold() throws Exception {
        HostFacts h = host(CgroupVersion.V2, 4 * GI, true, "6.12.0");
        StartupChecks.Result r = check(h, KubeletSettings.DEFAULTS, AgentConfig.DEFAULTS);
        assertThat(r.refuse()).isTrue();
        assertThat(r.findings()).anySatisfy(f -> {
            assertThat(f.level()).isEqualTo(StartupChecks.Level.ERROR);
            assertThat(f.message()).contains("running with swap on is not supported, please disable swap or set"
                    + " --fail-swap-on flag to false");
        });
        assertThat(check(h, KubeletSettings.DEFAULTS, parse("agent: {failSwapOn: warn}")).refuse()).isFalse();
        KubeletSettings noFail = KubeletConfigReader.parse("k.yaml", YamlDocs.readAll("k.yaml",
                "kind: KubeletConfiguration\nfailSwapOn: false\nmemorySwap: {swapBehavior: LimitedSwap}\n").getFirst());
        assertThat(check(h, noFail, AgentConfig.DEFAULTS).refuse()).isFalse();
        assertThat(check(h, noFail, parse("agent: {failSwapOn: refuse}")).refuse()).isTrue();
        assertThat(check(host(CgroupVersion.V2, 0, true, "6.12.0"), KubeletSettings.DEFAULTS,
                parse("agent: {failSwapOn: refuse}")).refuse()).isFalse();
    }

    @Test
    void kernelPsiAndCgroupV1Findings() {
        StartupChecks.Result old = check(host(CgroupVersion.V2, 0, false, "5.4.0-150-generic"),
                KubeletSettings.DEFAULTS, AgentConfig.DEFAULTS);
        assertThat(old.refuse()).isFalse();
        assertThat(old.offloadPossible()).isFalse();
        assertThat(old.findings()).extracting(StartupChecks.Finding::toString)
                .anySatisfy(s -> assertThat(s).startsWith("warning: kernel 5.4.0-150-generic is older than 5.9"))
                .anySatisfy(s -> assertThat(s).startsWith("warning: PSI is not available"));
        StartupChecks.Result v1 = check(host(CgroupVersion.V1, 0, true, "6.1.0"), KubeletSettings.DEFAULTS,
                AgentConfig.DEFAULTS);
        assertThat(v1.offloadPossible()).isTrue();
        assertThat(v1.findings()).extracting(StartupChecks.Finding::toString)
                .anySatisfy(s -> assertThat(s).startsWith("info: cgroup v1 has no memory.high"));
        HostFacts none = new HostFacts(null, false, null, null, null, false, false, GI, 0, List.of(), List.of(), null,
                "6.1.0", 4096);
        assertThat(StartupChecks.check(none, null, null, AgentConfig.DEFAULTS).refuse()).isTrue();
    }
}
