package io.vineyard.server.daemon;

import io.vineyard.server.metrics.DaemonMetrics;

import java.util.Map;

/**
 * The daemon's state as metrics, all read at scrape time (nothing is written per request): pool bytes
 * in use, limit and deferred, objects, blobs, names, connections by transport, parked requests and
 * unexpected errors. Store state is read under the store lock, one short hold per metric.
 */
public final class DaemonGauges {
    private DaemonGauges() {
    }

    /** Registers the daemon's metrics of {@code ctx} in {@code ctx.metrics()}. */
    public static void register(DaemonContext ctx, String protocolVersion, String implementationVersion) {
        DaemonMetrics m = ctx.metrics();
        m.info("vineyard_build", "The daemon's version and the vineyard protocol version it speaks",
                Map.of("version", implementationVersion, "protocol", protocolVersion));
        m.gauge("vineyard_memory_usage_bytes", "Bytes of visible blobs in the shared pool (instance_status memory_usage)",
                () -> ctx.locked(() -> ctx.blobs().usageBytes()));
        m.gauge("vineyard_memory_limit_bytes", "Size of the shared pool (--size)", () -> ctx.blobs().limitBytes());
        m.gauge("vineyard_memory_deferred_bytes", "Bytes of deleted blobs still held by a reader, freed at their release",
                () -> ctx.locked(() -> ctx.blobs().deferredBytes()));
        m.gauge("vineyard_deferred_frees", "Deleted blobs still held by a reader", () -> ctx.locked(() -> ctx.blobs().deferredFrees()));
        m.gauge("vineyard_objects", "Metadata objects (blobs not included)", () -> ctx.locked(() -> ctx.meta().objectCount()));
        m.gauge("vineyard_blobs", "Visible blobs", () -> ctx.locked(() -> ctx.blobs().visibleBlobs().size()));
        m.gauge("vineyard_names", "Names bound to objects", () -> ctx.locked(() -> ctx.meta().nameCount()));
        m.gauge("vineyard_connections", "Open client connections, by transport", "transport", out -> {
            out.accept("ipc", ctx.ipcConnections());
            out.accept("rpc", ctx.rpcConnections());
        });
        m.counterOf("vineyard_connections_accepted", "Client connections accepted since start, by transport", "transport", out -> {
            out.accept("ipc", ctx.connectionsAccepted(false));
            out.accept("rpc", ctx.connectionsAccepted(true));
        });
        m.gauge("vineyard_deferred_requests", "Requests parked until an object or name appears (instance_status deferred_requests)",
                () -> ctx.locked(ctx::deferredRequests));
        m.counterOf("vineyard_unexpected_errors", "Requests that failed on a daemon bug (answered UnknownError)", ctx::unexpectedErrors);
        m.gauge("vineyard_streams", "Streams the daemon keeps", () -> ctx.locked(() -> ctx.streams().usage().streams()));
        m.gauge("vineyard_stream_bytes", "Bytes of the chunks streams hold (queued, being written, being read)",
                () -> ctx.locked(() -> ctx.streams().usage().bytes()));
        m.gauge("vineyard_stream_peak_bytes", "The most bytes stream chunks held at once since start",
                () -> ctx.locked(() -> ctx.streams().usage().peakBytes()));
        m.gauge("vineyard_stream_threshold_bytes", "Stream memory a writer may fill before it waits (--stream_threshold)",
                () -> ctx.streams().thresholdBytes());
        m.gauge("vineyard_spilled_bytes", "Bytes of blobs whose payload is in a --spill_path file now",
                () -> ctx.locked(() -> ctx.blobs().spilledBytes()));
        m.counterOf("vineyard_spilled_blobs", "Blobs spilled to --spill_path since start", () -> ctx.spiller().stats().spills());
        m.counterOf("vineyard_reloaded_blobs", "Spilled blobs read back into the pool since start", () -> ctx.spiller().stats().reloads());
        m.gauge("vineyard_start_time_seconds", "When the daemon started, in seconds since the epoch", () -> ctx.startMs() / 1000.0);
    }
}
