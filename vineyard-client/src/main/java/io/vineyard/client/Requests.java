package io.vineyard.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vineyard.common.Json;
import io.vineyard.common.VineyardException;

/** Request frames and the error wrapping every client request shares. */
final class Requests {
    private Requests() {
    }

    /** A request of {@code type}. */
    static ObjectNode of(String type) {
        ObjectNode r = Json.object();
        r.put("type", type);
        return r;
    }

    /** Sends a request; a daemon error becomes the typed exception, its message prefixed with {@code what}. */
    static ObjectNode call(IpcConnection conn, String what, ObjectNode request) {
        try {
            return conn.request(request);
        } catch (VineyardException e) {
            throw wrap(what, e);
        }
    }

    /** {@code e} with its message prefixed by {@code what}, same status, {@code e} as the cause. */
    static VineyardException wrap(String what, VineyardException e) {
        VineyardException w = VineyardException.of(e.status(), what + ": " + e.getMessage());
        w.initCause(e);
        return w;
    }

    /** Puts {@code ids} in vineyard's legacy list encoding: {@code "num": n, "0": id0, "1": id1, ...}. */
    static ObjectNode putLegacyIds(ObjectNode request, long[] ids) {
        request.put("num", ids.length);
        for (int i = 0; i < ids.length; i++) {
            request.set(Integer.toString(i), Json.u64(ids[i]));
        }
        return request;
    }

    /** A JSON array of u64 ids. */
    static ArrayNode idArray(long[] ids) {
        ArrayNode arr = Json.NODES.arrayNode();
        for (long id : ids) {
            arr.add(Json.u64(id));
        }
        return arr;
    }

    /** The {@code object_id}s of a reply's payload list. */
    static long[] payloadIds(JsonNode payloads) {
        long[] ids = new long[payloads == null ? 0 : payloads.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = Json.readU64(payloads.get(i).get("object_id"), "object_id");
        }
        return ids;
    }
}
