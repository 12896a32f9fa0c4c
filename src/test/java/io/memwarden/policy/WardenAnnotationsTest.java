package io.memwarden.policy;

import static io.memwarden.policy.TestPods.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.memwarden.model.PodSpec;
import io.memwarden.model.SwapBehavior;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** memwarden.io annotations and the admin allowlist (docs/policy.md "memwarden annotations"). */
class WardenAnnotationsTest {
    static final WardenConfig.AnnotationPolicy ALLOW_ALL = new WardenConfig.AnnotationPolicy(WardenAnnotations.KEYS,
            Set.of(SwapBehavior.LIMITED_SWAP, SwapBehavior.UNLIMITED_SWAP), Set.of());
    static final Set<String> NAMES = Set.of("app", "side");

    private static PodSpec pod2(String k, String v) {
        return pod("p").ns("batch").annotation(k, v).container("app", mem("1Gi", "2Gi")).container("side", mem("1Gi", "2Gi")).build();
    }

    @Test
    void containerFormOverridesPodWide() throws Exception {
        PodSpec p = pod("p").annotation("swap-behavior.memwarden.io", "UnlimitedSwap")
                .annotation("swap-behavior.memwarden.io/app", "NoSwap")
                .annotation("swap-max.memwarden.io", "1Gi").container("app", mem("1Gi", "2Gi")).container("side", mem("1Gi", "2Gi")).build();
        WardenAnnotations.validate(p, ALLOW_ALL, NAMES);
        var app = WardenAnnotations.forContainer(p, "app");
        assertThat(app.behavior()).isEqualTo(SwapBehavior.NO_SWAP);
        assertThat(app.swapMax()).isEqualTo(GI);
        assertThat(WardenAnnotations.forContainer(p, "side").behavior()).isEqualTo(SwapBehavior.UNLIMITED_SWAP);
    }

    @Test
    void keyNotAllowedByConfigIsAnError() {
        var none = new WardenConfig.AnnotationPolicy(Set.of("swap-max"), Set.of(), Set.of());
        assertThatThrownBy(() -> WardenAnnotations.validate(pod2("swap-behavior.memwarden.io", "NoSwap"), none, NAMES))
                .hasMessageContaining("swap-behavior.memwarden.io").hasMessageContaining("annotations.allowed");
    }

    @Test
    void behaviourNotAllowedIsAnErrorButNoSwapAlwaysLowers() throws Exception {
        assertThatThrownBy(() -> WardenAnnotations.validate(pod2("swap-behavior.memwarden.io", "WithinLimitSwap"),
                ALLOW_ALL, NAMES)).hasMessageContaining("allowedSwapBehaviors");
        var onlyLimited = new WardenConfig.AnnotationPolicy(WardenAnnotations.KEYS, Set.of(), Set.of());
        WardenAnnotations.validate(pod2("swap-behavior.memwarden.io", "NoSwap"), onlyLimited, NAMES);
    }

    @Test
    void namespaceAllowlist() {
        var ns = new WardenConfig.AnnotationPolicy(WardenAnnotations.KEYS, Set.of(), Set.of("other"));
        assertThatThrownBy(() -> WardenAnnotations.validate(pod2("swap-max.memwarden.io", "1Gi"), ns, NAMES))
                .hasMessageContaining("namespace \"batch\"");
    }

    @Test
    void badValuesUnknownKeysAndUnknownContainersAreErrors() {
        assertThatThrownBy(() -> WardenAnnotations.validate(pod2("swap-behavior.memwarden.io", "Sometimes"), ALLOW_ALL, NAMES))
                .hasMessageContaining("unknown swap behavior \"Sometimes\"");
        assertThatThrownBy(() -> WardenAnnotations.validate(pod2("swap-max.memwarden.io/app", "lots"), ALLOW_ALL, NAMES))
                .hasMessageContaining("swap-max.memwarden.io/app=lots");
        assertThatThrownBy(() -> WardenAnnotations.validate(pod2("swap-max.memwarden.io/app", "-1Gi"), ALLOW_ALL, NAMES))
                .hasMessageContaining("negative");
        assertThatThrownBy(() -> WardenAnnotations.validate(pod2("swapmax.memwarden.io", "1Gi"), ALLOW_ALL, NAMES))
                .hasMessageContaining("unknown memwarden annotation key \"swapmax\"");
        assertThatThrownBy(() -> WardenAnnotations.validate(pod2("swap-max.memwarden.io/ap", "1Gi"), ALLOW_ALL, NAMES))
                .hasMessageContaining("no container named \"ap\"");
        assertThatThrownBy(() -> WardenAnnotations.validate(pod2("pod-swap-max.memwarden.io/app", "1Gi"), ALLOW_ALL, NAMES))
                .hasMessageContaining("whole pod");
    }

    @Test
    void otherAnnotationsAreIgnored() throws Exception {
        WardenAnnotations.validate(pod2("example.com/memwarden.io", "x"), ALLOW_ALL, NAMES);
        WardenAnnotations.validate(pod2("app.kubernetes.io/name", "x"), ALLOW_ALL, NAMES);
    }
}
