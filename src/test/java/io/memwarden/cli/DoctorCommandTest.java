package io.memwarden.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.view.Doctor;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code memwarden doctor} over fixture roots ({@link NodeFixture}): each node shape gives the capability states it
 * should, the golden text/JSON outputs (regenerate with {@code -Dmemwarden.golden.update=true}, review the diff), the
 * exit code, and the tree is left as it was.
 */
class DoctorCommandTest {
    @TempDir
    Path tmp;

    record Run(int code, String out, String err) {}

    private Run doctor(Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine.IFactory factory = new CommandLine.IFactory() {
            @Override
            public <K> K create(Class<K> cls) throws Exception {
                K k = CommandLine.defaultFactory().create(cls);
                if (k instanceof DoctorCommand d) {
                    d.env = env;
                }
                return k;
            }
        };
        String[] all = new String[args.length + 3];
        all[0] = "doctor";
        all[1] = "--root";
        all[2] = tmp.toString();
        System.arraycopy(args, 0, all, 3, args.length);
        int code = Main.run(factory, new PrintWriter(out, true), new PrintWriter(err, true), all);
        return new Run(code, out.toString().replace(tmp.toString(), "ROOT"),
                err.toString().replace(tmp.toString(), "ROOT"));
    }

    private Run doctor(String... args) {
        return doctor(Map.of(), args);
    }

    private static final Map<String, String> IN_CLUSTER = Map.of("KUBERNETES_SERVICE_HOST", "10.96.0.1",
            "KUBERNETES_SERVICE_PORT", "443");

    private static JsonNode json(Run r) {
        return JsonMapper.builder().build().readTree(r.out());
    }

    private static String status(JsonNode doc, String capability) {
        for (JsonNode c : doc.get("capabilities")) {
            if (c.get("name").asString().equals(capability)) {
                return c.get("status").asString();
            }
        }
        throw new AssertionError("no capability " + capability);
    }

    private static String fix(JsonNode doc, String capability) {
        for (JsonNode c : doc.get("capabilities")) {
            if (c.get("name").asString().equals(capability)) {
                return c.get("fix").isNull() ? null : c.get("fix").asString();
            }
        }
        throw new AssertionError("no capability " + capability);
    }

    private Path kubelet(String body) throws IOException {
        Path k = tmp.resolve("kubelet-config.yaml");
        Files.writeString(k, "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n" + body);
        return k;
    }

    /** cgroup v2 with everything memwarden uses: ready, exit 0. */
    @Test
    void v2WithEverything() throws IOException {
        try (NodeFixture n = new NodeFixture(tmp).kernel("6.12.48+deb13-cloud-amd64").v2(true, true)
                .swap("/dev/vdb", 2L << 30, 512L << 20).psi().kmsg().ksm(1).mglru("0x0007").zswap(true)
                .virtioBalloon().nriSocket().serviceAccount()
                .containerdConfig("version = 3\n[plugins.\"io.containerd.nri.v1.nri\"]\n  disable = false\n")) {
            Path k = kubelet("failSwapOn: false\nmemorySwap:\n  swapBehavior: LimitedSwap\n");
            Run text = doctor(IN_CLUSTER, "--kubelet-config", k.toString());
            assertThat(text.code()).as(text.out() + text.err()).isZero();
            PlanCommandTest.golden("doctor-v2-everything.txt", text.out());
            Run js = doctor(IN_CLUSTER, "-o", "json", "--kubelet-config", k.toString());
            assertThat(js.code()).isZero();
            PlanCommandTest.golden("doctor-v2-everything.json", js.out());
            JsonNode doc = json(js);
            assertThat(doc.get("overall").asString()).isEqualTo("ready");
            assertThat(doc.get("node").get("cgroupVersion").asInt()).isEqualTo(2);
            assertThat(doc.get("node").get("swapFreeBytes").asLong()).isEqualTo((2L << 30) - (512L << 20));
            for (JsonNode c : doc.get("capabilities")) {
                assertThat(c.get("status").asString()).as(c.toString()).isIn("ready", "not-applicable");
            }
            assertThat(status(doc, "balloon")).isEqualTo("ready");
            assertThat(status(doc, "nri")).isEqualTo("ready");
            assertThat(text.out()).contains("2Gi total, 1536Mi free").contains("memory.reclaim (MGLRU 0x0007)");
        }
    }

