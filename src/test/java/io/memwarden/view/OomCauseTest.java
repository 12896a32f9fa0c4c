package io.memwarden.view;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code explain}'s one sentence per OOM cause (issue #18 item 2): a test per case, and the quiet one. */
class OomCauseTest {
    static final long MI = 1L << 20;
    static final long GI = 1L << 30;
    /** 2026-09-21 14:13:20 UTC */
    static final long AT = 1_790_000_000_000L;

    static StatusDoc.Container container(String swapBehavior, long limit, long swap, long swapLimit, long oomKills) {
        StatusDoc.Memory m = new StatusDoc.Memory(2, limit, limit, swap, limit, swapLimit, -1,
                Map.of("oom", oomKills, "oom_kill", oomKills));
        return new StatusDoc.Container("demo", "swap-demo", "c1-normal", false, "Burstable", swapBehavior, false, 137,
                m, null, null, null, null);
    }

    static StatusDoc.Node node(long swapTotal, long swapFree) {
        return new StatusDoc.Node(16 * GI, 8 * GI, swapTotal, swapFree, 0, null, null);
    }

    @Test
    void limitHitOnANodeWithoutSwap() {
        String s = OomCause.of(container("UnlimitedSwap", 256 * MI, 0, -1, 2), List.of(), node(0, 0), null);
        assertThat(s).isEqualTo("OOM-killed 2× at its limit 256Mi with swap 0 of max: the node has no swap on (swap"
                + " behaviour UnlimitedSwap allows unlimited swap), so it could not swap and was killed at its limit"
                + " instead");
        String limited = OomCause.of(container("LimitedSwap", 256 * MI, 0, 64 * MI, 1), List.of(), node(0, 0), null);
        assertThat(limited).contains("OOM-killed 1× at its limit 256Mi with swap 0 of 64Mi: the node has no swap on"
                + " (swap behaviour LimitedSwap allows 64Mi)");
    }

    @Test
    void noSwapClass() {
        assertThat(OomCause.of(container("NoSwap", 100 * MI, 0, 0, 1), List.of(), node(4 * GI, 4 * GI), null))
                .isEqualTo("OOM-killed 1× at its limit 100Mi: its swap behaviour NoSwap allows no swap");
    }

    @Test
    void swapMaxReached() {
        assertThat(OomCause.of(container("LimitedSwap", 100 * MI, 64 * MI, 64 * MI, 3), List.of(),
                node(4 * GI, 3 * GI), null))
                .isEqualTo("OOM-killed 3× at its limit 100Mi with swap 64Mi of 64Mi: its swap limit (memory.swap.max)"
                        + " is reached");
    }

    @Test
    void nodeSwapFull() {
        assertThat(OomCause.of(container("UnlimitedSwap", 100 * MI, 900 * MI, -1, 1), List.of(),
                node(GI, 512 * 1024), null)).endsWith(": the node's swap is full (512Ki of 1Gi free now)");
    }

    @Test
    void swapRoomLeft() {
        assertThat(OomCause.of(container("UnlimitedSwap", 100 * MI, 10 * MI, -1, 1), List.of(), node(4 * GI, 3 * GI),
                null)).contains("with swap 10Mi of max and 3Gi of node swap free now: it had swap room");
    }

    @Test
    void guardActionWinsOverTheKernelsCount() {
        StatusDoc.Action evict = new StatusDoc.Action(AT, "guard", "demo", "swap-demo", null,
                "evict (direct kill, no Eviction API): The node was low on resource: memory.",
                "memory.available 180Mi below the hard threshold 200Mi", "killed directly: 1 process(es)");
        assertThat(OomCause.of(container("NoSwap", 100 * MI, 0, 0, 0), List.of(evict), node(0, 0), null))
                .isEqualTo("killed by memwarden's pressure guard, not by the kernel: evict (direct kill, no Eviction"
                        + " API) of its pod at 14:13:20 (memory.available 180Mi below the hard threshold 200Mi)");
        StatusDoc.Action failed = new StatusDoc.Action(AT, "guard", "demo", "swap-demo", null, "evict: x", "y",
                "failed: no such pod");
        assertThat(OomCause.of(container("NoSwap", 100 * MI, 0, 0, 0), List.of(failed), node(0, 0), null)).isNull();
    }

    @Test
    void globalOomFromTheKernelLogsAttribution() {
        StatusDoc.OomKills kills = new StatusDoc.OomKills(1, 0, List.of(
                new StatusDoc.OomSeries("system", "demo", "swap-demo", "c1-normal", "perl", 1)));
        assertThat(OomCause.of(container("NoSwap", 100 * MI, 0, 0, 0), List.of(), node(0, 0), kills))
                .isEqualTo("killed 1× in a system OOM: the node ran out of memory, not at its own limit");
        // an attributed cgroup kill counts like the cgroup's own oom_kill
        StatusDoc.OomKills cg = new StatusDoc.OomKills(0, 2, List.of(
                new StatusDoc.OomSeries("cgroup", "demo", "swap-demo", "c1-normal", "perl", 2)));
        assertThat(OomCause.of(container("NoSwap", 100 * MI, 0, 0, 0), List.of(), node(GI, GI), cg))
                .startsWith("OOM-killed 2× at its limit 100Mi");
    }

    @Test
    void nothingKilledItSaysNothing() {
        assertThat(OomCause.of(container("UnlimitedSwap", 100 * MI, 0, -1, 0), List.of(), node(0, 0), null)).isNull();
    }

    @Test
    void explainShowsTheSentenceBesideTheSwapBehaviour() {
        StatusDoc d = new StatusDoc(AT, node(0, 0), List.of(container("UnlimitedSwap", 256 * MI, 0, -1, 1)), 0,
                List.of(), null);
        Explanation e = Explanation.of(d, "127.0.0.1:9767", "demo", "swap-demo", null);
        assertThat(e.containers().getFirst().oomCause()).startsWith("OOM-killed 1× at its limit 256Mi");
        assertThat(e.text()).contains("  killed:         OOM-killed 1× at its limit 256Mi with swap 0 of max: the node"
                + " has no swap on (swap behaviour UnlimitedSwap allows unlimited swap), so it could not swap and was"
                + " killed at its limit instead");
    }
}
