package io.vineyard.server.protocol;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.Json;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Per request type: how many requests the daemon served and the time it spent on them, from the
 * moment a frame was read to the moment its reply (and fds) were written. This is the daemon's own
 * time per request, without the client's or the socket's wake-up; {@code server_stats_request}
 * returns it.
 */
public final class RequestStats {
    private record Counter(LongAdder count, LongAdder nanos, LongAdder writeNanos) {
    }

    private final Map<String, Counter> byType = new ConcurrentHashMap<>();

    void record(String type, long nanos, long writeNanos) {
        Counter c = byType.computeIfAbsent(type, k -> new Counter(new LongAdder(), new LongAdder(), new LongAdder()));
        c.count.increment();
        c.nanos.add(nanos);
        c.writeNanos.add(writeNanos);
    }

    /** {@code {type: {count, total_ns, write_ns}}} (write_ns: the part spent in socket writes), sorted by type. */
    public ObjectNode toJson() {
        ObjectNode out = Json.object();
        new TreeMap<>(byType).forEach((type, c) -> {
            ObjectNode n = out.putObject(type);
            n.put("count", c.count.sum());
            n.put("total_ns", c.nanos.sum());
            n.put("write_ns", c.writeNanos.sum());
        });
        return out;
    }
}
