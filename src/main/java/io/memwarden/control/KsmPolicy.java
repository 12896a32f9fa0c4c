package io.memwarden.control;

/** One KSM tuning algorithm: an observation in, what to write out. */
public sealed interface KsmPolicy permits KubevirtKsm, Ksmtuned {

    /** "kubevirt" or "ksmtuned". */
    String name();

    KsmDecision decide(KsmObservation o);
}
