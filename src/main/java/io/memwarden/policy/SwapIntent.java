package io.memwarden.policy;

/**
 * What a container's swap allowance means, before it is written as a cgroup v1 or v2 file. Rendering happens in one
 * place ({@link CgroupRendering}).
 */
sealed interface SwapIntent {
    /** No swap file is written (swap controller unavailable). */
    record NotWritten() implements SwapIntent {}

    /** No swap: v2 {@code memory.swap.max=0}; v1 memsw = memory limit. */
    record Zero() implements SwapIntent {}

    /** At most {@code bytes} of swap: v2 {@code memory.swap.max=bytes}; v1 memsw = memory limit + bytes. */
    record Bytes(long bytes) implements SwapIntent {}

    /** Unlimited swap: v2 {@code memory.swap.max=max}; v1 memsw = -1. */
    record Unlimited() implements SwapIntent {}

    /** Memory + swap within the memory limit (alpha LimitedSwap): v1 memsw = limit; v2 {@code memory.swap.max=0}. */
    record WithinLimit() implements SwapIntent {}
}
