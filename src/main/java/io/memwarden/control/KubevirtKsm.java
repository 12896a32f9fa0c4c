package io.memwarden.control;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * KubeVirt virt-handler's KSM algorithm ({@code pkg/virt-handler/ksm/ksm.go} {@code calculateNewRunSleepAndPages} and
 * {@code writeKsmValuesToFiles}, itself adapted from oVirt MoM's ksm.rules), exactly:
 * <ul>
 * <li>sleep = baseline × 16 777 216 / (MemTotal − MemAvailable) (kB, integer), floored at baseline / 10;</li>
 * <li>pressure = not (MemAvailable &gt; MemTotal × freePercent), compared in float32 as Go does;</li>
 * <li>pressure and running: pages_to_scan (read from the kernel, not remembered) + boost, at most max; pressure and
 * stopped: start with init;</li>
 * <li>no pressure and running: pages_to_scan + decay; below min: pages = min and stop; no pressure and stopped:
 * stay stopped;</li>
 * <li>written: while running sleep_millisecs, pages_to_scan, then run=1; while stopped only run=0.</li>
 * </ul>
 * The one departure: with MemTotal = MemAvailable Go divides by zero (a panic); here the sleep is the floor.
 */
public record KubevirtKsm(Settings settings) implements KsmPolicy {

    /** The node annotations virt-handler reads to override its constants (api/core/v1 KSM*Override). */
    public static final String ANNOTATION_PREFIX = "kubevirt.io/ksm-";
    /**
     * virt-handler's node annotation: "true" where it switched KSM on itself, "false" elsewhere
     * (pkg/virt-handler/heartbeat, {@code KSMHandlerManagedAnnotation}).
     */
    public static final String HANDLER_MANAGED_ANNOTATION = "kubevirt.io/ksm-handler-managed";
    /** virt-handler's node label: "true" where the KubeVirt CR's ksmConfiguration selects the node. */
    public static final String KSM_ENABLED_LABEL = "kubevirt.io/ksm-enabled";

    /**
     * Whether KubeVirt's virt-handler tunes KSM on this node, from the Node's labels and annotations: the reason
     * (memwarden then observes only), or null. A {@value #HANDLER_MANAGED_ANNOTATION} value other than true/false is a
     * warning in {@code warnings}.
     */
    public static String virtHandlerClaim(Map<String, String> labels, Map<String, String> annotations,
                                          List<String> warnings) {
        String managed = annotations.get(HANDLER_MANAGED_ANNOTATION);
        if (managed != null && !managed.equals("true") && !managed.equals("false")) {
            warnings.add("node annotation " + HANDLER_MANAGED_ANNOTATION + "=\"" + printable(managed)
                    + "\" is neither true nor false (virt-handler writes one of them): ignored");
        }
        if ("true".equals(managed)) {
            return "KubeVirt's virt-handler switched KSM on on this node (node annotation " + HANDLER_MANAGED_ANNOTATION
                    + "=true): observing only";
        }
        if ("true".equals(labels.get(KSM_ENABLED_LABEL))) {
            return "KubeVirt's virt-handler tunes KSM on this node (node label " + KSM_ENABLED_LABEL + "=true, the"
                    + " KubeVirt CR's ksmConfiguration selects it): observing only";
        }
        return null;
    }

    private static String printable(String v) {
        StringBuilder sb = new StringBuilder();
        v.codePoints().limit(60).forEach(c -> {
            if (c < 0x20 || c == 0x7f) {
                sb.append(String.format("\\x%02x", c));
            } else {
                sb.appendCodePoint(c);
            }
        });
        return v.codePointCount(0, v.length()) > 60 ? sb + "…" : sb.toString();
    }

