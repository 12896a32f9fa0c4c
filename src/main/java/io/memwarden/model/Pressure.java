package io.memwarden.model;

/**
 * A PSI snapshot ({@code /proc/pressure/memory} or a v2 cgroup's {@code memory.pressure}): averages in percent,
 * totals in microseconds. {@code full} is absent from some files (e.g. cpu at the root); it is then zero.
 */
public record Pressure(double someAvg10, double someAvg60, double someAvg300, long someTotalMicros,
                       double fullAvg10, double fullAvg60, double fullAvg300, long fullTotalMicros) {

    public static Pressure parse(String text) {
        double[] some = new double[3];
        double[] full = new double[3];
        long someTotal = 0;
        long fullTotal = 0;
        for (String line : text.split("\n")) {
            String[] f = line.strip().split("\\s+");
            if (f.length < 5) {
                continue;
            }
            double[] target = f[0].equals("some") ? some : f[0].equals("full") ? full : null;
            if (target == null) {
                continue;
            }
            long total = 0;
            for (int i = 1; i < f.length; i++) {
                String[] kv = f[i].split("=", 2);
                if (kv.length != 2) {
                    throw new IllegalArgumentException("malformed PSI field \"" + f[i] + "\" in: " + line);
                }
                switch (kv[0]) {
                    case "avg10" -> target[0] = Double.parseDouble(kv[1]);
                    case "avg60" -> target[1] = Double.parseDouble(kv[1]);
                    case "avg300" -> target[2] = Double.parseDouble(kv[1]);
                    case "total" -> total = Long.parseLong(kv[1]);
                    default -> { }
                }
            }
            if (target == some) {
                someTotal = total;
            } else {
                fullTotal = total;
            }
        }
        return new Pressure(some[0], some[1], some[2], someTotal, full[0], full[1], full[2], fullTotal);
    }
}
