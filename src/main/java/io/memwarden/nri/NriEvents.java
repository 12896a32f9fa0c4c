package io.memwarden.nri;

import io.memwarden.nri.api.ConfigureRequest;
import io.memwarden.nri.api.Event;
import java.util.EnumSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The events memwarden subscribes to, as the explicit mask of {@code ConfigureResponse.events}. */
final class NriEvents {
    private NriEvents() {}

    /** UpdatePodSandbox exists from NRI v0.10; older runtimes reject mask bits they do not know. */
    static Set<Event> subscribed(ConfigureRequest r) {
        Set<Event> e = EnumSet.of(Event.RUN_POD_SANDBOX, Event.REMOVE_POD_SANDBOX, Event.CREATE_CONTAINER,
                Event.UPDATE_CONTAINER, Event.STOP_CONTAINER, Event.REMOVE_CONTAINER);
        if (knowsUpdatePodSandbox(r)) {
            e.add(Event.UPDATE_POD_SANDBOX);
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
        String name = r.getRuntimeName().toLowerCase(java.util.Locale.ROOT);
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
