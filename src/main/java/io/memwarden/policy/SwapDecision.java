package io.memwarden.policy;

import io.memwarden.model.SwapBehavior;
import java.util.List;

/** The swap behaviour a container ends up with, what it means, and why. */
record SwapDecision(SwapBehavior behavior, SwapIntent intent, List<String> reasons) {
    public SwapDecision {
        reasons = List.copyOf(reasons);
    }
}
