package io.memwarden.control;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * virt-handler's node annotations over memwarden's configured kubevirt settings (docs/vm-nodes.md "KSM tuner"): what
 * applies, what is a warning (naming the annotation and value) with the config's value kept.
 */
class KubevirtKsmNodeTest {
    static final KubevirtKsm.Settings CONFIG = new KubevirtKsm.Settings(500, -50, 64, 2000, 100, 100, 0.3f);

    static String k(String name) {
        return "kubevirt.io/ksm-" + name + "-override";
    }

    @Test
    void overridesApplyOverTheConfig() {
        List<String> w = new ArrayList<>();
        KubevirtKsm.Settings s = CONFIG.withNodeAnnotations(Map.of(k("pages-boost"), "200", k("pages-decay"), "-10",
                k("pages-min"), "32", k("pages-max"), "900", k("pages-init"), "50", k("sleep-ms-baseline"), "40",
                k("free-percent"), "0.25", "other", "x"), w);
        assertThat(s).isEqualTo(new KubevirtKsm.Settings(200, -10, 32, 900, 50, 40, 0.25f));
        assertThat(w).isEmpty();
        assertThat(CONFIG.withNodeAnnotations(Map.of(), w)).isEqualTo(CONFIG);
        assertThat(CONFIG.withNodeAnnotations(Map.of(k("pages-max"), "3000"), w).pagesMax()).isEqualTo(3000);
    }

    @Test
    void badValuesWarnNamingAnnotationAndValueAndKeepTheConfig() {
        List<String> w = new ArrayList<>();
        KubevirtKsm.Settings s = CONFIG.withNodeAnnotations(Map.of(k("pages-boost"), "lots", k("pages-decay"), "5",
                k("free-percent"), "1.5", k("sleep-ms-baseline"), "0", k("pages-max"), "1000"), w);
        assertThat(s).isEqualTo(new KubevirtKsm.Settings(500, -50, 64, 1000, 100, 100, 0.3f));
        assertThat(w).containsExactlyInAnyOrder(
                "node annotation kubevirt.io/ksm-pages-boost-override=\"lots\" is not an integer: memwarden keeps its"
                        + " configured 500",
                "node annotation kubevirt.io/ksm-pages-decay-override=5 is out of bounds -2147483648..0: memwarden"
                        + " keeps its configured -50",
                "node annotation kubevirt.io/ksm-sleep-ms-baseline-override=0 is out of bounds 1..2147483647:"
                        + " memwarden keeps its configured 100",
                "node annotation kubevirt.io/ksm-free-percent-override=1.5 is out of bounds 0..1: memwarden keeps its"
                        + " configured 0.3");
    }

    @Test
    void maxAndInitAreBoundedByTheValuesInEffect() {
        List<String> w = new ArrayList<>();
        // max below the annotated min: the config's max (2000) is kept
        KubevirtKsm.Settings s = CONFIG.withNodeAnnotations(Map.of(k("pages-min"), "90", k("pages-max"), "80"), w);
        assertThat(s.pagesMin()).isEqualTo(90);
        assertThat(s.pagesMax()).isEqualTo(2000);
        assertThat(w).containsExactly("node annotation kubevirt.io/ksm-pages-max-override=80 is out of bounds"
                + " 90..2147483647: memwarden keeps its configured 2000");
        w.clear();
        // init against the min and max in effect
        assertThat(CONFIG.withNodeAnnotations(Map.of(k("pages-max"), "300", k("pages-init"), "400"), w).pagesInit())
                .isEqualTo(100);
        assertThat(w).containsExactly("node annotation kubevirt.io/ksm-pages-init-override=400 is out of bounds"
                + " 64..300: memwarden keeps its configured 100");
        w.clear();
        // a min above the config's init, with no init annotation: inconsistent, every override dropped
        assertThat(CONFIG.withNodeAnnotations(Map.of(k("pages-min"), "150", k("pages-boost"), "1"), w))
                .isEqualTo(CONFIG);
        assertThat(w).containsExactly("node annotations kubevirt.io/ksm-*-override give pages-init 100 is outside"
                + " pages-min..pages-max 150..2000: memwarden keeps its configured values for all of them");
    }

    @Test
    void controlCharactersInAValueAreShownEscaped() {
        List<String> w = new ArrayList<>();
        CONFIG.withNodeAnnotations(Map.of(k("pages-init"), "1\n2"), w);
        assertThat(w).containsExactly("node annotation kubevirt.io/ksm-pages-init-override=\"1\\x0a2\" is not an"
                + " integer: memwarden keeps its configured 100");
    }

    @Test
    void virtHandlersClaim() {
        List<String> w = new ArrayList<>();
        assertThat(KubevirtKsm.virtHandlerClaim(Map.of(), Map.of(), w)).isNull();
        assertThat(KubevirtKsm.virtHandlerClaim(Map.of("kubevirt.io/ksm-enabled", "false"),
                Map.of("kubevirt.io/ksm-handler-managed", "false"), w)).isNull();
        assertThat(KubevirtKsm.virtHandlerClaim(Map.of(), Map.of("kubevirt.io/ksm-handler-managed", "true"), w))
                .startsWith("KubeVirt's virt-handler switched KSM on on this node (node annotation"
                        + " kubevirt.io/ksm-handler-managed=true)");
        assertThat(KubevirtKsm.virtHandlerClaim(Map.of("kubevirt.io/ksm-enabled", "true"), Map.of(), w))
                .startsWith("KubeVirt's virt-handler tunes KSM on this node (node label kubevirt.io/ksm-enabled=true");
        assertThat(w).isEmpty();
        assertThat(KubevirtKsm.virtHandlerClaim(Map.of(), Map.of("kubevirt.io/ksm-handler-managed", "yes"), w))
                .isNull();
        assertThat(w).containsExactly("node annotation kubevirt.io/ksm-handler-managed=\"yes\" is neither true nor"
                + " false (virt-handler writes one of them): ignored");
    }
}
