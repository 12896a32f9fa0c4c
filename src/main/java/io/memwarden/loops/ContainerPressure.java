package io.memwarden.loops;

import io.memwarden.cgroup.HostFacts;
import io.memwarden.cgroup.MemoryUsage;
import io.memwarden.model.Pressure;
import io.memwarden.cgroup.PsiMirror;
import java.io.IOException;
import java.util.function.Consumer;

/**
 * A container's own PSI for the offload step: v2 its {@code memory.pressure}; v1 (no per-cgroup PSI) the group of
 * memwarden's {@link PsiMirror}, created on first use, when allowed ({@link ControlLoops#perContainerPsiOnV1}).
 */
final class ContainerPressure implements AutoCloseable {
    private final HostFacts host;
    private final Consumer<String> log;
    private volatile boolean mirrorAllowed = true;
    private PsiMirror mirror;
    private boolean mirrorTried;

    ContainerPressure(HostFacts host, Consumer<String> log) {
        this.host = host;
        this.log = log;
    }

    void allowMirror(boolean allowed) {
        this.mirrorAllowed = allowed;
    }

    /** The container's own PSI; null when it has none. */
    Pressure of(ContainerStatus s) {
        MemoryUsage u = s.usage();
        if (u.pressure() != null) {
            return u.pressure();
        }
        PsiMirror m = mirror();
        if (m == null) {
            return null;
        }
        try {
            return m.pressure(s.cgroup().toString(), u.pids());
        } catch (IOException e) {
            log.accept("offload: " + s.pod() + "/" + s.container() + ": no PSI mirror reading (" + e.getMessage() + ")");
            return null;
        }
    }

    /** The v1 per-container PSI mirror, created on first use; null when the host cannot have one (then: none). */
    private PsiMirror mirror() {
        if (!mirrorAllowed) {
            return null;
        }
        if (!mirrorTried) {
            mirrorTried = true;
            try {
                mirror = PsiMirror.create(host);
            } catch (IOException | RuntimeException e) {
                log.accept("offload: no per-container PSI on cgroup v1 (" + e.getMessage()
                        + "): refaults are the only back-off signal");
            }
        }
        return mirror;
    }

    /** Removes the mirror, moving processes still in it back. */
    @Override
    public void close() throws IOException {
        if (mirror != null) {
            mirror.close();
            mirror = null;
        }
    }
}
