package io.vineyard.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.common.Json;
import io.vineyard.common.ObjectIds;
import io.vineyard.common.VineyardException;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * vineyard 0.24's own requests, as its C++ client sends them (see {@code shared/compat/transcripts}):
 * the path against a daemon that advertises no extensions.
 *
 * <pre>
 *   put:     seal_request per blob (all in one round trip) -> create_data_request per new object,
 *            members first -> persist_request + put_name_request (one round trip)
 *            -> release_request per blob (queued: no round trip)
 *   get:     [get_name_request] -> get_data_request -> get_buffers_request (IPC; fds follow)
 *   release: release_request per blob, queued in front of the next request, replies read and dropped
 * </pre>
 *
 * A put that fails half-way undoes itself: the objects it created are deleted, one request each,
 * parents first, {@code deep:false}; the client then drops the put's blobs ({@code drop_buffer}, which frees sealed
 * blobs too).
 */
final class StandardProtocol implements ObjectProtocol {
    private final IpcConnection conn;

    StandardProtocol(IpcConnection conn) {
        this.conn = conn;
    }

    @Override
    public Created create(String what, ObjectMeta meta, List<ObjectId> blobs, boolean blobsSealed, boolean persist,
                          String name) {
        List<ObjectMeta> created = new ArrayList<>();
        Created top;
        try {
            if (!blobsSealed && !blobs.isEmpty()) {
                List<ObjectNode> seals = new ArrayList<>();
                for (ObjectId id : blobs) {
                    ObjectNode seal = Requests.of("seal_request");
                    seal.set("object_id", Json.u64(id.value()));
                    seals.add(seal);
                }
                all(what + ": seal " + blobs.size() + " blobs", seals);
            }
            top = createTree(what, meta, created);
            List<ObjectNode> finish = new ArrayList<>();
            if (persist) {
                ObjectNode r = Requests.of("persist_request");
                r.set("id", Json.u64(top.id().value()));
                finish.add(r);
            }
            if (name != null) {
                ObjectNode r = Requests.of("put_name_request");
                r.set("object_id", Json.u64(top.id().value()));
                r.put("name", name);
                finish.add(r);
            }
            if (!finish.isEmpty()) {
                all(what + (name != null ? ": persist and name" : ": persist"), finish);
            }
        } catch (RuntimeException e) {
            undo(created, e);
            throw e;
        }
        release(blobs.stream().mapToLong(ObjectId::value).toArray());
        return top;
    }

    /** Sends {@code requests} in one round trip ({@link IpcConnection#requestAll}); errors as {@link Requests#call}. */
    private void all(String what, List<ObjectNode> requests) {
        try {
            conn.requestAll(requests);
        } catch (VineyardException e) {
            throw Requests.wrap(what, e);
        }
    }

    /**
     * Creates {@code node}'s members that have no id (depth first), then {@code node}; each created node
     * gets its id, signature and instance id, so its parent's {@code create_data} names it as vineyard's
     * clients do (the full member tree, with id and signature).
     */
    private Created createTree(String what, ObjectMeta node, List<ObjectMeta> created) {
        for (ObjectMeta member : node.members().values()) {
            if (!member.isBlob() && !member.isPlaceholder() && member.id() == null) {
                createTree(what, member, created);
            }
        }
        ObjectNode r = Requests.of("create_data_request");
        r.set("content", node.toJson());
        Created c = Created.of(Requests.call(conn, what + ": create " + node.what(), r), -1);
        node.setId(c.id());
        created.add(node);
        if (c.signature() != null) {
            node.putNode("signature", c.signature());
        }
        if (c.instanceId() >= 0) {
            node.put("instance_id", c.instanceId());
        }
        return c;
    }

