package io.memwarden.loops;

import io.memwarden.cgroup.MemoryUsage;
import io.memwarden.cgroup.ProcessMemory;
import java.nio.file.Path;
import java.util.Map;

/**
 * One managed container at one moment.
 *
 * @param applied   cgroup file → value as written
 * @param exitCode  null while running; 128+N when killed by signal N
 * @param usage     the cgroup's snapshot (null once the cgroup is gone)
 * @param process   the main process's VmRSS/VmSwap (null once it exited)
 */
public record ContainerStatus(String pod, String container, boolean init, String swapBehavior, Path cgroup,
                              Map<String, String> applied, long pid, Integer exitCode, MemoryUsage usage,
                              ProcessMemory process) {

    public boolean running() {
        return exitCode == null;
    }

    /** Killed by SIGKILL while its cgroup counted an OOM kill. */
    public boolean oomKilled() {
        return exitCode != null && exitCode == 137 && usage != null && usage.events().getOrDefault("oom_kill", 0L) > 0;
    }
}
