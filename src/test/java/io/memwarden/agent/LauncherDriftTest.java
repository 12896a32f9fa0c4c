package io.memwarden.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.input.PodManifestReader;
import io.memwarden.k8s.ClusterActions;
import io.memwarden.loops.ManagedWorkload;
import io.memwarden.model.OomEvent;
import io.memwarden.model.PodSpec;
import io.memwarden.policy.Plan;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The agent's version-drift check of KubeVirt's published overheads against the VMI read from the API: a drift is a
 * Warning event on the launcher pod (once per pod), an equal value none; an unreadable VMI is tried again, a bad one
 * said once; a launcher of an older VMI of the same name is not compared.
 */
class LauncherDriftTest {
    static final String VMI_JSON = """
            {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance",
             "metadata": {"name": "web", "namespace": "vms", "uid": "6a1c33f0-0d2e-4a41-9d0c-7f1f2f0b8e11"},
             "spec": {"domain": {"resources": {"requests": {"memory": "2Gi"}}, "devices": {}}},
             "status": {"phase": "Running"}}""";

    /** The API: VMIs by ns/name, a KubeVirt CR, the events sent and the reads made. */
    static final class FakeApi implements ClusterActions {
        final Map<String, String> vmis = new HashMap<>();
        String kubeVirt;
        final List<String> events = new ArrayList<>();
        int vmiReads;

        @Override
        public String virtualMachineInstance(String namespace, String name) {
            vmiReads++;
            return vmis.get(namespace + "/" + name);
        }

        @Override
        public String kubeVirt() {
            return kubeVirt;
        }

        @Override
        public void podEvent(String namespace, String pod, String type, String reason, String message) {
            events.add(namespace + "/" + pod + " " + type + " " + reason + " " + message);
        }

        @Override
        public void systemOom(OomEvent e) {
        }

        @Override
        public void nodeEvent(String type, String reason, String message) {
        }

        @Override
        public EvictionOutcome evict(String namespace, String pod, String message) {
            return null;
        }

        @Override
        public void markNode(String swapBehavior, boolean swapOn, boolean label, boolean taint) {
        }

        @Override
        public void close() {
        }
    }

    final FakeApi api = new FakeApi();
    final List<String> logs = new ArrayList<>();
    final LauncherDrift drift = new LauncherDrift(api, "amd64", logs::add);

    static List<ManagedWorkload.ManagedPod> launcher(String overhead) throws Exception {
        String yaml = Files.readString(Path.of("src/test/resources/plan/vm-launchers.yaml"))
                .replace("kubevirt.io/memory-overhead-bytes: \"285212672\"",
                        "kubevirt.io/memory-overhead-bytes: \"" + overhead + "\"");
        PodSpec pod = PodManifestReader.parse("vm-launchers.yaml", yaml).pods().stream()
                .filter(p -> p.name().equals("virt-launcher-web-x7k2q")).findFirst().orElseThrow();
        return List.of(new ManagedWorkload.ManagedPod(pod, new Plan.PodPlan("vms", pod.name(), "Burstable", false, 0,
                0, Map.of(), List.of(), List.of())));
    }

    @Test
    void aDriftIsAWarningEventOnTheLauncherPodOnce() throws Exception {
        api.vmis.put("vms/web", VMI_JSON);
        List<LauncherDrift.Finding> f = drift.pass(launcher("285212672"), true);
        assertThat(f).singleElement().satisfies(x -> {
            assertThat(x.published()).isEqualTo(285212672L);
            assertThat(x.computed()).isEqualTo(306184192L); // plan's own number for this VMI (PlanKubeVirtTest)
            assertThat(x.drift()).isTrue();
        });
        assertThat(api.events).singleElement().isEqualTo("vms/virt-launcher-web-x7k2q Warning MemwardenOverheadDrift"
                + " VM vms/web: version drift: KubeVirt published memory overhead 285212672 bytes"
                + " (kubevirt.io/memory-overhead-bytes), memwarden computes 306184192 bytes (difference -20971520):"
                + " this cluster's KubeVirt sizes VMs unlike the version memwarden follows (kubevirt @d923fdb); the pod"
                + " was sized with the published value");
        assertThat(drift.pass(launcher("285212672"), true)).isEmpty(); // checked: no second read, no second event
        assertThat(api.vmiReads).isEqualTo(1);
        assertThat(api.events).hasSize(1);
    }

    @Test
    void theSameValueIsNoEventAndEventsOffSendsNone() throws Exception {
        api.vmis.put("vms/web", VMI_JSON);
        assertThat(drift.pass(launcher("306184192"), true)).singleElement()
                .satisfies(x -> assertThat(x.drift()).isFalse());
        assertThat(api.events).isEmpty();
        assertThat(logs).anyMatch(l -> l.contains("published overhead 306184192 bytes is memwarden's computation too"));

        LauncherDrift quiet = new LauncherDrift(api, "amd64", logs::add);
        assertThat(quiet.pass(launcher("1"), false)).singleElement().satisfies(x -> assertThat(x.drift()).isTrue());
        assertThat(api.events).isEmpty();
    }

    @Test
    void theCrsOverheadRatioCounts() throws Exception {
        api.vmis.put("vms/web", VMI_JSON);
        api.kubeVirt = """
                {"apiVersion": "kubevirt.io/v1", "kind": "KubeVirt", "metadata": {"name": "kubevirt", "namespace": "kubevirt"},
                 "spec": {"configuration": {"additionalGuestMemoryOverheadRatio": "2"}}}""";
        assertThat(drift.pass(launcher("285212672"), true)).singleElement()
                .satisfies(x -> assertThat(x.computed()).isGreaterThan(306184192L));
    }

    @Test
    void aVmiNotReadableYetIsTriedAgainAndABadOneIsSaidOnce() throws Exception {
        assertThat(drift.pass(launcher("285212672"), true)).isEmpty();
        assertThat(drift.pass(launcher("285212672"), true)).isEmpty();
        assertThat(api.vmiReads).isEqualTo(2);

        api.vmis.put("vms/web", VMI_JSON.replace("\"2Gi\"", "\"two gigs\""));
        assertThat(drift.pass(launcher("285212672"), true)).isEmpty();
        assertThat(drift.pass(launcher("285212672"), true)).isEmpty();
        assertThat(logs).filteredOn(l -> l.contains("overhead not compared")).singleElement()
                .satisfies(l -> assertThat(l).contains("VirtualMachineInstance vms/web from the API")
                        .contains("spec.domain.resources.requests.memory").doesNotContain("Exception"));
        assertThat(api.events).isEmpty();

        api.vmis.put("vms/web", VMI_JSON); // fixed: compared on the next pass
        assertThat(drift.pass(launcher("285212672"), true)).hasSize(1);
        assertThat(api.events).hasSize(1);
    }

    @Test
    void aLauncherOfAnOlderVmiOfTheSameNameIsNotCompared() throws Exception {
        api.vmis.put("vms/web", VMI_JSON.replace("6a1c33f0-0d2e-4a41-9d0c-7f1f2f0b8e11", "another-uid"));
        assertThat(drift.pass(launcher("285212672"), true)).isEmpty();
        assertThat(api.events).isEmpty();
    }

    @Test
    void aBadPublishedValueIsSaidAndNotCompared() throws Exception {
        api.vmis.put("vms/web", VMI_JSON);
        assertThat(drift.pass(launcher("12Mi"), true)).isEmpty();
        assertThat(api.vmiReads).isZero();
        assertThat(logs).singleElement().satisfies(l -> assertThat(l).contains("is not a byte count"));
    }
}
