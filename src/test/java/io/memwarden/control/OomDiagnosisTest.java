package io.memwarden.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.control.OomDiagnosis.Facts;
import io.memwarden.control.OomDiagnosis.Kind;
import io.memwarden.control.OomDiagnosis.Scope;
import io.memwarden.control.OomDiagnosis.Verdict;
import org.junit.jupiter.api.Test;

/** "OOM while swap was free": one test per case of {@link OomDiagnosis#of}. */
class OomDiagnosisTest {
    static final long MI = 1L << 20;
    static final long GI = 1L << 30;

    static Verdict container(long swapUsage, long swapLimit, String cls, long nodeTotal, long nodeFree) {
        return OomDiagnosis.of(new Facts(Scope.CONTAINER, null, 256 * MI, 250 * MI, swapUsage, swapLimit, cls,
                nodeTotal, nodeFree));
    }

    @Test
    void noSwapOnTheNode() {
        Verdict v = container(0, 0, "NoSwap", 0, 0);
        assertThat(v.kind()).isEqualTo(Kind.NO_NODE_SWAP);
        assertThat(v.sentence()).isEqualTo("OOM-killed at its memory limit 256Mi (anon 250Mi); the node has no swap");
    }

    @Test
    void swapFreeButNoSwap() {
        Verdict v = container(0, 0, "NoSwap", 2 * GI, 1946 * MI);
        assertThat(v.kind()).isEqualTo(Kind.SWAP_NOT_ALLOWED);
        assertThat(v.sentence()).isEqualTo("OOM-killed at its memory limit 256Mi (anon 250Mi) while 1.9Gi of node swap"
                + " was free: its swap class NoSwap allows none");
        // without a plan (oom-watch): the kernel's swap limit alone
        assertThat(container(0, 0, null, 2 * GI, 1946 * MI).sentence()).endsWith(": its swap limit is 0");
        // the plan's NoSwap when the kernel printed no swap figures
        assertThat(container(-1, -1, "NoSwap", 2 * GI, GI).kind()).isEqualTo(Kind.SWAP_NOT_ALLOWED);
    }

    @Test
    void swapLimitReached() {
        Verdict v = container(64 * MI, 64 * MI, "LimitedSwap", 2 * GI, GI);
        assertThat(v.kind()).isEqualTo(Kind.SWAP_LIMIT_REACHED);
        assertThat(v.sentence()).isEqualTo("OOM-killed at its memory limit 256Mi (anon 250Mi) while 1Gi of node swap"
                + " was free: its swap limit 64Mi (LimitedSwap) was used up");
        // within the slack (1 MiB or 1 %): used up
        assertThat(container(64 * MI - 512 * 1024, 64 * MI, "LimitedSwap", 2 * GI, GI).kind())
                .isEqualTo(Kind.SWAP_LIMIT_REACHED);
    }

    @Test
    void swapAllowedButNodeSwapFull() {
        Verdict v = container(10 * MI, 64 * MI, "LimitedSwap", 2 * GI, 512 * 1024);
        assertThat(v.kind()).isEqualTo(Kind.NODE_SWAP_FULL);
        assertThat(v.sentence()).isEqualTo("OOM-killed at its memory limit 256Mi (anon 250Mi): its swap limit 64Mi"
                + " (LimitedSwap) had 54Mi left but the node's swap was full (512Ki of 2Gi free)");
        Verdict unlimited = container(10 * MI, Long.MAX_VALUE, "UnlimitedSwap", 2 * GI, 0);
        assertThat(unlimited.kind()).isEqualTo(Kind.NODE_SWAP_FULL);
        assertThat(unlimited.sentence()).contains("its swap class UnlimitedSwap sets no swap limit but the node's swap"
                + " was full (0 bytes of 2Gi free)");
    }