    /**
     * @param freePercent MemAvailable at or below this share of MemTotal is pressure (0..1)
     */
    public record Settings(int pagesBoost, int pagesDecay, int pagesMin, int pagesMax, int pagesInit,
                           long sleepMsBaseline, float freePercent) {
        public static final Settings DEFAULTS = new Settings(300, -50, 64, 1250, 100, 100, 0.2f);

        /** The first bound problem, or null: the same bounds virt-handler checks (getIntParam / getFloatParam). */
        public String problem() {
            if (pagesBoost < 0) {
                return "pages-boost " + pagesBoost + " is below 0";
            }
            if (pagesDecay > 0) {
                return "pages-decay " + pagesDecay + " is above 0";
            }
            if (pagesMin < 0) {
                return "pages-min " + pagesMin + " is below 0";
            }
            if (pagesMax < pagesMin) {
                return "pages-max " + pagesMax + " is below pages-min " + pagesMin;
            }
            if (pagesInit < pagesMin || pagesInit > pagesMax) {
                return "pages-init " + pagesInit + " is outside pages-min..pages-max " + pagesMin + ".." + pagesMax;
            }
            if (sleepMsBaseline < 1) {
                return "sleep-ms-baseline " + sleepMsBaseline + " is below 1";
            }
            if (!(freePercent >= 0 && freePercent <= 1)) {
                return "free-percent " + freePercent + " is outside 0..1";
            }
            return null;
        }

        /**
         * The settings from virt-handler's node annotations ({@code kubevirt.io/ksm-pages-boost-override}, ...), with
         * its exact fallbacks: an unparsable value is the default; an out-of-bounds one is the default when the
         * default lies strictly inside the bounds, else the lower bound. Bounds are checked in virt-handler's order
         * (max against the min just read, init against both). Each fallback is noted in {@code notes}.
         */
        public static Settings fromAnnotations(Map<String, String> annotations, List<String> notes) {
            Settings d = DEFAULTS;
            int boost = intParam(annotations, "pages-boost", d.pagesBoost, 0, Integer.MAX_VALUE, notes);
            int decay = intParam(annotations, "pages-decay", d.pagesDecay, Integer.MIN_VALUE, 0, notes);
            int min = intParam(annotations, "pages-min", d.pagesMin, 0, Integer.MAX_VALUE, notes);
            int max = intParam(annotations, "pages-max", d.pagesMax, min, Integer.MAX_VALUE, notes);
            int init = intParam(annotations, "pages-init", d.pagesInit, min, max, notes);
            int sleep = intParam(annotations, "sleep-ms-baseline", (int) d.sleepMsBaseline, 1, Integer.MAX_VALUE,
                    notes);
            float free = floatParam(annotations, "free-percent", d.freePercent, 0, 1, notes);
            return new Settings(boost, decay, min, max, init, sleep, free);
        }

        /** The settings in config words, for logs. */
        public String describe() {
            return "pagesBoost " + pagesBoost + ", pagesDecay " + pagesDecay + ", pagesMin " + pagesMin + ", pagesMax "
                    + pagesMax + ", pagesInit " + pagesInit + ", sleepMsBaseline " + sleepMsBaseline + ", freePercent "
                    + freePercent;
        }

        /**
         * These settings (memwarden's config) with virt-handler's override annotations found on the Node applied, one
         * by one in virt-handler's order and with its bounds (max against the min in effect, init against both). An
         * annotation memwarden cannot use — not a number, out of bounds — is a warning in {@code warnings} naming the
         * annotation and value, and the config's value is kept for that setting; if the result is still inconsistent
         * (e.g. a raised min above the config's init), every override is dropped with a warning.
         */
        public Settings withNodeAnnotations(Map<String, String> annotations, List<String> warnings) {
            int boost = nodeInt(annotations, "pages-boost", pagesBoost, 0, Integer.MAX_VALUE, warnings);
            int decay = nodeInt(annotations, "pages-decay", pagesDecay, Integer.MIN_VALUE, 0, warnings);
            int min = nodeInt(annotations, "pages-min", pagesMin, 0, Integer.MAX_VALUE, warnings);
            int max = nodeInt(annotations, "pages-max", pagesMax, min, Integer.MAX_VALUE, warnings);
            int init = nodeInt(annotations, "pages-init", pagesInit, min, max, warnings);
            int sleep = nodeInt(annotations, "sleep-ms-baseline", (int) Math.min(sleepMsBaseline, Integer.MAX_VALUE),
                    1, Integer.MAX_VALUE, warnings);
            float free = freePercent;
            String fv = annotations.get(key("free-percent"));
            if (fv != null) {
                float value = Float.NaN;
                try {
                    value = (float) Double.parseDouble(fv.strip());
                } catch (NumberFormatException e) {
                    warnings.add("node annotation " + key("free-percent") + "=\"" + printable(fv) + "\" is not a"
                            + " number: memwarden keeps its configured " + freePercent);
                }
                if (!Float.isNaN(value)) {
                    if (value >= 0 && value <= 1) {
                        free = value;
                    } else {
                        warnings.add("node annotation " + key("free-percent") + "=" + printable(fv) + " is out of"
                                + " bounds 0..1: memwarden keeps its configured " + freePercent);
                    }
                }
            }
            Settings merged = new Settings(boost, decay, min, max, init, sleep, free);
            String problem = merged.problem();
            if (problem != null) {
                warnings.add("node annotations " + ANNOTATION_PREFIX + "*-override give " + problem + ": memwarden"
                        + " keeps its configured values for all of them");
                return this;
            }
            return merged;
        }

        private static int nodeInt(Map<String, String> a, String name, int configured, int lo, int hi,
                                   List<String> warnings) {
            String v = a.get(key(name));
            if (v == null) {
                return configured;
            }
            int value;
            try {
                value = Integer.parseInt(v); // Go's strconv.Atoi, as virt-handler parses it
            } catch (NumberFormatException e) {
                warnings.add("node annotation " + key(name) + "=\"" + printable(v) + "\" is not an integer:"
                        + " memwarden keeps its configured " + configured);
                return configured;
            }
            if (value < lo || value > hi) {
                warnings.add("node annotation " + key(name) + "=" + value + " is out of bounds " + lo + ".." + hi
                        + ": memwarden keeps its configured " + configured);
                return configured;
            }
            return value;
        }

        private static String key(String name) {
            return ANNOTATION_PREFIX + name + "-override";
        }

        private static int intParam(Map<String, String> a, String name, int d, int lo, int hi, List<String> notes) {
            String v = a.get(key(name));
            if (v == null) {
                return d;
            }
            int value;
            try {
                value = Integer.parseInt(v); // Go's strconv.Atoi: optional sign, decimal digits
            } catch (NumberFormatException e) {
                notes.add(key(name) + "=\"" + v + "\" is not an integer: virt-handler uses the default " + d);
                return d;
            }
            if (value < lo || value > hi) {
                int used = d > lo && d < hi ? d : lo;
                notes.add(key(name) + "=" + value + " is out of bounds " + lo + ".." + hi + ": virt-handler uses " + used);
                return used;
            }
            return value;
        }

        private static float floatParam(Map<String, String> a, String name, float d, float lo, float hi,
                                        List<String> notes) {
            String v = a.get(key(name));
            if (v == null) {
                return d;
            }
            float value;
            try {
                value = (float) Double.parseDouble(v.strip());
            } catch (NumberFormatException e) {
                notes.add(key(name) + "=\"" + v + "\" is not a number: virt-handler uses the default " + d);
                return d;
            }
            if (value < lo || value > hi) {
                float used = d > lo && d < hi ? d : lo;
                notes.add(key(name) + "=" + value + " is out of bounds " + lo + ".." + hi + ": virt-handler uses " + used);
                return used;
            }
            return value;
        }
    }

