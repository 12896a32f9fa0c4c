package io.memwarden.api;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * A {@code --listen} value: {@code HOST:PORT}, {@code [IPV6]:PORT}, {@code :PORT} or {@code PORT}. Without a host it
 * is 127.0.0.1: memwarden binds to a non-loopback address only when one is given explicitly. Port 0 picks a free
 * port.
 */
public record ListenAddress(InetSocketAddress address) {

    public static final String DEFAULT_HOST = "127.0.0.1";

    public static ListenAddress parse(String text) {
        String s = text.strip();
        String host;
        String port;
        if (s.startsWith("[")) {
            int end = s.indexOf("]:");
            if (end < 0) {
                throw new IllegalArgumentException("\"" + text + "\": expected [IPV6]:PORT");
            }
            host = s.substring(1, end);
            port = s.substring(end + 2);
        } else {
            int colon = s.lastIndexOf(':');
            if (colon >= 0 && s.indexOf(':') != colon) {
                throw new IllegalArgumentException("\"" + text + "\": write an IPv6 address as [ADDR]:PORT");
            }
            host = colon < 0 ? "" : s.substring(0, colon);
            port = colon < 0 ? s : s.substring(colon + 1);
        }
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("\"" + text + "\": port \"" + port + "\" is not a number");
        }
        if (p < 0 || p > 65535) {
            throw new IllegalArgumentException("\"" + text + "\": port " + p + " is out of range 0-65535");
        }
        try {
            InetAddress a = InetAddress.getByName(host.isEmpty() ? DEFAULT_HOST : host);
            return new ListenAddress(new InetSocketAddress(a, p));
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("\"" + text + "\": unknown host \"" + host + "\"");
        }
    }

    public boolean loopback() {
        return address.getAddress().isLoopbackAddress();
    }
}