    @Test
    void swapAllowedAndFreeButNotSwappedInTime() {
        Verdict v = container(10 * MI, 64 * MI, "LimitedSwap", 2 * GI, GI);
        assertThat(v.kind()).isEqualTo(Kind.SWAP_ROOM_LEFT);
        assertThat(v.sentence()).isEqualTo("OOM-killed at its memory limit 256Mi (anon 250Mi) while 1Gi of node swap"
                + " was free and its swap limit 64Mi (LimitedSwap) had 54Mi left: the kernel did not swap enough of it"
                + " out in time");
    }

    @Test
    void aPodLimitASystemOomAndMissingFigures() {
        Verdict pod = OomDiagnosis.of(new Facts(Scope.ANCESTOR, "its pod", 512 * MI, -1, 0, 0, "NoSwap", GI, GI));
        assertThat(pod.sentence()).isEqualTo("OOM-killed at the memory limit of its pod 512Mi while 1Gi of node swap"
                + " was free: its swap class NoSwap allows none");
        Verdict sys = OomDiagnosis.of(new Facts(Scope.SYSTEM, null, -1, -1, -1, -1, null, 2 * GI, 0));
        assertThat(sys.kind()).isEqualTo(Kind.SYSTEM_OOM);
        assertThat(sys.sentence()).isEqualTo("killed in a system OOM (the node ran out of memory) with the node's swap"
                + " full (0 bytes of 2Gi free)");
        Verdict unknown = OomDiagnosis.of(new Facts(Scope.CONTAINER, null, -1, -1, -1, -1, null, -1, -1));
        assertThat(unknown.kind()).isEqualTo(Kind.UNKNOWN);
        assertThat(unknown.sentence()).isEqualTo("OOM-killed at its memory limit; its swap use at the kill is unknown");
        Verdict noNode = container(10 * MI, 64 * MI, "LimitedSwap", -1, -1);
        assertThat(noNode.kind()).isEqualTo(Kind.UNKNOWN);
        assertThat(noNode.sentence()).endsWith("had 54Mi left; node swap at the kill is unknown");
    }

    /** Without a plan (oom-watch): the figures are the OOM cgroup's, a parent's at its limit, and say so. */
    @Test
    void withoutAPlanTheFiguresAreTheOomCgroups() {
        Verdict parent = OomDiagnosis.of(new Facts(Scope.ANCESTOR, "its pod", 64 * MI, 63 * MI, 0, Long.MAX_VALUE,
                null, -1, -1));
        assertThat(parent.sentence()).isEqualTo("OOM-killed at the memory limit of its pod 64Mi (anon 63Mi): that"
                + " cgroup set no swap limit; node swap at the kill is unknown");
        Verdict own = OomDiagnosis.of(new Facts(Scope.CONTAINER, null, 64 * MI, 63 * MI, 32 * MI, 32 * MI, null, GI,
                GI / 2));
        assertThat(own.sentence()).isEqualTo("OOM-killed at its memory limit 64Mi (anon 63Mi) while 512Mi of node swap"
                + " was free: its swap limit 32Mi was used up");
        Verdict zero = OomDiagnosis.of(new Facts(Scope.ANCESTOR, "cgroup /kubepods", 64 * MI, -1, 0, 0, null, GI, GI));
        assertThat(zero.sentence()).isEqualTo("OOM-killed at the memory limit of cgroup /kubepods 64Mi while 1Gi of"
                + " node swap was free: that cgroup's swap limit is 0");
    }

    @Test
    void sizes() {
        assertThat(OomDiagnosis.size(0)).isEqualTo("0 bytes");
        assertThat(OomDiagnosis.size(1536)).isEqualTo("1.5Ki");
        assertThat(OomDiagnosis.size(256 * MI)).isEqualTo("256Mi");
        assertThat(OomDiagnosis.size(1946 * MI)).isEqualTo("1.9Gi");
        assertThat(OomDiagnosis.size(Long.MAX_VALUE)).isEqualTo("8Ei"); // 2^63 − 1 as a double
    }
}