    /** The build machine's shape with swap: v1 hybrid, memsw accounting, no NRI, a kubeconfig. */
    @Test
    void v1HostWithSwap() throws IOException {
        try (NodeFixture n = new NodeFixture(tmp).kernel("6.1.0-40-cloud-amd64").v1(true)
                .swap("/dev/vdb", 1L << 30, 0).psi().kmsg().ksm(0).zramDevice("zram0").zswap(false)
                .containerdConfig("version = 2\n[plugins.\"io.containerd.grpc.v1.cri\"]\n  sandbox_image = \"x\"\n")
                .file("home/op/.kube/config", "apiVersion: v1\nkind: Config\n")) {
            Map<String, String> env = Map.of("HOME", "/home/op");
            Run text = doctor(env);
            assertThat(text.code()).as(text.err()).isEqualTo(ExitCodes.DOCTOR_DEGRADED);
            PlanCommandTest.golden("doctor-v1-swap.txt", text.out());
            Run js = doctor(env, "-o", "json");
            PlanCommandTest.golden("doctor-v1-swap.json", js.out());
            JsonNode doc = json(js);
            assertThat(doc.get("exitCode").asInt()).isEqualTo(3);
            assertThat(status(doc, "swap")).isEqualTo("ready");
            assertThat(status(doc, "memory-qos")).isEqualTo("unavailable");
            assertThat(status(doc, "cold-offload")).isEqualTo("ready");
            assertThat(status(doc, "kubernetes-api")).isEqualTo("ready");
            assertThat(status(doc, "nri")).isEqualTo("unavailable");
            assertThat(status(doc, "balloon")).isEqualTo("not-applicable");
            assertThat(text.out()).contains("memory.memsw.limit_in_bytes").contains("process_madvise")
                    .contains("does not set NRI (on by default in containerd 2.x, off in 1.7)");
            assertThat(fix(doc, "nri")).contains("disable = false");
        }
    }

    /** v1 without memsw: swap on but not accounted, the fix is swapaccount=1. */
    @Test
    void v1WithoutSwapAccounting() throws IOException {
        try (NodeFixture n = new NodeFixture(tmp).kernel("6.1.0").v1(false).swap("/swapfile", 1L << 30, 0)
                .psi().kmsg()) {
            JsonNode doc = json(doctor("-o", "json"));
            assertThat(status(doc, "swap")).isEqualTo("degraded");
            assertThat(fix(doc, "swap")).isEqualTo("boot with swapaccount=1");
            assertThat(status(doc, "cold-offload")).isEqualTo("unavailable");
        }
    }

    /** v2 without swap, the kubelet configured for LimitedSwap: swap and the kubelet's swap are not ready. */
    @Test
    void v2WithoutSwap() throws IOException {
        try (NodeFixture n = new NodeFixture(tmp).kernel("6.12.48").v2(true, true).noSwap().psi().kmsg().ksm(0)
                .mglru("0x0007").nriSocket().serviceAccount()) {
            Path k = kubelet("failSwapOn: false\nmemorySwap:\n  swapBehavior: LimitedSwap\n");
            Run text = doctor(IN_CLUSTER, "--kubelet-config", k.toString());
            assertThat(text.code()).isEqualTo(ExitCodes.DOCTOR_DEGRADED);
            PlanCommandTest.golden("doctor-v2-noswap.txt", text.out());
            JsonNode doc = json(doctor(IN_CLUSTER, "-o", "json", "--kubelet-config", k.toString()));
            assertThat(status(doc, "swap")).isEqualTo("unavailable");
            assertThat(fix(doc, "swap")).isEqualTo("memwarden swap file create /swapfile --size 4Gi");
            assertThat(status(doc, "kubelet")).isEqualTo("degraded");
            assertThat(status(doc, "cold-offload")).isEqualTo("unavailable");
            assertThat(status(doc, "tmpfs-noswap")).isEqualTo("ready");
            assertThat(status(doc, "memory-qos")).isEqualTo("ready");
        }
    }