    /**
     * Deletes the objects a failed put created (and forgets the ids it gave the tree's nodes); the
     * client drops the put's blobs. A failure to undo joins {@code cause}.
     */
    private void undo(List<ObjectMeta> created, RuntimeException cause) {
        for (int i = created.size() - 1; i >= 0; i--) {   // parents first: each is unreferenced at its turn
            ObjectMeta node = created.get(i);
            ObjectNode del = Requests.of("del_data_request");
            del.putArray("id").add(Json.u64(node.id().value()));
            del.put("force", false);
            del.put("deep", false);
            del.put("fastpath", false);
            del.put("memory_trim", false);
            node.remove("id").remove("signature");
            try {
                conn.request(del);
            } catch (RuntimeException e) {
                cause.addSuppressed(e);
                return;
            }
        }
    }

    @Override
    public Fetched fetch(Target target, boolean payloads) {
        String what = target.what();
        ObjectId id = target.id();
        if (id == null) {
            ObjectNode r = Requests.of("get_name_request");
            r.put("name", target.name());
            r.put("wait", false);
            id = new ObjectId(Json.readU64(Requests.call(conn, what, r).get("object_id"), "object_id"));
        }
        ObjectMeta meta = id.isBlob() ? null : getData(what, id);
        long[] blobIds = meta == null ? new long[] {id.value()} : meta.blobIds();
        if (!payloads || blobIds.length == 0 || blobIds.length == 1 && blobIds[0] == ObjectIds.EMPTY_BLOB_ID) {
            return new Fetched(meta != null ? meta : ObjectMeta.blobEntry(id, 0, -1), List.of(), new long[0]);
        }
        ObjectNode r = Requests.putLegacyIds(Requests.of("get_buffers_request"), blobIds);
        r.put("unsafe", false);
        ObjectNode reply = Requests.call(conn, what, r);
        List<JsonNode> list = new ArrayList<>();
        reply.path("payloads").forEach(list::add);
        long[] held = Requests.payloadIds(reply.get("payloads"));
        if (meta == null) {
            if (list.isEmpty()) {
                throw new VineyardException.ObjectNotExists(what + ": get_buffers: blob " + id + " does not exist");
            }
            meta = ObjectMeta.blobEntry(id, list.get(0).path("data_size").asLong(), -1);
        } else {
            fillBlobSizes(meta, list);
        }
        return new Fetched(meta, list, held);
    }

    private ObjectMeta getData(String what, ObjectId id) {
        ObjectNode r = Requests.of("get_data_request");
        r.putArray("id").add(Json.u64(id.value()));
        r.put("sync_remote", false);
        r.put("wait", false);
        JsonNode content = Requests.call(conn, what, r).path("content").get(id.toString());
        if (content == null || !content.isObject()) {
            throw new VineyardException.ObjectNotExists(what + ": get_data: object " + id + " does not exist");
        }
        ObjectMeta meta = ObjectMeta.fromJson(content);
        if (meta.id() == null) {
            meta.setId(id);
        }
        return meta;
    }

    /**
     * Sets the {@code length}/{@code nbytes} of the tree's blob entries from their payloads: vineyard's
     * {@code get_data} reports 0 for both (its clients take sizes from {@code get_buffers}).
     */
    static void fillBlobSizes(ObjectMeta meta, List<JsonNode> payloads) {
        Map<ObjectId, Long> sizes = new HashMap<>();
        for (JsonNode p : payloads) {
            sizes.put(new ObjectId(Json.readU64(p.get("object_id"), "object_id")), p.path("data_size").asLong());
        }
        for (ObjectMeta b : meta.walk()) {
            Long size = b.isBlob() ? sizes.get(b.id()) : null;
            if (size != null) {
                b.put("length", size).put("nbytes", size);
            }
        }
    }

    @Override
    public void release(long[] blobIds) {
        for (long id : blobIds) {
            if (id == ObjectIds.EMPTY_BLOB_ID) {
                continue;
            }
            ObjectNode r = Requests.of("release_request");
            r.set("object_id", Json.u64(id));
            conn.sendDeferred(r, true);
        }
    }

    @Override
    public String name() {
        return "standard";
    }
}
