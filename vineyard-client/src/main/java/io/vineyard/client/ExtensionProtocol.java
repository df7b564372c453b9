package io.vineyard.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.client.meta.ObjectMeta;
import io.vineyard.common.Json;

import java.util.ArrayList;
import java.util.List;

/**
 * Our extension requests (README, "Extensions"), used when the daemon advertises them: a put is one
 * {@code put_object} (seal + create the whole tree + persist + name + release, atomic on the daemon),
 * a get one {@code get_object} (metadata and every blob's payload), a release one one-way
 * {@code release_buffers} frame.
 */
final class ExtensionProtocol implements ObjectProtocol {
    private final IpcConnection conn;

    ExtensionProtocol(IpcConnection conn) {
        this.conn = conn;
    }

    @Override
    public Created create(String what, ObjectMeta meta, List<ObjectId> blobs, boolean blobsSealed, boolean persist,
                          String name) {
        ObjectNode r = Requests.of("put_object_request");
        ArrayNode seal = r.putArray("seal");   // sealing an RPC upload again changes nothing; it is released
        blobs.forEach(id -> seal.add(Json.u64(id.value())));
        r.set("content", meta.toJson());
        r.put("persist", persist);
        if (name != null) {
            r.put("name", name);
        }
        r.put("release", true);
        return Created.of(Requests.call(conn, what, r), -1);
    }

    @Override
    public Fetched fetch(Target target, boolean payloads) {
        ObjectNode r = Requests.of("get_object_request");
        if (target.id() != null) {
            r.set("id", Json.u64(target.id().value()));
        } else {
            r.put("name", target.name());
        }
        ObjectNode reply = Requests.call(conn, target.what(), r);
        JsonNode list = reply.get("payloads");
        ObjectMeta meta = ObjectMeta.fromJson(reply.get("content"));
        if (meta.id() == null) {
            meta.setId(new ObjectId(Json.readU64(reply.get("id"), "id")));
        }
        List<JsonNode> out = new ArrayList<>();
        if (list != null) {
            list.forEach(out::add);
        }
        return new Fetched(meta, out, Requests.payloadIds(list));
    }

    @Override
    public void release(long[] blobIds) {
        if (blobIds.length == 0) {
            return;
        }
        ObjectNode r = Requests.of("release_buffers_request");
        r.set("ids", Requests.idArray(blobIds));
        r.put("reply", false);   // one-way: it rides in front of the next request
        conn.sendDeferred(r);
    }

    @Override
    public String name() {
        return "extensions";
    }
}