    @Test
    void withoutPsi() throws IOException {
        try (NodeFixture n = new NodeFixture(tmp).kernel("6.12.48").v2(true, true).swap("/dev/vdb", 1L << 30, 0)
                .kmsg().mglru("0x0007")) {
            JsonNode doc = json(doctor("-o", "json"));
            assertThat(doc.get("node").get("psi").asBoolean()).isFalse();
            assertThat(status(doc, "pressure-guard")).isEqualTo("degraded");
            assertThat(fix(doc, "pressure-guard")).isEqualTo("boot with psi=1");
            assertThat(status(doc, "cold-offload")).isEqualTo("unavailable");
            assertThat(fix(doc, "cold-offload")).isEqualTo("boot with psi=1");
        }
    }

    /** 5.4: memory.high can livelock, no memory.reclaim, no process_madvise, no tmpfs noswap. */
    @Test
    void oldKernel() throws IOException {
        try (NodeFixture n = new NodeFixture(tmp).kernel("5.4.0-150-generic").v2(true, false)
                .swap("/dev/sdb2", 4L << 30, 0).psi().kmsg()) {
            JsonNode doc = json(doctor("-o", "json"));
            assertThat(status(doc, "memory-qos")).isEqualTo("degraded");
            assertThat(fix(doc, "memory-qos")).isEqualTo("upgrade the kernel to 5.9 or later");
            assertThat(status(doc, "cold-offload")).isEqualTo("unavailable");
            assertThat(fix(doc, "cold-offload")).isEqualTo("upgrade the kernel to 5.19 or later");
            assertThat(status(doc, "tmpfs-noswap")).isEqualTo("degraded");
            assertThat(status(doc, "throttle-relief")).isEqualTo("ready");
        }
    }

    /** No socket, and containerd's config turns NRI off: the fix is the config line. */
    @Test
    void noNriSocketAndNriDisabled() throws IOException {
        try (NodeFixture n = new NodeFixture(tmp).kernel("6.12.48").v2(true, true).noSwap().psi().kmsg()
                .containerdConfig("version = 2\n\n[plugins]\n  [plugins.\"io.containerd.nri.v1.nri\"]\n"
                        + "    disable = true  # 1.7's default\n    socket_path = \"/var/run/nri/nri.sock\"\n")) {
            JsonNode doc = json(doctor("-o", "json"));
            assertThat(doc.get("node").get("nri").get("socketState").asString()).isEqualTo("missing");
            assertThat(doc.get("node").get("nri").get("containerdNri").asString()).isEqualTo("disabled");
            assertThat(status(doc, "nri")).isEqualTo("unavailable");
            assertThat(fix(doc, "nri")).isEqualTo("set disable = false under [plugins.\"io.containerd.nri.v1.nri\"]"
                    + " in /etc/containerd/config.toml and restart containerd");
        }
    }

    /** A socket file nobody listens on: refused. */
    @Test
    void nriSocketNobodyListensOn() throws IOException {
        try (NodeFixture n = new NodeFixture(tmp).kernel("6.12.48").v2(true, true).noSwap().psi().kmsg()
                .nriSocket()) {
            n.close(); // the socket file stays, the listener is gone
            JsonNode doc = json(doctor("-o", "json", "--nri-socket", "/var/run/nri/nri.sock"));
            assertThat(doc.get("node").get("nri").get("socketState").asString()).isEqualTo("refused");
            assertThat(status(doc, "nri")).isEqualTo("unavailable");
        }
    }

    /** /dev/kmsg is 0644, but with dmesg_restrict=1 only CAP_SYSLOG reads it (as `nobody` on the build machine). */
    @Test
    void kmsgNeedsCapSyslogUnderDmesgRestrict() throws IOException {
        try (NodeFixture n = new NodeFixture(tmp).kernel("6.12.48").v2(true, true).noSwap().psi().kmsg()
                .unprivileged()) {
            JsonNode doc = json(doctor("-o", "json"));
            assertThat(doc.get("node").get("uid").asInt()).isEqualTo(1000);
            assertThat(doc.get("node").get("kmsgReadable").asBoolean()).isFalse();
            assertThat(status(doc, "oom-watch")).isEqualTo("unavailable");
            assertThat(doctor().out()).contains("/dev/kmsg is missing or not readable by uid 1000"
                    + " (kernel.dmesg_restrict=1: CAP_SYSLOG needed)");
        }
        Files.writeString(tmp.resolve("proc/sys/kernel/dmesg_restrict"), "0\n");
        assertThat(json(doctor("-o", "json")).get("node").get("kmsgReadable").asBoolean()).isTrue();
    }

