package io.vineyard.server.handler;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.Json;
import io.vineyard.common.ObjectIds;
import io.vineyard.common.VineyardException;
import io.vineyard.server.daemon.DaemonContext;
import io.vineyard.server.daemon.Waits;
import io.vineyard.server.meta.MetaStore;
import io.vineyard.server.protocol.Fields;
import io.vineyard.server.protocol.Handler;
import io.vineyard.server.protocol.HandlerGroup;
import io.vineyard.server.protocol.Peer;
import io.vineyard.server.protocol.Replies;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Metadata requests (spec 1.6): create, get (with wait), list, exists, persist, labels, delete, copy. */
public final class MetadataHandlers implements HandlerGroup {
    private final DaemonContext ctx;

    public MetadataHandlers(DaemonContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Map<String, Handler> handlers() {
        return Map.ofEntries(
                Map.entry("create_data_request", this::createData),
                Map.entry("create_datas_request", this::createDatas),
                Map.entry("get_data_request", this::getData),
                Map.entry("list_data_request", this::listData),
                Map.entry("exists_request", this::exists),
                Map.entry("persist_request", this::persist),
                Map.entry("if_persist_request", this::ifPersist),
                Map.entry("label_request", this::label),
                Map.entry("del_data_request", (p, r) -> deleteData(p, r, false)),
                Map.entry("del_data_with_feedbacks_request", (p, r) -> deleteData(p, r, true)),
                Map.entry("clear_request", this::clear),
                Map.entry("shallow_copy_request", this::shallowCopy));
    }

    private MetaStore meta() {
        return ctx.meta();
    }

    private void createData(Peer peer, ObjectNode req) {
        JsonNode content = req.get("content");
        MetaStore.Created c = ctx.lockedCatchingUp(() -> meta().create(content));
        ctx.publishIfPersistent(c.id());
        ObjectNode r = Replies.reply("create_data_reply");
        r.set("id", Json.u64(c.id()));
        r.set("signature", Json.u64(c.signature()));
        r.put("instance_id", c.instanceId());
        peer.send(r);
    }

    private void createDatas(Peer peer, ObjectNode req) {
        JsonNode contents = req.get("contents");
        if (contents == null || !contents.isArray()) {
            throw new VineyardException.Invalid("create_datas_request needs an array 'contents'");
        }
        List<JsonNode> trees = new ArrayList<>(contents.size());
        contents.forEach(trees::add);
        List<MetaStore.Created> made = ctx.lockedCatchingUp(() -> meta().createAll(trees));
        for (MetaStore.Created c : made) {
            ctx.publishIfPersistent(c.id());
        }
        ObjectNode r = Replies.reply("create_datas_reply");
        r.put("num", made.size());
        ArrayNode ids = r.putArray("ids");
        ArrayNode sigs = r.putArray("signatures");
        ArrayNode insts = r.putArray("instance_ids");
        for (MetaStore.Created c : made) {
            ids.add(Json.u64(c.id()));
            sigs.add(Json.u64(c.signature()));
            insts.add(c.instanceId());
        }
        peer.send(r);
    }

    private void getData(Peer peer, ObjectNode req) {
        long[] ids = Fields.idArray(req, "id");
        boolean wait = Fields.bool(req, "wait", false);
        if (Fields.bool(req, "sync_remote", false)) {
            ctx.backend().syncRemote();
        }
        JsonNode content;
        if (wait) {
            List<Waits.Key> keys = Arrays.stream(ids).distinct().<Waits.Key>mapToObj(Waits.ObjectId::new).toList();
            int distinct = keys.size();
            content = ctx.await(() -> {
                ObjectNode c = collect(ids);
                return c != null && c.size() == distinct ? c : null;
            }, keys, DaemonContext.noDeadline(), peer::gone);
            if (content == null) {
                return; // the peer left or the daemon stops: nobody to answer
            }
        } else {
            content = ctx.locked(() -> collect(ids));
        }
        ObjectNode r = Replies.reply("get_data_reply");
        r.set("content", content == null ? Json.NODES.nullNode() : content);
        peer.send(r);
    }

    /**
     * The trees of the ids that exist, keyed by id text, or null when none does. The invalid id
     * answers vineyard's placeholder blob over the whole pool (vineyard's C++ client asks for it in
     * every {@code SyncMetaData}).
     */
    private ObjectNode collect(long[] ids) {
        ObjectNode content = null;
        for (long id : ids) {
            ObjectNode tree = id == ObjectIds.INVALID_ID ? wholePoolBlob() : meta().get(id);
            if (tree != null) {
                if (content == null) {
                    content = Json.object();
                }
                content.set(ObjectIds.toText(id), tree);
            }
        }
        return content;
    }

    private ObjectNode wholePoolBlob() {
        ObjectNode b = Json.object();
        b.put("id", ObjectIds.toText(ObjectIds.INVALID_ID));
        b.put("instance_id", ctx.instanceId());
        b.put("length", ctx.blobs().limitBytes());
        b.put("nbytes", ctx.blobs().limitBytes());
        b.put("transient", true);
        b.put("typename", "vineyard::Blob");
        return b;
    }

    private void listData(Peer peer, ObjectNode req) {
        String pattern = Fields.string(req, "pattern", "*");
        boolean regex = Fields.bool(req, "regex", false);
        long limit = Fields.u64(req, "limit", 5);
        if (Fields.bool(req, "sync_remote", false)) {
            ctx.backend().syncRemote();
        }
        ObjectNode content = ctx.locked(() -> meta().list(pattern, regex, limit));
        ObjectNode r = Replies.reply("get_data_reply");
        r.set("content", content == null || content.isEmpty() ? Json.NODES.nullNode() : content);
        peer.send(r);
    }

    private void exists(Peer peer, ObjectNode req) {
        long id = Fields.u64(req, "id");
        boolean exists = ctx.locked(() -> ObjectIds.isBlob(id) ? ctx.blobs().exists(id) : meta().exists(id));
        peer.send(Replies.reply("exists_reply").put("exists", exists));
    }

    private void persist(Peer peer, ObjectNode req) {
        long id = Fields.u64(req, "id");
        if (ctx.shared()) {
            // committed to etcd first: when etcd refuses, the object stays transient and nothing changed
            ctx.commit(ctx.locked(() -> meta().publishOps(id)));
            ctx.lockedRun(() -> meta().markPublished(id));
        } else {
            ctx.lockedRun(() -> meta().persist(id));
        }
        peer.send(Replies.reply("persist_reply"));
    }

    private void ifPersist(Peer peer, ObjectNode req) {
        long id = Fields.u64(req, "id");
        boolean persistent = ctx.locked(() -> meta().isPersistent(id));
        peer.send(Replies.reply("if_persist_reply").put("persist", persistent));
    }

    private void label(Peer peer, ObjectNode req) {
        long id = Fields.u64(req, "id");
        List<String> keys = Fields.strings(req, "keys");
        List<String> values = Fields.strings(req, "values");
        if (keys.size() != values.size()) {
            throw new VineyardException.Invalid("label_request: " + keys.size() + " keys but " + values.size() + " values");
        }
        if (ctx.shared()) {
            ctx.commit(ctx.locked(() -> meta().labelOps(id, keys, values)));
        }
        ctx.lockedRun(() -> meta().label(id, keys, values));
        peer.send(Replies.reply("label_reply"));
    }

    private void deleteData(Peer peer, ObjectNode req, boolean feedbacks) {
        long[] ids = Fields.idArray(req, "id");
        boolean force = Fields.bool(req, "force", false);
        boolean deep = Fields.bool(req, "deep", true);
        boolean trim = Fields.bool(req, "memory_trim", false);
        boolean fastpath = Fields.bool(req, "fastpath", false);
        Set<Long> leaving = Set.of();
        if (ctx.shared() && !fastpath) {
            // persisted objects leave etcd first: when etcd refuses, nothing is deleted
            leaving = ctx.locked(() -> meta().beginLeave(ids, force, deep));
            Set<Long> doomed = leaving;
            try {
                ctx.commit(ctx.locked(() -> meta().unpublishOps(doomed)));
            } catch (RuntimeException e) {
                ctx.lockedRun(() -> meta().endLeave(doomed));
                throw e;
            }
        }
        Set<Long> marked = leaving;
        List<Long> deleted = ctx.locked(() -> {
            try {
                return deleteLocally(peer, ids, force, deep, trim, fastpath);
            } finally {
                meta().endLeave(marked);
            }
        });
        if (feedbacks) {
            ObjectNode r = Replies.reply("del_data_with_feedbacks_reply");
            ArrayNode arr = r.putArray("deleted_bids");
            deleted.forEach(id -> arr.add(Json.u64(id)));
            peer.send(r);
        } else {
            peer.send(Replies.reply("del_data_reply"));
        }
    }

    /** The local part of a delete (under the store lock): the blob ids deleted. */
    private List<Long> deleteLocally(Peer peer, long[] ids, boolean force, boolean deep, boolean trim, boolean fastpath) {
        if (fastpath) {
            List<Long> out = new ArrayList<>();
            for (long id : ids) {
                if (ObjectIds.isBlob(id) && ctx.blobs().delete(id, peer.holdings().blobs(), trim)) {
                    out.add(id);
                }
            }
            return out;
        }
        return meta().delete(ids, force, deep, peer.holdings().blobs(), trim);
    }

    private void clear(Peer peer, ObjectNode req) {
        if (ctx.shared()) {
            ctx.commit(ctx.locked(() -> meta().unpublishOps(meta().deleteSet(meta().allIds(), true, true))));
        }
        ctx.locked(() -> meta().clear(peer.holdings().blobs()));
        peer.send(Replies.reply("clear_reply"));
    }

    private void shallowCopy(Peer peer, ObjectNode req) {
        long id = Fields.u64(req, "id");
        JsonNode extra = req.get("extra");
        if (extra != null && !extra.isNull() && !extra.isObject()) {
            throw new VineyardException.Invalid("shallow_copy_request: 'extra' must be an object");
        }
        ObjectNode extraObj = extra != null && extra.isObject() ? (ObjectNode) extra : null;
        long target = ctx.locked(() -> meta().shallowCopy(id, extraObj));
        ctx.publishIfPersistent(target);
        ObjectNode r = Replies.reply("shallow_copy_reply");
        r.set("target_id", Json.u64(target));
        peer.send(r);
    }
}
