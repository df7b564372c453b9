package io.vineyard.server.daemon;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.vineyard.common.Json;
import io.vineyard.common.Status;
import io.vineyard.server.metrics.DaemonMetrics;

import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Per request type: how many requests the daemon served, how many it refused, and the time it spent
 * on them, from the moment a frame was read to the moment its reply (and fds) were written. This is the
 * daemon's own time per request, without the client's or the socket's wake-up; {@code server_stats_request}
 * returns it, and the metrics endpoint exports it ({@code vineyard_requests_total},
 * {@code vineyard_request_duration_seconds}, {@code vineyard_request_errors_total}).
 *
 * <p>Bounded: only the types the daemon knows get an entry of their own; every other {@code type}
 * string a client sends is counted under {@link #UNKNOWN}, and requests with no usable type under
 * {@link #INVALID}. Each entry resolves its histogram series once, so recording a request is one map
 * lookup, three adds and one histogram observation.
 */
public final class RequestStats {
    /** The entry of every request whose type the daemon does not know. */
    public static final String UNKNOWN = "<unknown>";
    /** The entry of requests that are not JSON objects with a string {@code type}. */
    public static final String INVALID = "<invalid>";

    /** Latency buckets, in seconds: 5 us to 30 s (a request may wait for an object or a name). */
    private static final double[] LATENCY_BOUNDS_SECONDS = {
            5e-6, 10e-6, 25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 100e-3, 0.5, 1, 5, 30};

    /** One type's counters; its histogram series is made at its first request (no empty series in a scrape). */
    private static final class Entry {
        final String type;
        final LongAdder count = new LongAdder();
        final LongAdder nanos = new LongAdder();
        final LongAdder writeNanos = new LongAdder();
        final LongAdder errors = new LongAdder();
        volatile DistributionDataPoint latency;

        Entry(String type) {
            this.type = type;
        }
    }

    private final Map<String, Entry> byType = new ConcurrentHashMap<>();
    private final Histogram latency;
    private final Counter errors;

    /** Statistics of their own, exported to {@code metrics}. */
    public RequestStats(DaemonMetrics metrics) {
        this.latency = metrics.histogram("vineyard_request_duration_seconds",
                "Time from reading a request to having written its reply, by request type", LATENCY_BOUNDS_SECONDS, "type");
        this.errors = metrics.counter("vineyard_request_errors",
                "Requests answered with an error reply, by request type and vineyard status code", "type", "code");
        metrics.counterOf("vineyard_requests", "Requests served, by request type", "type", out -> byType.forEach((type, e) -> {
            long n = e.count.sum();
            if (n > 0) {
                out.accept(type, n);
            }
        }));
        add(UNKNOWN);
        add(INVALID);
    }

    private void add(String type) {
        byType.computeIfAbsent(type, Entry::new);
    }

    /** Gives each of {@code knownTypes} an entry of its own (at start-up, before any request). */
    public void track(Set<String> knownTypes) {
        knownTypes.forEach(this::add);
    }

    private Entry entry(String type) {
        Entry e = byType.get(type);
        return e != null ? e : byType.get(UNKNOWN);
    }

    /** A request of {@code type} was served in {@code nanos}, {@code writeNanos} of them in socket writes. */
    public void record(String type, long nanos, long writeNanos) {
        Entry e = entry(type);
        e.count.increment();
        e.nanos.add(nanos);
        e.writeNanos.add(writeNanos);
        DistributionDataPoint series = e.latency;
        if (series == null) {
            // racing first requests get the same series: labelValues returns one per label value
            series = latency.labelValues(e.type);
            e.latency = series;
        }
        series.observe(nanos * 1e-9);
    }

    /**
     * A request of {@code type} was answered with an error reply of {@code status}.
     *
     * @return the statistics entry it was counted under (the type, {@link #UNKNOWN} or {@link #INVALID})
     */
    public String recordError(String type, Status status) {
        Entry e = entry(type);
        e.errors.increment();
        errors.labelValues(e.type, statusName(status)).inc();
        return e.type;
    }

    /** vineyard's name of a status code: {@code OBJECT_NOT_EXISTS} as {@code ObjectNotExists}. */
    static String statusName(Status status) {
        StringBuilder sb = new StringBuilder();
        for (String part : status.name().split("_")) {
            sb.append(part.charAt(0)).append(part.substring(1).toLowerCase(Locale.ROOT));
        }
        return sb.toString();
    }

    /**
     * {@code {type: {count, total_ns, write_ns, errors}}} for the types seen at least once (write_ns:
     * the part spent in socket writes; errors: requests answered with an error reply), sorted by type.
     */
    public ObjectNode toJson() {
        ObjectNode out = Json.object();
        new TreeMap<>(byType).forEach((type, c) -> {
            long count = c.count.sum();
            if (count > 0) {
                ObjectNode n = out.putObject(type);
                n.put("count", count);
                n.put("total_ns", c.nanos.sum());
                n.put("write_ns", c.writeNanos.sum());
                n.put("errors", c.errors.sum());
            }
        });
        return out;
    }
}
