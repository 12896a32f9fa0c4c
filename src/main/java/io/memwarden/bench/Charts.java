package io.memwarden.bench;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;

/** PNG line charts of bench series (headless). */
final class Charts {
    private Charts() {}

    public static void png(Path file, String title, String yTitle, List<Series> series) throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYChart chart = new XYChartBuilder().width(1000).height(500).title(title).xAxisTitle("seconds")
                .yAxisTitle(yTitle).build();
        chart.getStyler().setMarkerSize(0);
        for (Series s : series) {
            List<double[]> pts = s.points();
            if (pts.isEmpty()) {
                continue;
            }
            double[] x = new double[pts.size()];
            double[] y = new double[pts.size()];
            for (int i = 0; i < pts.size(); i++) {
                x[i] = pts.get(i)[0] / 1000.0;
                y[i] = pts.get(i)[1];
            }
            XYSeries xs = chart.addSeries(s.name(), x, y);
            xs.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        }
        try (OutputStream out = Files.newOutputStream(file)) {
            BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG);
        }
    }

    /** A PNG chart of points (x, y) as the series hold them (x not scaled), lines with markers. */
    public static void xy(Path file, String title, String xTitle, String yTitle, List<Series> series)
            throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYChart chart = new XYChartBuilder().width(1000).height(500).title(title).xAxisTitle(xTitle)
                .yAxisTitle(yTitle).build();
        for (Series s : series) {
            List<double[]> pts = s.points();
            if (pts.isEmpty()) {
                continue;
            }
            double[] x = new double[pts.size()];
            double[] y = new double[pts.size()];
            for (int i = 0; i < pts.size(); i++) {
                x[i] = pts.get(i)[0];
                y[i] = pts.get(i)[1];
            }
            XYSeries xs = chart.addSeries(s.name(), x, y);
            xs.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        }
        try (OutputStream out = Files.newOutputStream(file)) {
            BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG);
        }
    }
}
