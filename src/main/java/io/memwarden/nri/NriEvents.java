package io.memwarden.nri;

import io.memwarden.nri.api.ConfigureRequest;
import io.memwarden.nri.api.Event;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The events a plugin subscribes to, as the explicit mask of {@code ConfigureResponse.events}: one event per handler
 * interface of {@link NriHandlers} it implements, less those the runtime's NRI version does not know.
 */
final class NriEvents {
    private NriEvents() {}

    /** The handler interfaces that subscribe to an event. */
    private static final Map<Class<?>, Event> BY_HANDLER = Map.of(
            NriHandlers.RunPodSandbox.class, Event.RUN_POD_SANDBOX,
            NriHandlers.RemovePodSandbox.class, Event.REMOVE_POD_SANDBOX,
            NriHandlers.CreateContainer.class, Event.CREATE_CONTAINER,
            NriHandlers.UpdateContainer.class, Event.UPDATE_CONTAINER,
            NriHandlers.StopContainer.class, Event.STOP_CONTAINER,
            NriHandlers.RemoveContainer.class, Event.REMOVE_CONTAINER,
            NriHandlers.UpdatePodSandbox.class, Event.UPDATE_POD_SANDBOX);

    /** The events of the handler interfaces {@code plugin} implements. */
    static Set<Event> handledBy(Object plugin) {
        Set<Event> e = EnumSet.noneOf(Event.class);
        BY_HANDLER.forEach((type, event) -> {
            if (type.isInstance(plugin)) {
                e.add(event);
            }
        });
        return e;
    }

    /** The subscription of a plugin implementing every handler interface (memwarden's plugin does). */
    static Set<Event> subscribed(ConfigureRequest r) {
        return subscribed(Set.copyOf(BY_HANDLER.values()), r);
    }

    /** UpdatePodSandbox exists from NRI v0.10; older runtimes reject mask bits they do not know. */
    static Set<Event> subscribed(Set<Event> handled, ConfigureRequest r) {
        Set<Event> e = EnumSet.noneOf(Event.class);
        e.addAll(handled);
        if (!knowsUpdatePodSandbox(r)) {
            e.remove(Event.UPDATE_POD_SANDBOX);
        }
        return e;
    }

    static int mask(Set<Event> events) {
        int m = 0;
        for (Event e : events) {
            m |= 1 << (e.getNumber() - 1);
        }
        return m;
    }

    /**
     * NRI ≥ v0.10: from {@code NRI_version} (v0.12+), else from the runtime's version (containerd ≥ 2.2, CRI-O
     * ≥ 1.34, nri-protocol.md §5); unknown runtimes are assumed older.
     */
    static boolean knowsUpdatePodSandbox(ConfigureRequest r) {
        if (!r.getNriVersion().isEmpty()) {
            return atLeast(r.getNriVersion(), 0, 10);
        }
        String name = r.getRuntimeName().toLowerCase(Locale.ROOT);
        if (name.contains("containerd")) {
            return atLeast(r.getRuntimeVersion(), 2, 2);
        }
        if (name.contains("cri-o") || name.contains("crio")) {
            return atLeast(r.getRuntimeVersion(), 1, 34);
        }
        return false;
    }

    private static final Pattern VERSION = Pattern.compile("v?(\\d{1,6})\\.(\\d{1,6})");

    static boolean atLeast(String version, int major, int minor) {
        Matcher m = VERSION.matcher(version.strip());
        if (!m.lookingAt()) {
            return false;
        }
        int a = Integer.parseInt(m.group(1));
        int b = Integer.parseInt(m.group(2));
        return a > major || (a == major && b >= minor);
    }
}
