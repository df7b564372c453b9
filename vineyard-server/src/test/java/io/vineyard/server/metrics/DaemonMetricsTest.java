package io.vineyard.server.metrics;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each kind of metric a feature can add in one line, as the exposition text shows it. */
class DaemonMetricsTest {
    private static String text(DaemonMetrics m) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrometheusTextFormatWriter.create().write(out, m.registry().scrape());
        return out.toString(StandardCharsets.UTF_8);
    }

    private static void assertLine(String text, String line) {
        assertTrue(text.lines().anyMatch(line::equals), "no line '" + line + "' in:\n" + text);
    }

    @Test
    void gaugesAndCountersReadAtScrapeTime() throws IOException {
        DaemonMetrics m = new DaemonMetrics();
        AtomicInteger streams = new AtomicInteger(2);
        m.gauge("vineyard_streams_open", "Streams open", streams::get);
        m.gauge("vineyard_links", "Links by kind", "kind", out -> {
            out.accept("a", 1);
            out.accept("b", 5);
        });
        m.counterOf("vineyard_spills", "Spills", () -> 7);
        assertLine(text(m), "vineyard_streams_open 2.0");
        streams.set(3);
        String t = text(m);
        assertLine(t, "vineyard_streams_open 3.0");
        assertLine(t, "vineyard_links{kind=\"b\"} 5.0");
        assertLine(t, "vineyard_spills_total 7.0");
        assertLine(t, "# TYPE vineyard_spills_total counter");
    }

    @Test
    void countersHistogramsAndInfo() throws IOException {
        DaemonMetrics m = new DaemonMetrics();
        CounterDataPoint spilled = m.counter("vineyard_spilled_bytes", "Bytes spilled to disk");
        spilled.inc(4096);
        Counter byKind = m.counter("vineyard_evictions", "Evictions", "reason");
        byKind.labelValues("full").inc();
        byKind.labelValues("full").inc();
        Histogram h = m.histogram("vineyard_spill_duration_seconds", "Spill time", new double[] {0.001, 0.01}, "kind");
        h.labelValues("blob").observe(0.005);
        m.info("vineyard_test", "A test", Map.of("mode", "unit"));
        String t = text(m);
        assertLine(t, "vineyard_spilled_bytes_total 4096.0");
        assertLine(t, "vineyard_evictions_total{reason=\"full\"} 2.0");
        assertLine(t, "vineyard_spill_duration_seconds_bucket{kind=\"blob\",le=\"0.001\"} 0");
        assertLine(t, "vineyard_spill_duration_seconds_bucket{kind=\"blob\",le=\"0.01\"} 1");
        assertLine(t, "vineyard_spill_duration_seconds_count{kind=\"blob\"} 1");
        assertLine(t, "vineyard_test_info{mode=\"unit\"} 1");
    }

    @Test
    void eachDaemonHasItsOwnRegistry() throws IOException {
        DaemonMetrics one = new DaemonMetrics();
        DaemonMetrics two = new DaemonMetrics();
        one.gauge("vineyard_x", "x", () -> 1);
        two.gauge("vineyard_x", "x", () -> 2);
        assertLine(text(one), "vineyard_x 1.0");
        assertLine(text(two), "vineyard_x 2.0");
        assertThrows(IllegalArgumentException.class, () -> one.gauge("vineyard_x", "again", () -> 3),
                "one name once per daemon");
    }
}
