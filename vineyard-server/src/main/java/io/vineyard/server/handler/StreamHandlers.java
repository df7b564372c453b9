package io.vineyard.server.handler;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.Json;
import io.vineyard.common.Status;
import io.vineyard.common.VineyardException;
import io.vineyard.server.daemon.DaemonContext;
import io.vineyard.server.protocol.Fields;
import io.vineyard.server.protocol.Handler;
import io.vineyard.server.protocol.HandlerGroup;
import io.vineyard.server.protocol.Peer;
import io.vineyard.server.protocol.Replies;
import io.vineyard.server.store.Blob;
import io.vineyard.server.store.BlobLinks;
import io.vineyard.server.stream.StreamStore;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Stream requests (spec 5), in vineyard's shapes. A request that must wait (a pull with nothing
 * queued, a write while stream memory is full) parks its connection's thread until the stream
 * changes, as vineyard defers its reply. Ours beyond vineyard: a writer may name {@code timeout_ms}
 * in {@code get_next_stream_chunk} / {@code push_next_stream_chunk} to get NotEnoughMemory after that
 * long instead of waiting for the reader without end.
 */
public final class StreamHandlers implements HandlerGroup {
    private final DaemonContext ctx;

    public StreamHandlers(DaemonContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Map<String, Handler> handlers() {
        return Map.of(
                "create_stream_request", this::create,
                "open_stream_request", this::open,
                "get_next_stream_chunk_request", this::getNext,
                "push_next_stream_chunk_request", this::push,
                "pull_next_stream_chunk_request", this::pull,
                "stop_stream_request", this::stop,
                "drop_stream_request", this::drop);
    }

    private StreamStore streams() {
        return ctx.streams();
    }

    private void create(Peer peer, ObjectNode req) {
        long id = Fields.u64(req, "object_id");
        ctx.lockedRun(() -> streams().create(id));
        peer.send(Replies.reply("create_stream_reply"));
    }

    private void open(Peer peer, ObjectNode req) {
        long id = Fields.u64(req, "object_id");
        long mode = Fields.u64(req, "mode");
        ctx.lockedRun(() -> {
            streams().open(id, mode, peer.holdings().blobs());
            peer.holdings().touchStream(id);
        });
        peer.send(Replies.reply("open_stream_reply"));
    }

    private void getNext(Peer peer, ObjectNode req) {
        long id = Fields.u64(req, "id");
        long size = Fields.u64(req, "size");
        BlobLinks links = peer.holdings().blobs();
        ctx.spiller().makeRoomFor(size); // a full pool spills for a stream chunk too
        BlobReplies out = waitFor(id, deadline(req), peer, true,
                () -> describe(peer, streams().beginNextChunk(id, size, links)),
                () -> describe(peer, streams().retryAllocate(id, size, links)));
        if (out == null) {
            return; // the writer went away while it waited
        }
        ObjectNode r = Replies.reply("get_next_stream_chunk_reply");
        r.set("buffer", out.payloads.get(0));
        r.put("fd", out.singleFd());
        out.send(peer, r);
    }

    /** The reply's description of a new chunk (under the store lock), or null while there is none. */
    private BlobReplies describe(Peer peer, Blob chunk) {
        return chunk == null ? null : BlobReplies.of(ctx.blobs(), List.of(chunk), peer);
    }

    private void push(Peer peer, ObjectNode req) {
        long id = Fields.u64(req, "id");
        long chunk = Fields.u64(req, "chunk");
        BlobLinks links = peer.holdings().blobs();
        Boolean done = waitFor(id, deadline(req), peer, true,
                () -> streams().beginPush(id, chunk, links) ? Boolean.TRUE : null,
                () -> streams().retryPush(id, chunk) ? Boolean.TRUE : null);
        if (done != null) {
            peer.send(Replies.reply("push_next_stream_chunk_reply"));
        }
    }

    private void pull(Peer peer, ObjectNode req) {
        long id = Fields.u64(req, "id");
        BlobLinks links = peer.holdings().blobs();
        StreamStore.Pulled p = waitFor(id, DaemonContext.noDeadline(), peer, false,
                () -> streams().beginPull(id, links), () -> streams().retryPull(id));
        if (p != null) {
            ObjectNode r = Replies.reply("pull_next_stream_chunk_reply");
            r.set("chunk", Json.u64(p.chunk()));
            peer.send(r);
        }
    }

    /**
     * Runs {@code begin} (the request's first step, which records the stream on the connection) and then,
     * each time the stream or stream memory changes, {@code retry}, until one gives a value; all under
     * the store lock. Null when the peer went away; NotEnoughMemory when a writer's deadline passed.
     */
    private <T> T waitFor(long id, long deadline, Peer peer, boolean writer, Supplier<T> begin, Supplier<T> retry) {
        boolean[] started = {false};
        Supplier<T> attempt = () -> {
            if (started[0]) {
                return retry.get();
            }
            started[0] = true;
            peer.holdings().touchStream(id);
            return begin.get();
        };
        T value = ctx.await(attempt, StreamStore.waitKeys(id), deadline, peer::gone);
        if (value != null) {
            return value;
        }
        ctx.lockedRun(() -> {
            if (writer) {
                streams().cancelWriterWait(id);
            } else {
                streams().cancelReaderWait(id);
            }
        });
        if (peer.gone()) {
            return null;
        }
        if (System.nanoTime() - deadline >= 0) {
            StreamStore.Usage u = ctx.locked(() -> streams().usage());
            throw new VineyardException.NotEnoughMemory("stream memory stayed at " + u.bytes() + " of the "
                    + u.thresholdBytes() + " bytes --stream_threshold allows until the writer's timeout_ms passed");
        }
        throw new VineyardException(Status.ALREADY_STOPPED, "vineyardd is shutting down");
    }

    private static long deadline(ObjectNode req) {
        long ms = Fields.u64(req, "timeout_ms", -1);
        return ms < 0 ? DaemonContext.noDeadline() : System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
    }

    private void stop(Peer peer, ObjectNode req) {
        long id = Fields.u64(req, "id");
        boolean failed = Fields.bool(req, "failed", false);
        ctx.lockedRun(() -> streams().stop(id, failed, peer.holdings().blobs()));
        peer.send(Replies.reply("stop_stream_reply"));
    }

    private void drop(Peer peer, ObjectNode req) {
        long id = Fields.u64(req, "id");
        ctx.lockedRun(() -> streams().drop(id, peer.holdings().blobs()));
        peer.send(Replies.reply("drop_stream_reply"));
    }
}
