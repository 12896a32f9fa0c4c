package io.memwarden.api;

import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;

/**
 * The registry behind {@code /metrics} (memwarden's {@link StatusMetrics}, optionally the JVM's own metrics) and
 * its exposition: OpenMetrics text when the scraper's Accept header asks for it, otherwise the Prometheus text
 * format 0.0.4. The protobuf format is not offered.
 */
final class MetricsExposition {

    /** One rendered scrape. */
    public record Scrape(String contentType, byte[] body) {}

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final ExpositionFormats formats = ExpositionFormats.init();

    /** @param jvm also export the JVM's metrics ({@code jvm_*}, {@code process_*}) */
    public MetricsExposition(StatusSource source, boolean jvm) {
        registry.register(new StatusMetrics(source));
        if (jvm) {
            JvmMetrics.builder().register(registry);
        }
    }

    public PrometheusRegistry registry() {
        return registry;
    }

    /** Scrapes the registry and renders it in the format the Accept header (may be null) selects. */
    public Scrape scrape(String accept) throws IOException {
        ExpositionFormatWriter w = formats.getOpenMetricsTextFormatWriter().accepts(accept)
                ? formats.getOpenMetricsTextFormatWriter()
                : formats.getPrometheusTextFormatWriter();
        ByteArrayOutputStream body = new ByteArrayOutputStream(16 * 1024);
        w.write(body, registry.scrape());
        return new Scrape(w.getContentType(), body.toByteArray());
    }
}
