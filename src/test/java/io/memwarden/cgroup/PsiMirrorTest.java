package io.memwarden.cgroup;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class PsiMirrorTest {
    @Test
    void findsThisProcesssCgroup2GroupFromProcSelfCgroup() {
        Path mount = Path.of("/sys/fs/cgroup/unified");
        assertThat(PsiMirror.ownUnifiedGroup(mount, "4:memory:/process_api/x\n0::/\n")).isEqualTo(mount);
        assertThat(PsiMirror.ownUnifiedGroup(mount, "0::/system.slice/job.scope\n"))
                .isEqualTo(mount.resolve("system.slice/job.scope"));
        assertThat(PsiMirror.ownUnifiedGroup(mount, "4:memory:/a\n")).isNull();
    }
}
