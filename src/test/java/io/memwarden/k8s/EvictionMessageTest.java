package io.memwarden.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.memwarden.k8s.EvictionMessage.ContainerUsage;
import io.memwarden.model.KubeQuantity;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The kubelet's eviction message (pkg/kubelet/eviction/helpers.go evictionMessage) and Quantity.String(). */
class EvictionMessageTest {

    @Test
    void thresholdAvailableAndEveryContainerOverItsRequest() {
        String m = EvictionMessage.kubeletStyleMessage("100Mi", 52_428_800L + 4096, List.of(
                new ContainerUsage("app", 1L << 30, 512L << 20),
                new ContainerUsage("sidecar", 10L << 20, 64L << 20), // under its request: not named
                new ContainerUsage("batch", 3000, 0)));
        assertThat(m).isEqualTo("The node was low on resource: memory. Threshold quantity: 100Mi, available: 51204Ki. "
                + "Container app was using 1Gi, request is 512Mi, has larger consumption of memory. "
                + "Container batch was using 3000, request is 0, has larger consumption of memory. ");
    }

    @Test
    void aPercentageThresholdIsPrintedAsBinaryBytes() {
        // 10% of 8 GiB as the kubelet resolves it: int64(capacity * 0.1) bytes, a BinarySI quantity
        long threshold = (long) ((8L << 30) * (double) 0.1f);
        assertThat(EvictionMessage.kubeletStyleMessage(threshold, 700L << 20, List.of()))
                .isEqualTo("The node was low on resource: memory. Threshold quantity: " + threshold
                        + ", available: 700Mi. ");
    }

    @Test
    void aUsageEqualToTheRequestIsNotBlamed() {
        assertThat(EvictionMessage.kubeletStyleMessage("1Gi", 0, List.of(new ContainerUsage("c", 1L << 20, 1L << 20))))
                .isEqualTo("The node was low on resource: memory. Threshold quantity: 1Gi, available: 0. ");
    }

    @ParameterizedTest
    @CsvSource({"0,0", "1,1", "1000,1k", "1023,1023", "1024,1Ki", "1536,1536", "2048,2Ki", "104857600,100Mi",
            "1073741824,1Gi", "1500000000,1500000000", "-1048576,-1Mi", "3000,3000"})
    void binarySiIsTheApisCanonicalForm(long bytes, String expected) {
        assertThat(EvictionMessage.binarySi(bytes)).isEqualTo(expected);
    }

    @ParameterizedTest
    @CsvSource({"100Mi,100Mi", "1024Mi,1Gi", "0.5Gi,512Mi", "500M,500M", "1000,1k", "1500000000,1500M", "1e9,1e9",
            "1500e6,1500e6", "1.5G,1500M", "2000Ki,2000Ki"})
    void aConfiguredQuantityKeepsItsFormat(String text, String expected) {
        assertThat(EvictionMessage.canonical(KubeQuantity.parse(text))).isEqualTo(expected);
    }

    @Test
    void aBadThresholdNamesTheField() {
        assertThatThrownBy(() -> EvictionMessage.kubeletStyleMessage("lots", 1, List.of()))
                .hasMessageContaining("eviction threshold quantity").hasMessageContaining("lots");
        assertThatThrownBy(() -> new ContainerUsage("", 1, 1)).hasMessageContaining("container name");
    }
}
