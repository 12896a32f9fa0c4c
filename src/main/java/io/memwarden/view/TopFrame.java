package io.memwarden.view;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * One frame of {@code memwarden top}: a header about the node and one row per container, as plain text lines.
 * Pure: the same document and options give the same frame (times are relative to the document's own
 * {@code atMillis}).
 *
 * @param header  node lines (capacity, memory.available, swap, PSI, OOM kills, counts)
 * @param columns the table's column titles, aligned with the rows
 * @param rows    one line per shown container, sorted
 */
public record TopFrame(List<String> header, String columns, List<String> rows) {

    /** How rows are ordered; ties (and {@code name}) go by NAMESPACE/POD then container. */
    public enum Sort {
        /** cgroup usage, largest first */
        memory,
        /** swap used, largest first */
        swap,
        /** container PSI some avg10, highest first (needs a server that sends container PSI) */
        psi,
        /** NAMESPACE/POD, then container */
        name;

        /** The next order, for the {@code s} key. */
        public Sort next() {
            return values()[(ordinal() + 1) % values().length];
        }
    }

    /**
     * @param namespace show only this namespace; null for all
     * @param server    shown in the header
     */
    public record Options(Sort sort, String namespace, String server) {}

    /** Every line: header, a blank line, column titles, rows. */
    public List<String> lines() {
        List<String> l = new ArrayList<>(header);
        l.add("");
        l.add(columns);
        l.addAll(rows);
        return l;
    }

    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'", Locale.ROOT).withZone(ZoneOffset.UTC);
    static final int ACTION_WIDTH = 40;

    public static TopFrame of(StatusDoc d, Options o) {
        StatusDoc.Node n = d.node();
        List<String> header = new ArrayList<>();
        header.add("memwarden top  " + o.server() + "  at " + TIME.format(Instant.ofEpochMilli(d.atMillis()))
                + "  sort: " + o.sort() + (o.namespace() == null ? "" : "  namespace: " + o.namespace()));
        long swapUsed = n.swapTotalBytes() - n.swapFreeBytes();
        header.add("node: capacity " + Bytes.human(n.capacityBytes()) + "  memory.available "
                + Bytes.human(n.availableBytes()) + " (" + percent(n.availableBytes(), n.capacityBytes()) + ")"
                + "  swap " + (n.swapTotalBytes() == 0 ? "off"
                        : Bytes.human(swapUsed) + " used of " + Bytes.human(n.swapTotalBytes()))
                + "  swapped in " + n.swapInPages() + " pages");
        StatusDoc.Psi p = n.psi();
        header.add("psi: " + (p == null ? "not available"
                : String.format(Locale.ROOT, "some %.2f%% full %.2f%% (avg10)  some %.2f%% full %.2f%% (avg60)",
                        p.someAvg10(), p.fullAvg10(), p.someAvg60(), p.fullAvg60()))
                + "  oom kills: " + (d.oomKills() == null ? "not watched"
                        : "system " + d.oomKills().system() + ", cgroup " + d.oomKills().cgroup()));

        List<StatusDoc.Container> shown = d.containers().stream()
                .filter(c -> o.namespace() == null || o.namespace().equals(c.namespace()))
                .sorted(order(o.sort()))
                .toList();
        long running = shown.stream().filter(StatusDoc.Container::running).count();
        long pods = shown.stream().map(StatusDoc.Container::podKey).distinct().count();
        header.add("containers: " + shown.size() + " (" + running + " running) in " + pods + " pod" + (pods == 1 ? "" : "s")
                + (shown.size() == d.containers().size() ? "" : ", of " + d.containers().size() + " managed")
                + "  loop actions: " + d.actionsTotal());

        boolean psiColumn = d.containers().stream().anyMatch(c -> c.psi() != null);
        List<String[]> cells = new ArrayList<>();
        List<String> titles = new ArrayList<>(List.of("NAMESPACE/POD", "CONTAINER", "QOS", "SWAP-BEHAVIOR", "LIMIT",
                "HIGH", "USAGE", "WSET", "SWAP"));
        if (psiColumn) {
            titles.add("PSI10");
        }
        titles.addAll(List.of("THROTTLED", "STATE", "LAST ACTION"));
        cells.add(titles.toArray(String[]::new));
        for (StatusDoc.Container c : shown) {
            cells.add(row(c, d.atMillis(), psiColumn));
        }
        List<String> lines = align(cells);
        return new TopFrame(List.copyOf(header), lines.getFirst(), List.copyOf(lines.subList(1, lines.size())));
    }

