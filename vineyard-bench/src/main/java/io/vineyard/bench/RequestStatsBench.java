package io.vineyard.bench;

import io.vineyard.server.daemon.RequestStats;
import io.vineyard.server.metrics.DaemonMetrics;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * What the daemon's statistics cost per request: {@link RequestStats#record} (counters for
 * {@code server_stats} plus the Prometheus latency histogram) against the counters alone, which is
 * what {@code record} did before the metrics endpoint (a map lookup and three {@code LongAdder} adds).
 *
 * <p>Run: {@code java -cp "$(. bin/jdk.sh; module_classpath vineyard-bench)" org.openjdk.jmh.Main
 * RequestStatsBench -f 1 -wi 3 -i 5} (add {@code -t 2} for two threads recording at once).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class RequestStatsBench {
    private static final String TYPE = "create_buffer_request";

    private RequestStats stats;
    private final Map<String, LongAdder[]> countersOnly = new ConcurrentHashMap<>();

    @Setup
    public void setUp() {
        stats = new RequestStats(new DaemonMetrics());
        stats.track(Set.of(TYPE, "seal_request", "get_buffers_request"));
        for (String t : new String[] {TYPE, "seal_request", "get_buffers_request"}) {
            countersOnly.put(t, new LongAdder[] {new LongAdder(), new LongAdder(), new LongAdder()});
        }
    }

    /** The per-request path now: counters and the histogram. */
    @Benchmark
    public void record() {
        stats.record(TYPE, 4_800, 1_900);
    }

    /** The counters alone (the path before the histogram). */
    @Benchmark
    public void countersOnly() {
        LongAdder[] c = countersOnly.get(TYPE);
        c[0].increment();
        c[1].add(4_800);
        c[2].add(1_900);
    }
}
