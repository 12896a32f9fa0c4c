package io.memwarden.model;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * Swap behaviours. {@code NoSwap} and {@code LimitedSwap} are the kubelet's (KEP-2400 GA); {@code UnlimitedSwap} and
 * {@code WithinLimitSwap} are the seed KEP's alpha semantics, kept as memwarden extensions.
 */
public enum SwapBehavior {
    NO_SWAP("NoSwap", true),
    LIMITED_SWAP("LimitedSwap", true),
    UNLIMITED_SWAP("UnlimitedSwap", false),
    WITHIN_LIMIT_SWAP("WithinLimitSwap", false);

    private final String configName;
    private final boolean kubelet;

    SwapBehavior(String configName, boolean kubelet) {
        this.configName = configName;
        this.kubelet = kubelet;
    }

    public String configName() {
        return configName;
    }

    /** True for the behaviours the kubelet itself accepts in {@code memorySwap.swapBehavior}. */
    public boolean isKubelet() {
        return kubelet;
    }

    /** Parses a behaviour name exactly as spelled in configs; the empty string means {@code NoSwap}. */
    public static SwapBehavior parse(String name) {
        if (name == null || name.isEmpty()) {
            return NO_SWAP;
        }
        for (SwapBehavior b : values()) {
            if (b.configName.equals(name)) {
                return b;
            }
        }
        throw new IllegalArgumentException("unknown swap behavior \"" + name + "\" (expected one of "
                + Arrays.stream(values()).map(SwapBehavior::configName).collect(Collectors.joining(", ")) + ")");
    }

    @Override
    public String toString() {
        return configName;
    }
}