    static Comparator<StatusDoc.Container> order(Sort sort) {
        Comparator<StatusDoc.Container> byName = Comparator.comparing(StatusDoc.Container::podKey)
                .thenComparing(StatusDoc.Container::container);
        Comparator<StatusDoc.Container> primary = switch (sort) {
            case memory -> Comparator.comparingLong((StatusDoc.Container c) ->
                    c.memory() == null ? -1 : c.memory().usageBytes()).reversed();
            case swap -> Comparator.comparingLong((StatusDoc.Container c) ->
                    c.memory() == null ? -1 : c.memory().swapBytes()).reversed();
            case psi -> Comparator.comparingDouble((StatusDoc.Container c) ->
                    c.psi() == null ? -1 : c.psi().someAvg10()).reversed();
            case name -> (a, b) -> 0;
        };
        return primary.thenComparing(byName);
    }

    private static String[] row(StatusDoc.Container c, long now, boolean psiColumn) {
        StatusDoc.Memory m = c.memory();
        List<String> r = new ArrayList<>();
        r.add(c.podKey());
        r.add(c.container() + (c.init() ? " (init)" : ""));
        r.add(orDash(c.qosClass()));
        r.add(orDash(c.swapBehavior()));
        if (m == null) {
            r.addAll(List.of("-", "-", "-", "-", "-"));
        } else {
            r.add(Bytes.human(m.limitBytes()));
            r.add(m.cgroupVersion() == 1 ? "-" : Bytes.human(m.highBytes()));
            r.add(Bytes.human(m.usageBytes()));
            r.add(Bytes.human(m.workingSetBytes()));
            r.add(Bytes.human(m.swapBytes()) + "/" + Bytes.human(m.swapLimitBytes()));
        }
        if (psiColumn) {
            r.add(c.psi() == null ? "-" : String.format(Locale.ROOT, "%.2f", c.psi().someAvg10()));
        }
        Long high = m == null ? null : m.events().get("high");
        r.add(high == null ? "-" : high.toString());
        r.add(state(c));
        r.add(c.lastAction() == null ? "-" : shortAction(c.lastAction(), now));
        return r.toArray(String[]::new);
    }

    /** "running", "exited 0", "stopped". */
    static String state(StatusDoc.Container c) {
        if (c.running()) {
            return "running";
        }
        return c.exitCode() == null ? "stopped" : "exited " + c.exitCode();
    }

    /** "guard memory.high=83886080 -> ok, 12s ago", the action text cut to {@value #ACTION_WIDTH} characters. */
    static String shortAction(StatusDoc.Action a, long now) {
        return a.loop() + " " + cut(a.action(), ACTION_WIDTH) + " -> " + cut(a.result(), 24) + ", "
                + ago(now - a.atMillis()) + " ago";
    }

    /** "0s", "42s", "5m", "3h", "2d". */
    public static String ago(long millis) {
        long s = Math.max(0, millis) / 1000;
        if (s < 120) {
            return s + "s";
        }
        if (s < 7200) {
            return s / 60 + "m";
        }
        if (s < 172800) {
            return s / 3600 + "h";
        }
        return s / 86400 + "d";
    }

    static String cut(String s, int max) {
        if (s == null) {
            return "";
        }
        return s.length() <= max ? s : s.substring(0, max - 1) + "~";
    }

    private static String orDash(String s) {
        return s == null || s.isEmpty() ? "-" : s;
    }

    private static String percent(long part, long whole) {
        return whole <= 0 ? "-" : String.format(Locale.ROOT, "%.1f%%", 100.0 * part / whole);
    }

    /** Left-aligned columns two spaces apart; the last column is not padded. */
    static List<String> align(List<String[]> cells) {
        int cols = cells.getFirst().length;
        int[] w = new int[cols];
        for (String[] r : cells) {
            for (int i = 0; i < cols; i++) {
                w[i] = Math.max(w[i], r[i].length());
            }
        }
        List<String> out = new ArrayList<>();
        for (String[] r : cells) {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < cols; i++) {
                b.append(r[i]);
                if (i < cols - 1) {
                    b.append(" ".repeat(w[i] - r[i].length() + 2));
                }
            }
            out.add(b.toString());
        }
        return out;
    }
}
