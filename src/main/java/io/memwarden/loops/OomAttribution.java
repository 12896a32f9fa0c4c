package io.memwarden.loops;

import io.memwarden.model.OomEvent;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Which managed container a kernel OOM kill hit: the one whose memory cgroup is the victim task's
 * ({@link OomEvent#containerCgroup()}, a path below the memory hierarchy's root). For {@code memwarden run}'s
 * and the agent's OOM watch alike.
 */
public final class OomAttribution {
    private OomAttribution() {}

    /** The managed container an OOM kill hit; {@code pod} is namespace/name. */
    public record Victim(String pod, String container) {
        public String namespace() {
            return pod.split("/", 2)[0];
        }

        public String name() {
            String[] nsName = pod.split("/", 2);
            return nsName.length > 1 ? nsName[1] : "";
        }

        /** "namespace/name container NAME", as the logs say it. */
        public String describe() {
            return pod + " container " + container;
        }
    }

    /**
     * @param containers the managed containers now ({@link ManagedWorkload#snapshot()})
     * @param memoryRoot the memory hierarchy's root, which the kernel's cgroup paths are relative to
     * @return the container, or empty when the kill hit none of them
     */
    public static Optional<Victim> of(OomEvent e, List<ContainerStatus> containers, Path memoryRoot) {
        for (ContainerStatus s : containers) {
            if (s.cgroup().startsWith(memoryRoot)
                    && e.containerCgroup().equals("/" + memoryRoot.relativize(s.cgroup()))) {
                return Optional.of(new Victim(s.pod(), s.container()));
            }
        }
        return Optional.empty();
    }
}
