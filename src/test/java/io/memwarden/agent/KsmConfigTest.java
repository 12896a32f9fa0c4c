package io.memwarden.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.memwarden.control.Ksmtuned;
import io.memwarden.control.KubevirtKsm;
import io.memwarden.input.InputException;
import io.memwarden.kernel.Ksm;
import io.memwarden.model.Clock;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** {@code loops.ksm} in the agent config, and the KSM metrics over the fixture node. */
class KsmConfigTest {

    @Test
    void offByDefaultAndEveryField() throws Exception {
        assertThat(AgentConfigTest.parse("{}").loops().ksm()).isEqualTo(AgentConfig.Ksm.DEFAULTS);
        assertThat(AgentConfig.Ksm.DEFAULTS.enabled()).isFalse();
        AgentConfig.Ksm k = AgentConfigTest.parse("""
                loops:
                  ksm:
                    enabled: true
                    policy: ksmtuned
                    period: 3m
                    takeOver: true
                    netLossHold: 10m
                    kubevirt: {pagesBoost: 500, pagesMax: 2000, freePercent: 0.3}
                    ksmtuned: {npagesMin: 32, thresCoef: 25, committedProcesses: "^virt-launcher$"}
                """).loops().ksm();
        assertThat(k.enabled()).isTrue();
        assertThat(k.policy()).isEqualTo("ksmtuned");
        assertThat(k.period()).isEqualTo(Duration.ofMinutes(3));
        assertThat(k.takeOver()).isTrue();
        assertThat(k.tunerConfig().hold()).isEqualTo(Duration.ofMinutes(10));
        assertThat(k.kubevirt()).isEqualTo(new KubevirtKsm.Settings(500, -50, 64, 2000, 100, 100, 0.3f));
        assertThat(k.ksmtuned()).isEqualTo(new Ksmtuned.Settings(300, -50, 32, 1250, 10, 25, 2048));
        assertThat(k.committed().pattern()).isEqualTo("^virt-launcher$");
        assertThat(k.newPolicy()).isInstanceOf(Ksmtuned.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "loops: {ksm: {policy: mom}}|field loops.ksm.policy: \"mom\" is not one of kubevirt, ksmtuned",
        "loops: {ksm: {period: 10ms}}|field loops.ksm.period: must be from 1s to 1h, got 10ms",
        "loops: {ksm: {kubevirt: {pagesMax: 10}}}|field loops.ksm.kubevirt: pages-max 10 is below pages-min 64",
        "loops: {ksm: {kubevirt: {freePercent: 2}}}|field loops.ksm.kubevirt: free-percent 2.0 is outside 0..1",
        "loops: {ksm: {kubevirt: {pagesBoost: x}}}|field loops.ksm.kubevirt.pagesBoost: expected an integer",
        "loops: {ksm: {ksmtuned: {committedProcesses: \"(\"}}}|field loops.ksm.ksmtuned.committedProcesses:",
        "loops: {ksm: {boost: 1}}|field loops.ksm.boost: unknown field",
    })
    void badValuesNameTheField(String line) {
        String[] p = line.split("\\|");
        assertThatThrownBy(() -> AgentConfigTest.parse(p[0])).isInstanceOf(InputException.class)
                .hasMessageContaining(p[1]);
    }

    @Test
    void metricsFromTheLatestPass() throws Exception {
        Path node = Path.of("src/test/resources/ksm/node-a");
        KsmTuning t = KsmTuning.start(new Ksm(node.resolve("proc"), node.resolve("sys")), AgentConfig.Ksm.DEFAULTS,
                true, Clock.SYSTEM, line -> { });
        try {
            for (int i = 0; i < 50 && t.loop().last() == null; i++) {
                Thread.sleep(20);
            }
            PrometheusRegistry r = new PrometheusRegistry();
            t.register(r);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            new PrometheusTextFormatWriter(false).write(out, r.scrape());
            assertThat(out.toString(StandardCharsets.UTF_8)).contains("memwarden_ksm_profit_bytes 3.3024768E7",
                    "memwarden_ksm_saved_bytes 3.3550336E7", "memwarden_ksmd_cpu_seconds_total 3.8",
                    "memwarden_ksm_run 1.0", "memwarden_ksm_tuner_observing_only 1.0", "memwarden_ksm_full_scans_total 3");
        } finally {
            t.close();
        }
    }
}
