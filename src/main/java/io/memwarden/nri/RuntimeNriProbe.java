package io.memwarden.nri;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Whether NRI is reachable on this node, for {@code memwarden doctor}: the socket exists and accepts a connection
 * (connected and closed at once, nothing sent), and what containerd's config file says about its NRI plugin
 * ({@code [plugins."io.containerd.nri.v1.nri"] disable}; off by default in containerd 1.7, on since 2.0:
 * nri-protocol.md §2). Reads only.
 */
public final class RuntimeNriProbe {
    private RuntimeNriProbe() {}

    public static final String DEFAULT_SOCKET = "/var/run/nri/nri.sock";
    public static final String CONTAINERD_CONFIG = "/etc/containerd/config.toml";

    public enum SocketState { ACCEPTS, REFUSED, NO_PERMISSION, MISSING }

    public enum Setting { ENABLED, DISABLED, NOT_SET, NO_CONFIG }

    /** What was found; paths as the operator names them (not below the root). */
    public record Result(String socket, SocketState state, String detail, String config, Setting setting,
                         int configVersion) {}

    private static final Pattern HEADER = Pattern.compile("^\\s*\\[+([^\\]]*)\\]+\\s*(#.*)?$");
    private static final Pattern KEY = Pattern.compile("^\\s*([A-Za-z0-9_.\"-]+)\\s*=\\s*([^#]*?)\\s*(#.*)?$");

    /**
     * @param root   the node's "/" (a fixture tree in tests): the socket and the config are looked up below it
     * @param socket the NRI socket's absolute path on the node
     */
    public static Result probe(Path root, String socket) {
        Path s = root.resolve(socket.startsWith("/") ? socket.substring(1) : socket);
        SocketState state;
        String detail = null;
        if (Files.notExists(s)) {
            state = SocketState.MISSING;
        } else if (!Files.exists(s)) {
            state = SocketState.NO_PERMISSION;
        } else {
            try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                ch.connect(UnixDomainSocketAddress.of(s));
                state = SocketState.ACCEPTS;
            } catch (IOException | UnsupportedOperationException e) {
                String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
                state = m.contains("Permission denied") ? SocketState.NO_PERMISSION : SocketState.REFUSED;
                detail = m.replace('\n', ' ');
            }
        }
        Path config = root.resolve(CONTAINERD_CONFIG.substring(1));
        Setting setting = Setting.NO_CONFIG;
        int version = 0;
        if (Files.isRegularFile(config) && Files.isReadable(config)) {
            try {
                String[] r = parseConfig(Files.readString(config));
                setting = Setting.valueOf(r[0]);
                version = Integer.parseInt(r[1]);
            } catch (IOException e) {
                setting = Setting.NO_CONFIG;
            }
        }
        return new Result(socket, state, detail, CONTAINERD_CONFIG, setting, version);
    }

    /** The NRI setting and the config version of a containerd config.toml, as {setting, version}. */
    static String[] parseConfig(String toml) {
        String section = "";
        Setting setting = Setting.NOT_SET;
        int version = 0;
        for (String line : toml.split("\n")) {
            Matcher h = HEADER.matcher(line);
            if (h.matches()) {
                section = h.group(1).strip();
                continue;
            }
            Matcher k = KEY.matcher(line);
            if (!k.matches()) {
                continue;
            }
            String key = k.group(1);
            String value = k.group(2).strip();
            if (section.isEmpty() && key.equals("version") && value.matches("\\d+")) {
                version = Integer.parseInt(value);
            } else if (section.replace(" ", "").equals("plugins.\"io.containerd.nri.v1.nri\"")
                    && key.equals("disable")) {
                setting = value.equals("true") ? Setting.DISABLED : value.equals("false") ? Setting.ENABLED : setting;
            }
        }
        return new String[] {setting.name(), Integer.toString(version)};
    }
}
