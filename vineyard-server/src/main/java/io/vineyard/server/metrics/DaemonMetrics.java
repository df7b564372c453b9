package io.vineyard.server.metrics;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.core.metrics.Info;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.util.Map;
import java.util.function.Consumer;
import java.util.function.DoubleSupplier;
import java.util.function.LongSupplier;
import java.util.function.ObjDoubleConsumer;
import java.util.function.ObjLongConsumer;

/**
 * The daemon's metrics, one registry per daemon (two daemons in one JVM never share a series), served
 * by {@link MetricsEndpoint} when {@code --metrics_port} is given. Adding a metric is one line:
 *
 * <pre>{@code
 * metrics.gauge("vineyard_streams_open", "Streams open", () -> ctx.locked(streams::size));
 * CounterDataPoint spilled = metrics.counter("vineyard_spilled_bytes", "Bytes spilled to disk");
 * }</pre>
 *
 * <p>Design note. Prometheus' own Java client ({@code prometheus-metrics-core} 1.x) was chosen over
 * Micrometer: the daemon exports only to Prometheus, and Micrometer would add a second meter model
 * in front of the same registry. State the daemon already keeps (usage, connections, object counts,
 * request counts) is read at scrape time through callbacks, so it costs nothing per request; the one
 * metric written on every request is the latency histogram (classic buckets, no exemplars), a few
 * atomic adds. Names follow Prometheus' conventions: {@code vineyard_} prefix, base units (bytes,
 * seconds), {@code _total} added to counters by the library.
 */
public final class DaemonMetrics {
    private final PrometheusRegistry registry = new PrometheusRegistry();

    /** The registry the endpoint scrapes. */
    public PrometheusRegistry registry() {
        return registry;
    }

    /** A gauge whose value {@code value} reads at scrape time. */
    public void gauge(String name, String help, DoubleSupplier value) {
        GaugeWithCallback.builder().name(name).help(help).callback(cb -> cb.call(value.getAsDouble())).register(registry);
    }

    /**
     * A gauge with a label: at scrape time {@code series} reports each series as
     * {@code out.accept(labelValue, value)}.
     */
    public void gauge(String name, String help, String label, Consumer<ObjDoubleConsumer<String>> series) {
        GaugeWithCallback.builder().name(name).help(help).labelNames(label)
                .callback(cb -> series.accept((k, v) -> cb.call(v, k))).register(registry);
    }

    /** A counter whose total {@code total} reads at scrape time (for counts the daemon keeps anyway). */
    public void counterOf(String name, String help, LongSupplier total) {
        CounterWithCallback.builder().name(name).help(help).callback(cb -> cb.call(total.getAsLong())).register(registry);
    }

    /**
     * A counter with a label: at scrape time {@code series} reports each series as
     * {@code out.accept(labelValue, total)}.
     */
    public void counterOf(String name, String help, String label, Consumer<ObjLongConsumer<String>> series) {
        CounterWithCallback.builder().name(name).help(help).labelNames(label)
                .callback(cb -> series.accept((k, v) -> cb.call(v, k))).register(registry);
    }

    /** A counter to increment. */
    public CounterDataPoint counter(String name, String help) {
        return Counter.builder().name(name).help(help).withoutExemplars().register(registry);
    }

    /** A counter with labels; {@code labelValues(...)} of the result gives one series to increment. */
    public Counter counter(String name, String help, String... labels) {
        return Counter.builder().name(name).help(help).labelNames(labels).withoutExemplars().register(registry);
    }

    /**
     * A histogram of durations in seconds with classic buckets {@code upperBoundsSeconds}; resolve each
     * series once with {@code labelValues(...)} and keep it, so an observation does no lookup.
     */
    public Histogram histogram(String name, String help, double[] upperBoundsSeconds, String... labels) {
        return Histogram.builder().name(name).help(help).labelNames(labels).classicOnly()
                .classicUpperBounds(upperBoundsSeconds).withoutExemplars().register(registry);
    }

    /** An info metric: one series with value 1 whose labels carry the information. */
    public void info(String name, String help, Map<String, String> labels) {
        String[] names = labels.keySet().toArray(String[]::new);
        Info info = Info.builder().name(name).help(help).labelNames(names).register(registry);
        info.setLabelValues(labels.values().toArray(String[]::new));
    }
}
