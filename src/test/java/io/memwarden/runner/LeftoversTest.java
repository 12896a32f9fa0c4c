package io.memwarden.runner;

import static org.assertj.core.api.Assertions.assertThat;

import io.memwarden.kernel.FakeKernel;
import io.memwarden.kernel.Host;
import io.memwarden.kernel.SwapFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A demo's swap file left by a demo killed with SIGKILL: the next demo switches it off and deletes it, and touches
 * nothing else (a live demo's file, foreign names, a symlink). Against the fake kernel (FakeKernel: /proc/swaps and
 * recording fake tools); the cgroup side needs a real kernel (LeftoversKernelTest).
 */
class LeftoversTest {
    @TempDir
    Path dir;

    @Test
    void abandonedSwapFilesAreSwitchedOffAndDeletedAndNothingElse() throws Exception {
        FakeKernel k = new FakeKernel(dir.resolve("k"));
        SwapFiles swapFiles = new SwapFiles(k.host());
        Path tmp = Files.createDirectories(dir.resolve("var-tmp"));
        Path proc = Files.createDirectories(dir.resolve("proc"));
        // a live demo: pid 200 started at tick 77
        Files.createDirectories(proc.resolve("200"));
        Files.writeString(proc.resolve("200/stat"), "200 (java) S 1 200 200 0 -1 0 0 0 0 0 0 0 0 0 20 0 30 0 77 0\n");

        Path deadOn = tmp.resolve("memwarden-demo-100-55.swap");        // owner gone, still swap: swapoff + delete
        Path deadOff = tmp.resolve("memwarden-demo-101.swap");          // old name, owner gone, not on: delete
        Path reused = tmp.resolve("memwarden-demo-200-76.swap");        // pid 200 is another process now
        Path live = tmp.resolve("memwarden-demo-200-77.swap");          // the live demo's
        Path foreign = tmp.resolve("memwarden-demo-x.swap");
        Path notSwap = tmp.resolve("memwarden-demo-102.swp");
        Path link = tmp.resolve("memwarden-demo-103.swap");
        Path target = tmp.resolve("precious");
        for (Path p : List.of(deadOn, deadOff, reused, live, foreign, notSwap, target)) {
            Files.writeString(p, "x");
        }
        Files.createSymbolicLink(link, target);
        k.addSwap(deadOn.toString(), "file", 100, 0, -2);
        k.addSwap(live.toString(), "file", 100, 0, -3);

        List<String> lines = Leftovers.reclaimSwapFiles(tmp, swapFiles, proc);

        assertThat(deadOn).doesNotExist();
        assertThat(deadOff).doesNotExist();
        assertThat(reused).doesNotExist();
        assertThat(live).exists();
        assertThat(foreign).exists();
        assertThat(notSwap).exists();
        assertThat(link).exists();
        assertThat(target).exists();
        assertThat(k.calls).containsExactly(List.of("swapoff", deadOn.toString()));
        assertThat(swapFiles.active(live)).isPresent();
        assertThat(lines).containsExactly(
                "reclaimed the swap file " + deadOn + " of an earlier demo (pid 100, no longer running): switched off"
                        + " and deleted",
                "reclaimed the swap file " + deadOff + " of an earlier demo (pid 101, no longer running): deleted (it"
                        + " was not on)",
                "reclaimed the swap file " + reused + " of an earlier demo (pid 200, no longer running): deleted (it"
                        + " was not on)");
    }

    @Test
    void aSwapoffThatFailsIsSaidAndTheFileKept() throws Exception {
        FakeKernel k = new FakeKernel(dir.resolve("k")).fail("swapoff", 255, "swapoff: Cannot allocate memory");
        Path tmp = Files.createDirectories(dir.resolve("var-tmp"));
        Path f = tmp.resolve("memwarden-demo-100-55.swap");
        Files.writeString(f, "x");
        k.addSwap(f.toString(), "file", 100, 0, -2);
        List<String> lines = Leftovers.reclaimSwapFiles(tmp, new SwapFiles(k.host()),
                Files.createDirectories(dir.resolve("proc")));
        assertThat(f).exists();
        assertThat(lines).singleElement().asString().startsWith("could not reclaim the swap file " + f
                + " of an earlier demo (pid 100): ").contains("Cannot allocate memory");
    }

    @Test
    void anUnreadableDirectoryIsOneLineNotAnException() {
        assertThat(Leftovers.reclaimSwapFiles(dir.resolve("missing"), new SwapFiles(Host.system()),
                dir)).singleElement().asString().startsWith("cannot list " + dir.resolve("missing"));
        assertThat(Leftovers.reclaimRuns(dir.resolve("missing"), false, dir)).singleElement().asString()
                .startsWith("cannot list " + dir.resolve("missing"));
    }
}