    @Test
    void noMemoryControllerIsUnusable() throws IOException {
        try (NodeFixture n = new NodeFixture(tmp).kernel("6.12.48").noMemoryController().noSwap()) {
            Run text = doctor();
            assertThat(text.code()).isEqualTo(ExitCodes.DOCTOR_UNUSABLE);
            PlanCommandTest.golden("doctor-no-memory-controller.txt", text.out());
        }
    }

    @Test
    void kubeletThatRefusesSwap() throws IOException {
        try (NodeFixture n = new NodeFixture(tmp).kernel("6.12.48").v2(true, true).swap("/dev/vdb", 1L << 30, 0)
                .psi().kmsg()) {
            Path k = kubelet("memorySwap:\n  swapBehavior: LimitedSwap\n");
            JsonNode doc = json(doctor("-o", "json", "--kubelet-config", k.toString()));
            assertThat(status(doc, "kubelet")).isEqualTo("unavailable");
            assertThat(fix(doc, "kubelet")).isEqualTo("failSwapOn: false");
        }
    }

    @Test
    void badKubeletConfigNamesTheFieldWithoutJavaText() throws IOException {
        try (NodeFixture n = new NodeFixture(tmp).kernel("6.12.48").v2(true, true).noSwap().psi().kmsg()) {
            Path k = kubelet("failSwapOn: false\nmemorySwap:\n  swapBehavior: SometimesSwap\n");
            Run r = doctor("--kubelet-config", k.toString());
            assertThat(r.out()).contains("[unavailable]").contains("ROOT/kubelet-config.yaml")
                    .contains("memorySwap.swapBehavior").contains("SometimesSwap")
                    .doesNotContain("Exception").doesNotContain("\tat ");
        }
    }

    @Test
    void unreadableRootIsOneLineAndExitOne() {
        Run r = doctor(); // tmp is empty: no /proc/self/mountinfo
        assertThat(r.code()).isEqualTo(ExitCodes.FAILURE);
        assertThat(r.err().strip()).isEqualTo("memwarden doctor: cannot read the node below ROOT: no such file"
                        + " ROOT/proc/self/mountinfo")
                .doesNotContain("\n").doesNotContain("Exception");
    }

    /** Doctor reads only: every file of the tree is as it was (content, size, modification time). */
    @Test
    void changesNothing() throws Exception {
        try (NodeFixture n = new NodeFixture(tmp).kernel("6.12.48").v2(true, true).swap("/dev/vdb", 1L << 30, 0)
                .psi().kmsg().ksm(0).mglru("0x0007").zswap(false).virtioBalloon().nriSocket()
                .containerdConfig("version = 3\n")) {
            Map<String, String> before = snapshot(tmp);
            assertThat(doctor(IN_CLUSTER).code()).isIn(0, 3);
            assertThat(doctor(IN_CLUSTER, "-o", "json").code()).isIn(0, 3);
            assertThat(snapshot(tmp)).isEqualTo(before);
        }
    }

    static Map<String, String> snapshot(Path root) throws Exception {
        Map<String, String> out = new TreeMap<>();
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.toList()) {
                BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class,
                        java.nio.file.LinkOption.NOFOLLOW_LINKS);
                String content = a.isRegularFile() ? HexFormat.of().formatHex(sha.digest(Files.readAllBytes(p))) : "";
                out.put(root.relativize(p).toString(), a.size() + " " + a.lastModifiedTime() + " " + content);
            }
        }
        return out;
    }

    @Test
    void exitCodesAreDistinct() {
        assertThat(DoctorCommand.exitCode(Doctor.Overall.READY)).isEqualTo(0);
        assertThat(DoctorCommand.exitCode(Doctor.Overall.DEGRADED)).isEqualTo(3);
        assertThat(DoctorCommand.exitCode(Doctor.Overall.UNUSABLE)).isEqualTo(4);
    }
}