    public KubevirtKsm {
        String p = settings.problem();
        if (p != null) {
            throw new IllegalArgumentException(p);
        }
    }

    public KubevirtKsm() {
        this(Settings.DEFAULTS);
    }

    @Override
    public String name() {
        return "kubevirt";
    }

    /** virt-handler's sleep: baseline × 16 GiB-in-kB / used kB, at least baseline / 10. */
    public long sleepMillisecs(long totalKb, long availableKb) {
        long floor = settings.sleepMsBaseline() / 10;
        long used = totalKb - availableKb;
        if (used <= 0) {
            return floor; // Go: unsigned wrap-around (negative) gives a tiny quotient, i.e. the floor; zero panics
        }
        long sleep = settings.sleepMsBaseline() * 16_777_216L / used;
        return Math.max(sleep, floor);
    }

    /** virt-handler's pressure test, in float32 like {@code float32(available) > float32(total)*freePercent}. */
    public boolean pressure(long totalKb, long availableKb) {
        return !((float) availableKb > (float) totalKb * settings.freePercent());
    }

    @Override
    public KsmDecision decide(KsmObservation o) {
        Settings s = settings;
        boolean running = o.run() == 1;
        long sleep = sleepMillisecs(o.memTotalKb(), o.memAvailableKb());
        boolean pressure = pressure(o.memTotalKb(), o.memAvailableKb());
        String mem = "MemAvailable " + o.memAvailableKb() + " kB " + (pressure ? "<=" : ">") + " "
                + Math.round(s.freePercent() * 100 * 100) / 100.0 + "% of MemTotal " + o.memTotalKb() + " kB";
        long pages = o.pagesToScan();
        if (!pressure) {
            if (!running) {
                return KsmDecision.stop(false, "kubevirt: no pressure (" + mem + "), KSM stopped: stays stopped");
            }
            pages += s.pagesDecay();
            if (pages < s.pagesMin()) {
                return KsmDecision.stop(false, "kubevirt: no pressure (" + mem + "): pages_to_scan "
                        + o.pagesToScan() + " " + s.pagesDecay() + " is below the minimum " + s.pagesMin()
                        + ": stop");
            }
            return KsmDecision.start(pages, sleep, false, "kubevirt: no pressure (" + mem + "): decay pages_to_scan "
                    + o.pagesToScan() + " " + s.pagesDecay() + " = " + pages + ", sleep " + sleep + " ms");
        }
        if (running) {
            long boosted = Math.min(pages + s.pagesBoost(), s.pagesMax());
            return KsmDecision.start(boosted, sleep, true, "kubevirt: pressure (" + mem + "): boost pages_to_scan "
                    + pages + " + " + s.pagesBoost() + " = " + boosted
                    + (boosted == s.pagesMax() ? " (the maximum)" : "") + ", sleep " + sleep + " ms");
        }
        return KsmDecision.start(s.pagesInit(), sleep, true, "kubevirt: pressure (" + mem + "): start with "
                + s.pagesInit() + " pages, sleep " + sleep + " ms");
    }

    /** The annotation names virt-handler reads, for docs and messages. */
    public static List<String> annotationNames() {
        List<String> out = new ArrayList<>();
        for (String n : List.of("pages-boost", "pages-decay", "pages-min", "pages-max", "pages-init",
                "sleep-ms-baseline", "free-percent")) {
            out.add(Settings.key(n));
        }
        return out;
    }
}
