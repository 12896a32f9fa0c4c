package io.memwarden.bench;

import java.util.ArrayList;
import java.util.List;

/** A time series of samples (milliseconds since the scenario started, value). */
final class Series {
    private final String name;
    private final List<double[]> points = new ArrayList<>();

    public Series(String name) {
        this.name = name;
    }

    public synchronized void add(double tMillis, double value) {
        points.add(new double[] {tMillis, value});
    }

    public String name() {
        return name;
    }

    public synchronized List<double[]> points() {
        return List.copyOf(points);
    }
}
