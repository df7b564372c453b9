package io.vineyard.server.handler;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.Json;
import io.vineyard.common.ObjectIds;
import io.vineyard.common.VineyardException;
import io.vineyard.server.daemon.DaemonContext;
import io.vineyard.server.daemon.Waits;
import io.vineyard.server.meta.MetaOp;
import io.vineyard.server.meta.MetaStore;
import io.vineyard.server.protocol.Fields;
import io.vineyard.server.protocol.Handler;
import io.vineyard.server.protocol.HandlerGroup;
import io.vineyard.server.protocol.Peer;
import io.vineyard.server.protocol.Replies;
import io.vineyard.server.store.BlobLinks;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Our extensions (README, "Extensions"): whole objects in one request each. vineyard's clients never
 * send them.
 */
public final class ObjectHandlers implements HandlerGroup {
    private final DaemonContext ctx;

    public ObjectHandlers(DaemonContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Map<String, Handler> handlers() {
        return Map.of(
                "put_object_request", this::putObject,
                "get_object_request", this::getObject,
                "release_buffers_request", this::releaseBuffers);
    }

    /**
     * {@code put_object_request {seal:[blob ids], content:{tree}, persist:bool, name:str, release:bool}}:
     * seals the blobs, creates the metadata, persists and names it, in one request. Nothing changes when
     * the request fails. With {@code release:true} the connection then drops its own holds on the blobs it
     * sealed (what vineyard's builder does after sealing), so deleting the object frees them even while
     * the producer stays connected.
     */
    private void putObject(Peer peer, ObjectNode req) {
        long[] toSeal = req.has("seal") ? Fields.idArray(req, "seal") : new long[0];
        JsonNode content = req.get("content");
        String name = Fields.string(req, "name", null);
        boolean persist = Fields.bool(req, "persist", false) || name != null;
        boolean release = Fields.bool(req, "release", false);
        BlobLinks links = peer.holdings().blobs();
        boolean publish = persist && ctx.shared();
        List<MetaOp> ops = new ArrayList<>();
        MetaStore.Created c = ctx.lockedCatchingUp(() -> {
            for (long id : toSeal) {
                if (!ctx.blobs().exists(id)) {
                    throw new VineyardException.ObjectNotExists("put_object: blob " + ObjectIds.toText(id) + " does not exist");
                }
            }
            MetaStore.Created created = ctx.meta().create(content);
            for (long id : toSeal) {
                ctx.blobs().seal(id, links);
            }
            if (publish) {
                // committed to etcd below, outside the lock; persisted and named here only once it is there
                ops.addAll(ctx.meta().publishOps(created.id()));
                if (name != null) {
                    ops.addAll(MetaStore.namePuts(created.id(), name));
                }
                return created;
            }
            finishPut(created.id(), persist, name, release, toSeal, links);
            return created;
        });
        if (publish) {
            try {
                ctx.commit(ops);
            } catch (RuntimeException e) {
                // all or nothing: the object and the blobs this request sealed go
                ctx.lockedRun(() -> ctx.meta().delete(new long[] {c.id()}, true, false, links, false));
                throw e;
            }
            ctx.lockedRun(() -> {
                ctx.meta().markPublished(c.id());
                finishPut(c.id(), true, name, release, toSeal, links);
            });
        }
        ObjectNode r = Replies.reply("put_object_reply");
        r.set("id", Json.u64(c.id()));
        r.set("signature", Json.u64(c.signature()));
        r.put("instance_id", c.instanceId());
        peer.send(r);
    }

    private void finishPut(long id, boolean persist, String name, boolean release, long[] sealed, BlobLinks links) {
        if (persist) {
            ctx.meta().persist(id);
        }
        if (name != null) {
            ctx.meta().putName(id, name);
        }
        if (release) {
            for (long b : sealed) {
                ctx.blobs().releaseIfHeld(b, links);
            }
        }
    }

    /** What {@code get_object} found: the object and its blobs, described under the lock. */
    private record Found(long id, ObjectNode tree, BlobReplies blobs) {
    }

    /**
     * {@code get_object_request {id | name, wait, unsafe}}: the object's metadata tree and the payloads
     * of every blob in it (held by this connection, as {@code get_buffers} does), with new fds passed
     * after the reply, in one request.
     */
    private void getObject(Peer peer, ObjectNode req) {
        String name = Fields.string(req, "name", null);
        boolean wait = Fields.bool(req, "wait", false);
        boolean unsafe = Fields.bool(req, "unsafe", false);
        long explicitId = name == null ? Fields.u64(req, "id") : 0;
        Supplier<Found> lookup = () -> {
            Long id = name == null ? Long.valueOf(explicitId) : ctx.meta().getName(name);
            ObjectNode tree = id == null ? null : ctx.meta().get(id);
            if (tree == null) {
                return null;
            }
            List<Long> blobIds = new ArrayList<>();
            collectBlobIds(tree, blobIds);
            long[] ids = blobIds.stream().mapToLong(Long::longValue).toArray();
            return new Found(id, tree, BlobReplies.of(ctx.blobs(), ctx.blobs().get(ids, unsafe, peer.holdings().blobs()), peer));
        };
        Found found;
        BlobLinks links = peer.holdings().blobs();
        if (wait) {
            Waits.Key key = name != null ? new Waits.Name(name) : new Waits.ObjectId(explicitId);
            found = ctx.spiller().resident(links, null, () -> ctx.await(lookup, List.of(key), DaemonContext.noDeadline(), peer::gone));
            if (found == null) {
                return; // the peer left or the daemon stops: nobody to answer
            }
        } else {
            found = ctx.spiller().resident(links, null, () -> ctx.locked(lookup));
            if (found == null) {
                throw new VineyardException.ObjectNotExists(name != null ? "failed to find name: " + name
                        : "get_object: object " + ObjectIds.toText(explicitId) + " does not exist");
            }
        }
        ObjectNode r = Replies.reply("get_object_reply");
        r.set("id", Json.u64(found.id()));
        r.set("content", found.tree());
        r.putArray("payloads").addAll(found.blobs().payloads);
        found.blobs().putFds(r, "fds");
        found.blobs().send(peer, r);
    }

    /** Adds the ids of the blobs in a metadata tree to {@code out}. */
    static void collectBlobIds(JsonNode tree, List<Long> out) {
        if ("vineyard::Blob".equals(tree.path("typename").asText()) && tree.has("id")) {
            out.add(Json.readU64(tree.get("id"), "id"));
            return;
        }
        for (JsonNode child : tree) {
            if (child.isObject()) {
                collectBlobIds(child, out);
            }
        }
    }

    /**
     * {@code release_buffers_request {ids:[...], reply:bool}}: drops this connection's holds on many
     * blobs; unknown ids are skipped. With {@code reply:false} it is one-way: nothing is sent back,
     * not even an error, so a client can put it in front of its next request at no cost.
     */
    private void releaseBuffers(Peer peer, ObjectNode req) {
        boolean answer = Fields.bool(req, "reply", true);
        try {
            long[] ids = Fields.idArray(req, "ids");
            ctx.lockedRun(() -> {
                for (long id : ids) {
                    ctx.blobs().releaseIfHeld(id, peer.holdings().blobs());
                }
            });
        } catch (VineyardException e) {
            if (answer) {
                throw e;
            }
            return; // one-way: nobody to tell
        }
        if (answer) {
            peer.send(Replies.reply("release_buffers_reply"));
        }
    }
}
