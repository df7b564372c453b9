package io.vineyard.server.handler;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.ObjectIds;
import io.vineyard.server.daemon.DaemonContext;
import io.vineyard.server.protocol.Fields;
import io.vineyard.server.protocol.Handler;
import io.vineyard.server.protocol.HandlerGroup;
import io.vineyard.server.protocol.Peer;
import io.vineyard.server.protocol.Replies;
import io.vineyard.server.store.Blob;
import io.vineyard.common.VineyardException;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Explicit memory control (spec 1.6, "spill"), in vineyard's request shapes: {@code evict},
 * {@code load} (with {@code pin}), {@code unpin}, {@code is_spilled}, {@code is_in_use}. Unlike
 * vineyard's, every one replies. An id may name a blob or an object (then: every blob in it).
 */
public final class SpillHandlers implements HandlerGroup {
    private final DaemonContext ctx;

    public SpillHandlers(DaemonContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Map<String, Handler> handlers() {
        return Map.of(
                "evict_request", this::evict,
                "load_request", this::load,
                "unpin_request", this::unpin,
                "is_spilled_request", (peer, req) -> peer.send(Replies.reply("is_spilled_reply")
                        .put("is_spilled", any(Fields.u64(req, "id"), Blob::spilled))),
                "is_in_use_request", (peer, req) -> {
                    long id = Fields.u64(req, "id");
                    peer.send(Replies.reply("is_in_use_reply").put("is_in_use", any(id, b -> ctx.blobs().isInUse(b.id()))));
                });
    }

    /**
     * {@code evict_request {ids}}: spills the blobs of the objects now. Fails, spilling nothing, when one
     * is held by a connection or pinned; {@code evicted} counts the blobs spilled.
     */
    private void evict(Peer peer, ObjectNode req) {
        long[] ids = Fields.idArray(req, "ids");
        int n = ctx.spiller().evict(ctx.locked(() -> blobsOf(ids)));
        peer.send(Replies.reply("evict_reply").put("evicted", n));
    }

    /** {@code load_request {ids, pin}}: reloads the blobs of the objects; with {@code pin} they stay in memory. */
    private void load(Peer peer, ObjectNode req) {
        long[] ids = Fields.idArray(req, "ids");
        boolean pin = Fields.bool(req, "pin", false);
        ctx.spiller().load(ctx.locked(() -> blobsOf(ids)), pin, peer.holdings().blobs());
        peer.send(Replies.reply("load_reply"));
    }

    /** {@code unpin_request {ids}}: the blobs may be spilled again. */
    private void unpin(Peer peer, ObjectNode req) {
        long[] ids = Fields.idArray(req, "ids");
        ctx.lockedRun(() -> blobsOf(ids).forEach(ctx.blobs()::unpin));
        peer.send(Replies.reply("unpin_reply"));
    }

    /** True when {@code test} holds for a blob of {@code id}; false for an unknown id (as vineyard answers). */
    private boolean any(long id, Predicate<Blob> test) {
        return ctx.locked(() -> {
            try {
                return blobsOf(new long[] {id}).stream().anyMatch(test);
            } catch (VineyardException.ObjectNotExists e) {
                return false;
            }
        });
    }

    /** The visible pool blobs of {@code ids} (blobs or objects), under the lock. */
    private List<Blob> blobsOf(long[] ids) {
        Set<Blob> out = new LinkedHashSet<>();
        for (long id : ids) {
            List<Long> blobIds = new ArrayList<>();
            if (ObjectIds.isBlob(id)) {
                blobIds.add(id);
            } else {
                ObjectNode tree = ctx.meta().get(id);
                if (tree == null) {
                    throw new VineyardException.ObjectNotExists("object " + ObjectIds.toText(id) + " does not exist");
                }
                ObjectHandlers.collectBlobIds(tree, blobIds);
            }
            for (long b : blobIds) {
                Blob blob = ctx.blobs().find(b);
                if (blob == null) {
                    throw new VineyardException.ObjectNotExists("blob " + ObjectIds.toText(b) + " does not exist");
                }
                if (b != ObjectIds.EMPTY_BLOB_ID) {
                    out.add(blob);
                }
            }
        }
        return new ArrayList<>(out);
    }
}
