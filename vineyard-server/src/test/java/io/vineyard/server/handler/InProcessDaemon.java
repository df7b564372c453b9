package io.vineyard.server.handler;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.Json;
import io.vineyard.server.ServerConfig;
import io.vineyard.server.VineyardServer;
import io.vineyard.server.daemon.DaemonContext;
import io.vineyard.server.store.BlobStore;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A daemon's stores and handlers without listeners: requests go straight to the handler table.
 * {@link #close()} ends every peer and then checks the daemon's invariants: no hold outlives its
 * connection, no wait outlives its request, and once everything is deleted the pool is whole again.
 */
final class InProcessDaemon implements AutoCloseable {
    final VineyardServer server;
    final DaemonContext ctx;
    private final List<TestPeer> peers = new ArrayList<>();
    private long nextPeer = 1;

    InProcessDaemon(String... flags) {
        List<String> args = new ArrayList<>(List.of("--size=64Mi", "--socket=/tmp/vineyard-unit-" + ProcessHandle.current().pid() + ".sock"));
        args.addAll(List.of(flags));
        server = new VineyardServer(ServerConfig.parse(args.toArray(String[]::new)));
        ctx = server.context();
    }

    /** A registered connection. */
    TestPeer connect(boolean rpc) {
        TestPeer p = new TestPeer(ctx, nextPeer++, rpc);
        peers.add(p);
        call(p, "{\"type\":\"register_request\",\"version\":\"0.24.4\",\"store_type\":\"Normal\"}");
        return p;
    }

    /** Dispatches one request (JSON text) and returns the reply it sent, or null when it sent none. */
    ObjectNode call(TestPeer peer, String json) {
        ObjectNode req;
        try {
            req = (ObjectNode) Json.MAPPER.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int before = peer.replies.size();
        server.handlers().dispatch(peer, req.get("type").asText(), req);
        return peer.replies.size() > before ? peer.last() : null;
    }

    BlobStore blobs() {
        return ctx.blobs();
    }

    @Override
    public void close() {
        try {
            for (TestPeer p : peers) {
                p.holdings().close();
            }
            ctx.locked(() -> {
                BlobStore b = ctx.blobs();
                assertEquals(0, b.deferredBytes(), "deleted blobs still held after every connection closed");
                assertEquals(0, b.deferredFrees(), "frees still deferred after every connection closed");
                assertEquals(0, ctx.deferredRequests(), "waits outlived their requests");
                ctx.meta().clear(null);
                return null;
            });
            ctx.locked(() -> { // after the deletes' pages were punched out without the lock
                BlobStore b = ctx.blobs();
                assertEquals(0, b.usageBytes(), "usage after deleting everything");
                assertEquals(0, b.spilledBytes(), "spilled bytes after deleting everything");
                assertEquals(b.limitBytes(), b.allocator().freeBytes(), "the pool is whole again");
                return null;
            });
        } finally {
            server.close();
        }
    }
}
