package io.memwarden.api;

import io.memwarden.loops.FileBudget;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The HTTP API's limits, enforced by the JDK's own HttpServer ({@code sun.net.httpserver.ServerImpl}), which reads
 * them from JVM system properties once, when the first server of the process is created. memwarden keeps those
 * names: an admin sets one with {@code -DNAME=VALUE} (bin/memwarden: {@code MEMWARDEN_JAVA_OPTS}; the container
 * image: {@code JAVA_TOOL_OPTIONS}); {@link #configure()} validates what is set and sets memwarden's defaults for
 * the rest, before the first server starts.
 * <p>
 * The file-descriptor budget: with an open-file limit L, the API holds at most {@code maxConnections} ≤ L/4 client
 * sockets (default min(256, L/4)), plus its listening socket and selector; the control loops' held cgroup files
 * ({@link FileBudget}) take at most another L/4; the remaining half is the reserve for everything else (the loops'
 * per-round reads of /proc and cgroup files, the NRI socket, the Kubernetes client, the JVM's own files). A client
 * beyond the cap is accepted and closed at once, so it costs one descriptor for an instant.
 *
 * @param maxConnections         {@code jdk.httpserver.maxConnections}: open client connections at most
 * @param requestTimeoutSeconds  {@code sun.net.httpserver.maxReqTime}: a request (line and headers) must arrive
 *                               within this time after its first byte; a connection that sends nothing is closed
 *                               after it too
 * @param responseTimeoutSeconds {@code sun.net.httpserver.maxRspTime}: a response must be taken within this time
 * @param idleTimeoutSeconds     {@code sun.net.httpserver.idleInterval}: a kept-alive connection idle this long is
 *                               closed
 * @param clockTickMillis        {@code sun.net.httpserver.clockTick}: how often idle connections are looked for
 * @param backlog                the listening socket's accept queue (the kernel caps it at net.core.somaxconn)
 */
public record ApiLimits(int maxConnections, long requestTimeoutSeconds, long responseTimeoutSeconds,
                        long idleTimeoutSeconds, long clockTickMillis, int backlog) {

    public static final String MAX_CONNECTIONS = "jdk.httpserver.maxConnections";
    public static final String MAX_REQ_TIME = "sun.net.httpserver.maxReqTime";
    public static final String MAX_RSP_TIME = "sun.net.httpserver.maxRspTime";
    public static final String IDLE_INTERVAL = "sun.net.httpserver.idleInterval";
    public static final String CLOCK_TICK = "sun.net.httpserver.clockTick";

    /** The default connection cap where a quarter of the open-file limit is more. */
    public static final int DEFAULT_MAX_CONNECTIONS = 256;
    public static final long DEFAULT_REQUEST_TIMEOUT_SECONDS = 10;
    public static final long DEFAULT_RESPONSE_TIMEOUT_SECONDS = 30;
    public static final long DEFAULT_IDLE_TIMEOUT_SECONDS = 30;
    public static final long DEFAULT_CLOCK_TICK_MILLIS = 1000;
    /** The accept queue: a burst of new connections waits there instead of having its SYNs dropped. */
    public static final int BACKLOG = 1024;

    /** A system property memwarden cannot use; the message names it and its value. */
    public static final class Invalid extends IllegalArgumentException {
        Invalid(String message) {
            super(message);
        }
    }

    private static ApiLimits configured;

    /**
     * The limits of this process: validated from the system properties, memwarden's defaults set for those not
     * given (so the JDK's server reads them). The same answer on every call. Call before any HttpServer is created.
     *
     * @throws Invalid naming the property and its value
     */
    public static synchronized ApiLimits configure() {
        if (configured == null) {
            Map<String, String> given = new LinkedHashMap<>();
            for (String name : new String[] {MAX_CONNECTIONS, MAX_REQ_TIME, MAX_RSP_TIME, IDLE_INTERVAL, CLOCK_TICK}) {
                String v = System.getProperty(name);
                if (v != null) {
                    given.put(name, v);
                }
            }
            ApiLimits l = of(given, FileBudget.openFileLimit());
            setIfAbsent(MAX_CONNECTIONS, l.maxConnections());
            setIfAbsent(MAX_REQ_TIME, l.requestTimeoutSeconds());
            setIfAbsent(MAX_RSP_TIME, l.responseTimeoutSeconds());
            setIfAbsent(IDLE_INTERVAL, l.idleTimeoutSeconds());
            setIfAbsent(CLOCK_TICK, l.clockTickMillis());
            configured = l;
        }
        return configured;
    }

    private static void setIfAbsent(String name, long value) {
        if (System.getProperty(name) == null) {
            System.setProperty(name, Long.toString(value));
        }
    }

    /** The connection cap for an open-file limit: a quarter of it, at most {@link #DEFAULT_MAX_CONNECTIONS}, ≥ 1. */
    public static int defaultMaxConnections(int openFileLimit) {
        return Math.max(1, Math.min(DEFAULT_MAX_CONNECTIONS, FileBudget.quarter(openFileLimit)));
    }

    /**
     * The limits from the given properties (name → text; absent ones take the defaults) under an open-file limit.
     *
     * @throws Invalid naming the property and its value
     */
    public static ApiLimits of(Map<String, String> given, int openFileLimit) {
        int quarter = Math.max(1, FileBudget.quarter(openFileLimit));
        long max = number(given, MAX_CONNECTIONS, defaultMaxConnections(openFileLimit), "connections", Integer.MAX_VALUE);
        if (max > quarter) {
            throw new Invalid("the JVM system property " + MAX_CONNECTIONS + "=" + given.get(MAX_CONNECTIONS).strip()
                    + " is more than a quarter of the open-file limit " + openFileLimit + " (at most " + quarter
                    + "): the control loops need the rest; raise the limit (ulimit -n, LimitNOFILE) or lower "
                    + MAX_CONNECTIONS);
        }
        long day = 86_400;
        return new ApiLimits((int) max,
                number(given, MAX_REQ_TIME, DEFAULT_REQUEST_TIMEOUT_SECONDS, "seconds", day),
                number(given, MAX_RSP_TIME, DEFAULT_RESPONSE_TIMEOUT_SECONDS, "seconds", day),
                number(given, IDLE_INTERVAL, DEFAULT_IDLE_TIMEOUT_SECONDS, "seconds", day),
                number(given, CLOCK_TICK, DEFAULT_CLOCK_TICK_MILLIS, "milliseconds", day * 1000),
                BACKLOG);
    }

    private static long number(Map<String, String> given, String name, long dflt, String unit, long most) {
        String text = given.get(name);
        if (text == null) {
            return dflt;
        }
        String t = text.strip();
        if (!t.matches("[0-9]{1,18}") || Long.parseLong(t) < 1 || Long.parseLong(t) > most) {
            throw new Invalid("the JVM system property " + name + "=\"" + text + "\" is not a whole number of " + unit
                    + " from 1 to " + most + " (memwarden's default: " + dflt + ")");
        }
        return Long.parseLong(t);
    }
}
