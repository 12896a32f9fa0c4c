package io.memwarden.policy;

/** A pod or container the policy cannot plan; the message names the field and value and is shown to users as is. */
final class PolicyException extends Exception {
    private final String container;

    public PolicyException(String container, String message) {
        super(message);
        this.container = container;
    }

    /** The container the error is about, or null for a pod-wide error. */
    public String container() {
        return container;
    }
}
