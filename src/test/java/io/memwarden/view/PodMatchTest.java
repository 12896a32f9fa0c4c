package io.memwarden.view;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class PodMatchTest {
    static final List<String> MANAGED = List.of("shop/web", "shop/postgres", "kube-system/coredns-7db6d8ff4d-x2x9q",
            "batch/report-builder", "dev/scratch");

    @Test
    void typosSubstringsAndOtherNamespaces() {
        assertThat(PodMatch.closest("shop/webb", MANAGED, 5)).containsExactly("shop/web");
        assertThat(PodMatch.closest("default/web", MANAGED, 5)).containsExactly("shop/web");
        assertThat(PodMatch.closest("kube-system/coredns", MANAGED, 5))
                .containsExactly("kube-system/coredns-7db6d8ff4d-x2x9q");
        assertThat(PodMatch.closest("batch/report", MANAGED, 5)).containsExactly("batch/report-builder");
        assertThat(PodMatch.closest("zzz/qqqqqqqq", MANAGED, 5)).isEmpty();
        assertThat(PodMatch.closest("shop/web", MANAGED, 0)).isEmpty();
    }

    @Test
    void distance() {
        assertThat(PodMatch.distance("kitten", "sitting")).isEqualTo(3);
        assertThat(PodMatch.distance("", "abc")).isEqualTo(3);
        assertThat(PodMatch.distance("same", "same")).isZero();
    }
}
