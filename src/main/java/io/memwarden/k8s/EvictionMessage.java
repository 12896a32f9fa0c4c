package io.memwarden.k8s;

import io.memwarden.model.KubeQuantity;
import java.util.List;

/**
 * The kubelet's eviction message for memory, so that a pod memwarden evicts reads like one the kubelet evicted.
 *
 * <p>Format (kubernetes/kubernetes {@code pkg/kubelet/eviction/helpers.go}, {@code evictionMessage} with
 * {@code nodeLowMessageFmt}, {@code thresholdMetMessageFmt} and {@code containerMessageFmt}, read at commit
 * 008b3652959c): {@code "The node was low on resource: memory. "}, then
 * {@code "Threshold quantity: <threshold>, available: <available>. "}, then for each container whose working set
 * exceeds its memory request (regular containers first, then init containers, in the order given)
 * {@code "Container <name> was using <usage>, request is <request>, has larger consumption of memory. "}. Every
 * sentence ends with ". " (a trailing space), as the kubelet's does. Quantities are printed as
 * {@code resource.Quantity.String()} prints them: the available amount and usages are binary-SI quantities of
 * bytes ({@code 100Mi}, {@code 1536}, {@code 1k} for 1000 bytes: the API's canonical form).
 *
 * <p>Not reproduced: the pod-level sentence ({@code podMessageFmt}, pod-level resources) and the event annotations
 * ({@code offending_containers}…). A request written with a decimal suffix ({@code 500M}) is printed in binary
 * canonical form ({@code 500000000}) because memwarden's pod model keeps requests in bytes.
 */
final class EvictionMessage {

    private EvictionMessage() {
    }

    /**
     * One container's memory at eviction time.
     *
     * @param workingSetBytes the container's working set (usage − inactive_file), as the kubelet compares
     * @param requestBytes    its memory request in bytes (0 when absent)
     */
    public record ContainerUsage(String name, long workingSetBytes, long requestBytes) {
        public ContainerUsage {
            if (name == null || name.isEmpty()) {
                throw new IllegalArgumentException("container name is missing");
            }
        }
    }

    /**
     * The message for a threshold configured as a quantity ({@code evictionHard: memory.available: "100Mi"}), printed
     * in the quantity's own canonical form as the kubelet does ({@code 100Mi}, {@code 500M}, {@code 1Gi} for
     * {@code 1024Mi}).
     *
     * @throws IllegalArgumentException when {@code thresholdQuantity} is not a quantity (the message names it)
     */
    public static String kubeletStyleMessage(String thresholdQuantity, long availableBytes,
                                             List<ContainerUsage> containers) {
        KubeQuantity q;
        try {
            q = KubeQuantity.parse(thresholdQuantity);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("eviction threshold quantity: " + e.getMessage(), e);
        }
        return message(canonical(q), availableBytes, containers);
    }

    /**
     * The message for a threshold resolved to bytes (a percentage of capacity, which the kubelet turns into a
     * binary-SI quantity of bytes).
     */
    public static String kubeletStyleMessage(long thresholdBytes, long availableBytes, List<ContainerUsage> containers) {
        return message(binarySi(thresholdBytes), availableBytes, containers);
    }

    private static String message(String threshold, long availableBytes, List<ContainerUsage> containers) {
        StringBuilder b = new StringBuilder("The node was low on resource: memory. ");
        b.append("Threshold quantity: ").append(threshold).append(", available: ").append(binarySi(availableBytes))
                .append(". ");
        for (ContainerUsage c : containers) {
            if (c.workingSetBytes() > c.requestBytes()) {
                b.append("Container ").append(c.name()).append(" was using ").append(binarySi(c.workingSetBytes()))
                        .append(", request is ").append(binarySi(c.requestBytes()))
                        .append(", has larger consumption of memory. ");
            }
        }
        return b.toString();
    }

    /** {@code resource.NewQuantity(bytes, resource.BinarySI).String()}. */
    public static String binarySi(long bytes) {
        if (bytes == 0) {
            return "0";
        }
        if (bytes > -1024 && bytes < 1024) {
            return decimal(bytes, false); // the API prints small binary quantities in decimal SI
        }
        long amount = bytes;
        int exp = 0;
        while (amount % 1024 == 0 && exp < 6) {
            amount /= 1024;
            exp++;
        }
        return amount + switch (exp) {
            case 0 -> "";
            case 1 -> "Ki";
            case 2 -> "Mi";
            case 3 -> "Gi";
            case 4 -> "Ti";
            case 5 -> "Pi";
            default -> "Ei";
        };
    }

    /** The canonical form of a parsed quantity in its own format (binary SI, decimal SI or decimal exponent). */
    static String canonical(KubeQuantity q) {
        String t = q.text();
        long bytes = q.bytes();
        if (t.endsWith("i")) {
            return binarySi(bytes);
        }
        boolean exponent = t.matches(".*[0-9.][eE][+-]?[0-9]+");
        return decimal(bytes, exponent);
    }

    /** {@code int64Amount.AsCanonicalBytes}: strip factors of ten, keep the exponent a multiple of three. */
    private static String decimal(long value, boolean exponentFormat) {
        if (value == 0) {
            return "0";
        }
        long amount = value;
        int exp = 0;
        while (amount % 10 == 0) {
            amount /= 10;
            exp++;
        }
        int extra = exp % 3;
        exp -= extra;
        for (; extra > 0; extra--) {
            amount *= 10;
        }
        if (exponentFormat) {
            return exp == 0 ? Long.toString(amount) : amount + "e" + exp;
        }
        return amount + switch (exp) {
            case 0 -> "";
            case 3 -> "k";
            case 6 -> "M";
            case 9 -> "G";
            case 12 -> "T";
            case 15 -> "P";
            default -> "E";
        };
    }
}
