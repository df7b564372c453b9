package io.vineyard.server.daemon;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.Json;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Per request type: how many requests the daemon served and the time it spent on them, from the
 * moment a frame was read to the moment its reply (and fds) were written. This is the daemon's own
 * time per request, without the client's or the socket's wake-up; {@code server_stats_request}
 * returns it.
 *
 * <p>Bounded: only the types the daemon knows get an entry of their own; every other {@code type}
 * string a client sends is counted under {@link #UNKNOWN}, and requests with no usable type under
 * {@link #INVALID}.
 */
public final class RequestStats {
    /** The entry of every request whose type the daemon does not know. */
    public static final String UNKNOWN = "<unknown>";
    /** The entry of requests that are not JSON objects with a string {@code type}. */
    public static final String INVALID = "<invalid>";

    private record Counter(LongAdder count, LongAdder nanos, LongAdder writeNanos) {
        Counter() {
            this(new LongAdder(), new LongAdder(), new LongAdder());
        }
    }

    private final Map<String, Counter> byType = new ConcurrentHashMap<>();

    public RequestStats() {
        byType.put(UNKNOWN, new Counter());
        byType.put(INVALID, new Counter());
    }

    /** Gives each of {@code knownTypes} an entry of its own (at start-up, before any request). */
    public void track(Set<String> knownTypes) {
        for (String t : knownTypes) {
            byType.putIfAbsent(t, new Counter());
        }
    }

    public void record(String type, long nanos, long writeNanos) {
        Counter c = byType.get(type);
        if (c == null) {
            c = byType.get(UNKNOWN);
        }
        c.count.increment();
        c.nanos.add(nanos);
        c.writeNanos.add(writeNanos);
    }

    /**
     * {@code {type: {count, total_ns, write_ns}}} for the types seen at least once (write_ns: the part
     * spent in socket writes), sorted by type.
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
            }
        });
        return out;
    }
}
